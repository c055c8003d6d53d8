package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.LONG;

import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The Bernoulli keep test of §1.9 for {@link Lanes#L} consecutive elements at once:
 * Philox4x32-10 word 0 of counter (i, i >>> 32, m, h) under the key of the seed, then
 * {@code (word0 >>> 8) < bound}. Bit-identical to {@link dev.amalgam.random.BernoulliMask}.
 *
 * <p>Implementation notes. Each 32-bit Philox word lives zero-extended in a 64-bit lane, so the
 * 32×32→64 products are plain 64-bit lane multiplies (no mulhi needed) and hi/lo are a shift and
 * a mask. Round keys are precomputed per instance.
 */
final class PhiloxLanes {

    private static final long MASK = 0xFFFFFFFFL;
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final LongVector IOTA = (LongVector) LONG.iotaShuffle(0, 1, false).toVector();

    private final long[] k0 = new long[10];
    private final long[] k1 = new long[10];
    private final long modelWord;
    private final long nameWord;
    private final long bound;

    PhiloxLanes(long seed, int modelIndex, int nameHash, long bound) {
        int a = (int) seed, b = (int) (seed >>> 32);
        for (int r = 0; r < 10; r++) {
            k0[r] = a & MASK;
            k1[r] = b & MASK;
            a += 0x9E3779B9;
            b += 0xBB67AE85;
        }
        this.modelWord = modelIndex & MASK;
        this.nameWord = nameHash & MASK;
        this.bound = bound;
    }

    /** Keep mask of elements first … first + L − 1. */
    VectorMask<Float> keep(long first) {
        LongVector index = IOTA.add(first);
        LongVector c0 = index.and(MASK);
        LongVector c1 = index.lanewise(VectorOperators.LSHR, 32);
        LongVector c2 = LongVector.broadcast(LONG, modelWord);
        LongVector c3 = LongVector.broadcast(LONG, nameWord);
        for (int r = 0; r < 10; r++) {
            LongVector p0 = c0.mul(M0);
            LongVector p1 = c2.mul(M1);
            c0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0[r]);
            c1 = p1.and(MASK);
            c2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3).lanewise(VectorOperators.XOR, k1[r]);
            c3 = p0.and(MASK);
        }
        // j < 2^24 and bound ≤ 2^24 fit in int lanes; an int mask casts to a float mask for free,
        // a long mask of another shape does not.
        IntVector j = (IntVector) c0.lanewise(VectorOperators.LSHR, 8).convertShape(VectorOperators.L2I, I, 0);
        return j.compare(VectorOperators.LT, (int) bound).cast(F);
    }
}

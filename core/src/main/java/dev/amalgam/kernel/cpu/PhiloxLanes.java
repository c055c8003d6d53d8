package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.HALF;
import static dev.amalgam.kernel.cpu.Lanes.LONG;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The Bernoulli keep test of §1.9 for {@link Lanes#L} consecutive elements at once:
 * Philox4x32-10 word 0 of counter (i, i >>> 32, m, h) under the key of the seed, then
 * {@code (word0 >>> 8) < bound}. Bit-identical to {@link dev.amalgam.random.BernoulliMask}.
 *
 * <p>Implementation notes. Each 32-bit Philox word lives in a 64-bit lane; the L elements of a
 * float vector take two long vectors. Only the low 32 bits of a lane are ever meaningful: both
 * multiplier inputs are masked with {@code 0xFFFFFFFF}, which lets C2 emit one unsigned
 * 32×32→64 multiply (vpmuludq) instead of a full 64-bit one, and the low halves of the products
 * are passed on unmasked (their high garbage only ever meets another mask). Round keys are precomputed per instance. Two shortcuts, both exact: when every lane's counter
 * high word is 0 (every vector of a tensor below 2^32 elements), the first round's second product
 * and the second round's first product are lane-independent scalars computed once; and the last
 * round only needs word 0. Instances are immutable and shared by the workers.
 * {@code (w >>> 8) < bound ⇔ w < bound·2^8} for 32-bit w saves a shift.
 */
final class PhiloxLanes {

    private static final long MASK = 0xFFFFFFFFL;
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final long[] IOTA = new long[HALF];

    static {
        for (int j = 0; j < HALF; j++) IOTA[j] = j;
    }

    private final long[] k0 = new long[10];
    private final long[] k1 = new long[10];
    private final long modelWord;
    private final long nameWord;
    private final long limit;

    /** Scalars of rounds 1–2 for counter high word 0 (see the class notes). */
    private final long round1Word1;
    private final long round2Word2Part;
    private final long round2Word3;

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
        this.limit = bound << 8;
        long p1 = M1 * modelWord;
        long round1Word0 = ((p1 >>> 32) ^ k0[0]) & MASK;
        round1Word1 = p1 & MASK;
        long p0 = M0 * round1Word0;
        round2Word2Part = (p0 >>> 32) ^ k1[1];
        round2Word3 = p0 & MASK;
    }

    /** Keep bits (bit j: element first + j is kept) of elements first … first + L − 1. */
    long keepBits(long first) {
        return half(first) | half(first + HALF) << HALF;
    }

    /** Keep bits of elements first … first + HALF − 1 (one long vector). */
    private long half(long first) {
        if ((first + HALF - 1) >>> 32 != 0) return halfGeneral(first);
        // The multipliers as vectors with visibly clear high halves: with both inputs masked, C2
        // multiplies with vpmuludq (1 µop) instead of vpmullq (3 µops) — about a third faster.
        LongVector m0 = LongVector.broadcast(LONG, M0).and(MASK);
        LongVector m1 = LongVector.broadcast(LONG, M1).and(MASK);
        // Round 1: c1 = 0, c2 = modelWord, c3 = nameWord are scalars, so p1 and words 0, 1 are too.
        LongVector c0 = LongVector.fromArray(LONG, IOTA, 0).add(first);
        LongVector p0 = c0.and(MASK).mul(m0);
        LongVector c2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, nameWord ^ k1[0]);
        LongVector c3 = p0;
        // Round 2: word 0 is a scalar, so p0 is too.
        LongVector p1 = c2.and(MASK).mul(m1);
        c0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, round1Word1 ^ k0[1]);
        LongVector c1 = p1;
        c2 = c3.lanewise(VectorOperators.XOR, round2Word2Part);
        c3 = LongVector.broadcast(LONG, round2Word3);
        // Rounds 3 … 9 (written out here, not in a shared method: vectors must not cross calls).
        for (int r = 2; r < 9; r++) {
            LongVector q0 = c0.and(MASK).mul(m0);
            LongVector q1 = c2.and(MASK).mul(m1);
            c0 = q1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0[r]);
            c1 = q1;
            c2 = q0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3).lanewise(VectorOperators.XOR, k1[r]);
            c3 = q0;
        }
        LongVector last = c2.and(MASK).mul(m1);
        LongVector word0 = last.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0[9]);
        return word0.and(MASK).compare(VectorOperators.LT, limit).toLong();
    }

    /** All ten rounds lane by lane (a vector whose counters straddle a multiple of 2^32). */
    private long halfGeneral(long first) {
        LongVector m0 = LongVector.broadcast(LONG, M0).and(MASK);
        LongVector m1 = LongVector.broadcast(LONG, M1).and(MASK);
        LongVector index = LongVector.fromArray(LONG, IOTA, 0).add(first);
        LongVector c0 = index.and(MASK);
        LongVector c1 = index.lanewise(VectorOperators.LSHR, 32);
        LongVector c2 = LongVector.broadcast(LONG, modelWord);
        LongVector c3 = LongVector.broadcast(LONG, nameWord);
        for (int r = 0; r < 9; r++) {
            LongVector p0 = c0.and(MASK).mul(m0);
            LongVector p1 = c2.and(MASK).mul(m1);
            c0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0[r]);
            c1 = p1;
            c2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3).lanewise(VectorOperators.XOR, k1[r]);
            c3 = p0;
        }
        LongVector last = c2.and(MASK).mul(m1);
        LongVector word0 = last.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1).lanewise(VectorOperators.XOR, k0[9]);
        return word0.and(MASK).compare(VectorOperators.LT, limit).toLong();
    }
}

package dev.amalgam.kernel.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species of the fast CPU kernels: {@link #L} float lanes in the preferred (widest)
 * shape, and double and long vectors of the same shape with {@link #HALF} = L/2 lanes, so that a
 * float vector widens to exactly two double vectors (election sum, rescale, L1 sums) and its
 * Philox counters fill two long vectors.
 *
 * <p>Implementation notes. L = 16 with AVX-512, 8 with AVX2. Lane decisions travel as the low L
 * bits of a {@code long}. The blocked L1 order ({@link dev.amalgam.kernel.BlockedL1Sum}, 8
 * interleaved partial sums) maps onto one 8-lane double accumulator that takes both halves in
 * turn (L = 16) or onto two 4-lane accumulators, one per half (L = 8); other shapes are not
 * supported and {@link #unsupportedReason()} says so before the backend is opened. Vector or mask
 * constants never live in static fields: C2 cannot scalarize a loop phi that merges a constant
 * object with computed vectors, and would box every iteration.
 */
final class Lanes {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final int HALF = L / 2;
    static final VectorSpecies<Double> D = VectorSpecies.of(double.class, F.vectorShape());
    static final VectorSpecies<Long> LONG = VectorSpecies.of(long.class, F.vectorShape());
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));

    private Lanes() {
    }

    /**
     * {@link dev.amalgam.kernel.MagnitudeKey#of} lane by lane: the bits with the sign cleared,
     * every NaN made the one NaN key.
     */
    static IntVector magnitudeKey(FloatVector x) {
        IntVector key = x.reinterpretAsInts().and(0x7FFFFFFF);
        return key.blend(dev.amalgam.kernel.MagnitudeKey.NAN_KEY, key.compare(VectorOperators.GT, 0x7F800000));
    }

    /** Null if usable, else why not. */
    static String unsupportedReason() {
        if (L != 8 && L != 16) return "preferred float vector has " + L + " lanes; the fast kernels need 8 or 16";
        if (D.length() != HALF || LONG.length() != HALF || I.length() != L || S.length() != L) {
            return "no vector shapes with " + L + " int and short lanes and " + HALF + " double and long lanes";
        }
        return null;
    }

    static String describe() {
        return L + " float lanes (" + F.vectorBitSize() + "-bit vectors)";
    }
}

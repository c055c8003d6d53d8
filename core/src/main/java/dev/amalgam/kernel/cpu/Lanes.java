package dev.amalgam.kernel.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species of the fast CPU kernels: one lane count {@link #L} for every element type,
 * so that a float lane, its double widening (election sum, rescale) and its 64-bit Philox state
 * stay in the same lane without shuffles.
 *
 * <p>Implementation notes. L = lanes of the preferred double vector (8 with AVX-512, 4 with
 * AVX2); floats and ints use half that shape, shorts a quarter. The kernels need L to divide 8
 * (the lane count of {@link dev.amalgam.kernel.BlockedL1Sum}); {@link #supported()} says so
 * before the backend is opened.
 */
final class Lanes {

    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final int L = D.length();
    static final VectorSpecies<Long> LONG = VectorSpecies.of(long.class, D.vectorShape());
    static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(Math.max(64, L * 16)));

    // No vector or mask constants in static fields: C2 cannot scalarize a loop phi that merges a
    // constant object with computed vectors, and would box every iteration. Make them locally.

    static FloatVector zero() {
        return FloatVector.zero(F);
    }

    static IntVector intZero() {
        return IntVector.zero(I);
    }

    static VectorMask<Float> all() {
        return F.maskAll(true);
    }

    static VectorMask<Float> none() {
        return F.maskAll(false);
    }

    private Lanes() {
    }

    /** Null if usable, else why not. */
    static String unsupportedReason() {
        if (L != 4 && L != 8) return "preferred double vector has " + L + " lanes; the fast kernels need 4 or 8";
        if (F.length() != L || I.length() != L || S.length() != L || LONG.length() != L) {
            return "no vector shapes with " + L + " float, short and long lanes";
        }
        return null;
    }

    static boolean supported() {
        return unsupportedReason() == null;
    }

    /** Lanes [0, len − i) of the vector at i are valid. */
    static VectorMask<Float> valid(int i, int len) {
        // fromLong is an intrinsic everywhere; indexInRange falls back to Java (and allocates) in
        // some of our loops.
        int r = len - i;
        return VectorMask.fromLong(F, r >= L ? -1L : (1L << r) - 1);
    }

    /** Element count rounded up to whole vectors. */
    static int roundUp(int len) {
        return (len + L - 1) / L * L;
    }

    static String describe() {
        return L + " lanes (" + D.vectorBitSize() + "-bit double, " + F.vectorBitSize() + "-bit float vectors)";
    }
}

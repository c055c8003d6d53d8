package dev.amalgam.kernel;

import dev.amalgam.random.BernoulliMask;

/**
 * The vectors DELLA ranks magnitudes in (spec §8, mergekit's {@code dim=1}): a 0-D or 1-D tensor
 * is one vector; a tensor of shape [d0, d1, rest…] has d0·Π rest vectors of length d1, vector
 * (o, q) holding flat elements (o·d1 + p)·inner + q, p = 0..d1−1, inner = Π rest (so a 2-D tensor's
 * vectors are its rows). Vector v = o·inner + q.
 *
 * @param outer  d0 (1 below 2-D)
 * @param length d1 (n below 2-D)
 * @param inner  Π of the dimensions after 1 (1 below 3-D)
 */
public record DellaRows(long outer, long length, long inner) {

    /** The vectors of a tensor of this shape. */
    public static DellaRows of(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        if (shape.length < 2) return new DellaRows(1, n, 1);
        long inner = 1;
        for (int k = 2; k < shape.length; k++) inner *= shape[k];
        return new DellaRows(shape[0], shape[1], inner);
    }

    /** Number of vectors (0 when the tensor is empty). */
    public long count() {
        return length == 0 ? 0 : outer * inner;
    }

    /** Flat index of position p of vector v. */
    public long index(long v, long p) {
        long o = v / inner, q = v % inner;
        return (o * length + p) * inner + q;
    }

    /** density − ε &gt; 0 and density + ε &lt; 1 (§8), in double. */
    public static boolean windowInside(double density, double epsilon) {
        return density - epsilon > 0 && density + epsilon < 1;
    }

    /**
     * p = (density − ε) + ((rank − 1)/(L − 1))·(2ε) in double, in this order; L = 1 gives the
     * density (mergekit: 0/0 = NaN).
     */
    public static double probability(long rank, long length, double density, double epsilon) {
        if (length <= 1) return density;
        return (density - epsilon) + ((double) (rank - 1) / (double) (length - 1)) * (2 * epsilon);
    }

    /** The integer keep bound of §1.9 for a rank: keep iff the 24-bit draw is below it. */
    public static long keepBound(long rank, long length, double density, double epsilon) {
        return BernoulliMask.keepBound(probability(rank, length, density, epsilon));
    }
}

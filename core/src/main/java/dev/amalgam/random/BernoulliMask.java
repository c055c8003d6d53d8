package dev.amalgam.random;

/**
 * The keyed Bernoulli draw of the spec (§1.9): element i of model m in tensor h is kept iff
 * {@code (word0 >>> 8) < ceil(p · 2^24)}, the comparison done on integers so that no float
 * rounding can move it.
 */
public final class BernoulliMask {

    private final int k0;
    private final int k1;
    private final int modelIndex;
    private final int nameHash;

    public BernoulliMask(long seed, int modelIndex, int nameHash) {
        this.k0 = (int) seed;
        this.k1 = (int) (seed >>> 32);
        this.modelIndex = modelIndex;
        this.nameHash = nameHash;
    }

    /** ceil(p·2^24) in double, clamped to [0, 2^24]: the integer bound the 24-bit draw is compared with. */
    public static long keepBound(double p) {
        if (!(p > 0)) return 0;
        if (p >= 1) return 1L << 24;
        return (long) Math.ceil(p * 16777216.0);
    }

    /** The 24-bit draw j for element i. */
    public int draw(long i) {
        return Philox4x32.word0((int) i, (int) (i >>> 32), modelIndex, nameHash, k0, k1) >>> 8;
    }

    /** Keep iff j < bound, bound from {@link #keepBound(double)}. */
    public boolean keep(long i, long bound) {
        return draw(i) < bound;
    }
}

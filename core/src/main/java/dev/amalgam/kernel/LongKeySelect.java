package dev.amalgam.kernel;

import java.util.function.LongUnaryOperator;

/**
 * Exact selection of the k largest non-negative 63-bit keys (four 16-bit radix passes), with the
 * tie rule of §1.6: keep every key above {@code key} and the first {@code tiesToKeep} (flat order)
 * equal to it. SCE ranks its float64 variances by their IEEE bits, which order non-negative
 * doubles exactly (NaN above +Inf).
 */
public final class LongKeySelect {

    /**
     * The threshold; k ≥ n keeps all ({@code key} = −1), k ≤ 0 none.
     *
     * @param key        the key of the k-th largest
     * @param tiesToKeep how many keys equal to it are kept, in flat order
     */
    public record Threshold(long key, long tiesToKeep) {
        /** Whether a key is kept, given the ties at the threshold key met before it in flat order. */
        public boolean keep(long k, long tiesBefore) {
            return k > key || (k == key && tiesBefore < tiesToKeep);
        }
    }

    private LongKeySelect() {
    }

    /** Key of a non-negative (or NaN) double: its raw bits. */
    public static long key(double v) {
        return Double.doubleToRawLongBits(v) & 0x7FFFFFFFFFFFFFFFL;
    }

    /** Histogram of 16-bit digit {@code shift} among keys whose higher bits equal {@code prefix}. */
    public interface Histogram {
        /** Counts per 16-bit digit at {@code shift} of the keys with {@code (key & prefixMask) == prefix}. */
        long[] count(int shift, long prefix, long prefixMask);
    }

    /** Sequential histogram over {@code keyAt(0..n−1)}. */
    public static Histogram sequential(LongUnaryOperator keyAt, long n) {
        return (shift, prefix, mask) -> {
            long[] h = new long[1 << 16];
            for (long i = 0; i < n; i++) {
                long k = keyAt.applyAsLong(i);
                if ((k & mask) == prefix) h[(int) ((k >>> shift) & 0xFFFF)]++;
            }
            return h;
        };
    }

    /** The threshold of the k largest of n keys, from their histograms. */
    public static Threshold select(Histogram histogram, long n, long k) {
        if (k <= 0) return new Threshold(Long.MAX_VALUE, 0);
        if (k >= n) return new Threshold(-1, 0);
        long prefix = 0, mask = 0, above = 0;
        for (int shift = 48; shift >= 0; shift -= 16) {
            long[] h = histogram.count(shift, prefix, mask);
            int b = 0xFFFF;
            while (above + h[b] < k) above += h[b--];
            prefix |= ((long) b) << shift;
            mask |= 0xFFFFL << shift;
        }
        return new Threshold(prefix, k - above);
    }
}

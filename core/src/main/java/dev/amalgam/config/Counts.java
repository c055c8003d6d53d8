package dev.amalgam.config;

/**
 * Element counts from fractions (spec §1.5): k = (int)(fraction·n) computed in double and
 * truncated toward zero, so (int)(0.29·100) = 28. Never float32, never rounding.
 */
public final class Counts {

    private Counts() {
    }

    /**
     * k = trunc(fraction·n) in double, clamped to n (fraction ≥ 1 keeps everything).
     *
     * @throws IllegalArgumentException if fraction is negative or NaN, or n is negative
     */
    public static long fromFraction(double fraction, long n) {
        if (Double.isNaN(fraction) || fraction < 0) {
            throw new IllegalArgumentException("fraction must be >= 0, got " + fraction);
        }
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (fraction >= 1) return n;
        return (long) (fraction * (double) n);
    }
}

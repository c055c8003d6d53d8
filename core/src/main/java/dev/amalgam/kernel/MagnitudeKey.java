package dev.amalgam.kernel;

/**
 * The magnitude order of the spec (§1.6): the IEEE bits of a float32 with the sign bit
 * cleared, compared as integers. It orders magnitudes exactly, makes −0.0 equal +0.0 and puts
 * NaN above +Inf. Keys lie in [0, 0x7FFFFFFF], so plain {@code int} comparison is unsigned-safe.
 */
public final class MagnitudeKey {

    private MagnitudeKey() {
    }

    /**
     * The key of x.
     *
     * @param x a float32
     * @return its bits with the sign cleared, in [0, 0x7FFFFFFF]
     */
    public static int of(float x) {
        return Float.floatToRawIntBits(x) & 0x7FFFFFFF;
    }
}

package dev.amalgam.kernel;

/**
 * The magnitude order of the spec (§1.6): the IEEE bits of a float32 with the sign bit
 * cleared, compared as integers. It orders magnitudes exactly, makes −0.0 equal +0.0 and puts
 * NaN above +Inf. Keys lie in [0, 0x7FC00000], so plain {@code int} comparison is unsigned-safe.
 *
 * <p>Every NaN has the one key {@link #NAN_KEY}, whatever its payload: Java arithmetic keeps a
 * NaN operand's payload where GPU arithmetic returns its canonical NaN, so only a payload-free key
 * lets the CUDA backend's selections equal the reference's bit for bit (§1.10). NaNs therefore
 * tie with each other and are ordered by flat index alone.
 */
public final class MagnitudeKey {

    /** The key of every NaN: that of {@link Float#NaN}, above +Inf's 0x7F800000. */
    public static final int NAN_KEY = 0x7FC00000;

    private MagnitudeKey() {
    }

    /**
     * The key of x.
     *
     * @param x a float32
     * @return its bits with the sign cleared, {@link #NAN_KEY} for any NaN
     */
    public static int of(float x) {
        int key = Float.floatToRawIntBits(x) & 0x7FFFFFFF;
        return key > 0x7F800000 ? NAN_KEY : key;
    }
}

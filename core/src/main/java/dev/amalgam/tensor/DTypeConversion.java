package dev.amalgam.tensor;

/**
 * F16/BF16 and float32 conversions. Widening is exact; narrowing rounds to nearest, ties to
 * even, keeps NaN a NaN (quiet) and overflows to infinity — the same rule as CUDA's
 * {@code __float2bfloat16_rn} and {@code __float2half_rn}.
 */
public final class DTypeConversion {

    private DTypeConversion() {
    }

    /** Exact widening of a bfloat16 bit pattern. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** Round-to-nearest-even narrowing to bfloat16; NaN stays NaN (quiet bit set). */
    public static short floatToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) {
            return (short) ((x >>> 16) | 0x0040);
        }
        int lsb = (x >>> 16) & 1;
        return (short) ((x + 0x7FFF + lsb) >>> 16);
    }

    /** Exact widening of a float16 bit pattern. */
    public static float f16ToFloat(short bits) {
        return Float.float16ToFloat(bits);
    }

    /** Round-to-nearest-even narrowing to float16 (IEEE binary16). */
    public static short floatToF16(float f) {
        return Float.floatToFloat16(f);
    }

    /** float32 value of {@code f} after a round trip through {@code dtype} (F32: itself). */
    public static float roundTo(DType dtype, float f) {
        return switch (dtype) {
            case F32 -> f;
            case BF16 -> bf16ToFloat(floatToBf16(f));
            case F16 -> f16ToFloat(floatToF16(f));
            default -> throw new IllegalArgumentException("not a merge dtype: " + dtype);
        };
    }
}

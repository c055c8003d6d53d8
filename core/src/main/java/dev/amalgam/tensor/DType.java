package dev.amalgam.tensor;

import java.util.Locale;

/**
 * Storage dtypes of safetensors. F32, F16 and BF16 are merged; F64 is rounded to float32 on
 * load; every other dtype is passed through unchanged.
 */
public enum DType {
    /** IEEE binary64; rounded to float32 when merged. */
    F64(8),
    /** IEEE binary32. */
    F32(4),
    /** IEEE binary16. */
    F16(2),
    /** bfloat16: the upper half of a binary32. */
    BF16(2),
    /** Signed 64-bit integer (copied, never merged). */
    I64(8),
    /** Signed 32-bit integer (copied). */
    I32(4),
    /** Signed 16-bit integer (copied). */
    I16(2),
    /** Signed 8-bit integer (copied). */
    I8(1),
    /** Unsigned 64-bit integer (copied). */
    U64(8),
    /** Unsigned 32-bit integer (copied). */
    U32(4),
    /** Unsigned 16-bit integer (copied). */
    U16(2),
    /** Unsigned 8-bit integer (copied). */
    U8(1),
    /** Boolean, one byte (copied). */
    BOOL(1),
    /** 8-bit float E4M3 (copied). */
    F8_E4M3(1),
    /** 8-bit float E5M2 (copied). */
    F8_E5M2(1);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The name used in safetensors headers, e.g. {@code BF16}. */
    public String safetensorsName() {
        return name();
    }

    /** True for the dtypes the merge math runs on directly (F32, F16, BF16). */
    public boolean isMergeable() {
        return this == F32 || this == F16 || this == BF16;
    }

    /** Parses a safetensors dtype name; null if unknown. */
    public static DType fromSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }

    /** Parses a config dtype ({@code bfloat16}, {@code float16}, {@code float32}); null if unknown. */
    public static DType fromConfigName(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "bfloat16", "bf16" -> BF16;
            case "float16", "fp16", "half" -> F16;
            case "float32", "fp32", "float" -> F32;
            default -> null;
        };
    }

    /** The config name of a mergeable dtype. */
    public String configName() {
        return switch (this) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            case F32 -> "float32";
            default -> name().toLowerCase(Locale.ROOT);
        };
    }
}

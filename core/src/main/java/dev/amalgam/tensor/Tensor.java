package dev.amalgam.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A tensor: its {@link TensorInfo} and a little-endian view of its bytes. The bytes usually
 * live in a memory-mapped safetensors file (zero-copy) or in off-heap scratch memory; a Tensor
 * never owns them.
 */
public record Tensor(TensorInfo info, MemorySegment data) {

    public static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64_LE =
            ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Checks that the view holds exactly the bytes the header says. */
    public Tensor {
        if (data.byteSize() != info.byteSize()) {
            throw new IllegalArgumentException("tensor " + info.name() + ": " + data.byteSize()
                    + " bytes for " + info.dtype() + " " + TensorInfo.shapeString(info.shape()));
        }
    }

    /**
     * The tensor name.
     *
     * @return the name
     */
    public String name() {
        return info.name();
    }

    /**
     * The storage dtype.
     *
     * @return the dtype
     */
    public DType dtype() {
        return info.dtype();
    }

    /**
     * The element count.
     *
     * @return n (1 for a 0-D tensor)
     */
    public long elementCount() {
        return info.elementCount();
    }

    /**
     * Element i upcast exactly to float32 (F32, F16, BF16; F64 rounds to nearest). Clear, not
     * fast: the kernels read storage dtypes themselves.
     */
    public float getFloat(long i) {
        return switch (info.dtype()) {
            case F32 -> data.getAtIndex(F32_LE, i);
            case F16 -> Float.float16ToFloat(data.getAtIndex(I16_LE, i));
            case BF16 -> DTypeConversion.bf16ToFloat(data.getAtIndex(I16_LE, i));
            case F64 -> (float) data.getAtIndex(F64_LE, i);
            default -> throw new IllegalStateException("tensor " + name() + " has dtype " + dtype() + ", not a float");
        };
    }

    /** Stores element i, rounding to nearest even for F16/BF16. */
    public void setFloat(long i, float v) {
        switch (info.dtype()) {
            case F32 -> data.setAtIndex(F32_LE, i, v);
            case F16 -> data.setAtIndex(I16_LE, i, Float.floatToFloat16(v));
            case BF16 -> data.setAtIndex(I16_LE, i, DTypeConversion.floatToBf16(v));
            case F64 -> data.setAtIndex(F64_LE, i, v);
            default -> throw new IllegalStateException("tensor " + name() + " has dtype " + dtype() + ", not a float");
        }
    }
}

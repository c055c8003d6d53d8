package dev.amalgam.cuda;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;

/**
 * A tensor in device memory that the caller owns: its name, dtype and shape, and the raw device
 * address ({@code CUdeviceptr} value) of its first element. Amalgam never dereferences it on the
 * host; it only passes it to kernels and copies of the context it runs in.
 *
 * <p>The kernels read F32, F16 and BF16, little-endian and densely packed (row-major, no
 * strides), at an address aligned to the element size.
 */
public record DeviceTensor(TensorInfo info, long address) {

    public DeviceTensor {
        if (!info.dtype().isMergeable()) {
            throw new IllegalArgumentException("device tensor " + info.name() + ": dtype " + info.dtype()
                    + " (the CUDA kernels read F32, F16 and BF16)");
        }
        if (address == 0 && info.elementCount() > 0) {
            throw new IllegalArgumentException("device tensor " + info.name() + ": null device address");
        }
        if (address % info.dtype().byteSize() != 0) {
            throw new IllegalArgumentException("device tensor " + info.name() + ": address 0x" + Long.toHexString(address)
                    + " is not aligned to its " + info.dtype().byteSize() + "-byte elements");
        }
    }

    public static DeviceTensor of(String name, DType dtype, long address, long... shape) {
        return new DeviceTensor(new TensorInfo(name, dtype, shape), address);
    }

    public String name() {
        return info.name();
    }

    public DType dtype() {
        return info.dtype();
    }

    public long elementCount() {
        return info.elementCount();
    }

    public long byteSize() {
        return info.byteSize();
    }

    /** Whether the byte ranges of this tensor and {@code other} overlap. */
    public boolean overlaps(DeviceTensor other) {
        return byteSize() > 0 && other.byteSize() > 0
                && Long.compareUnsigned(address, other.address + other.byteSize()) < 0
                && Long.compareUnsigned(other.address, address + byteSize()) < 0;
    }

    @Override
    public String toString() {
        return "DeviceTensor[" + name() + ", " + dtype() + " " + TensorInfo.shapeString(info.shape()) + " @0x"
                + Long.toHexString(address) + "]";
    }
}

package dev.amalgam.merge;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Turns a stored input tensor into what the kernels take: the memory-mapped view itself when it
 * is F32/F16/BF16 of the output shape (zero-copy), otherwise a float32 (F64) or same-dtype
 * (cropped embedding) copy in scratch memory.
 *
 * <p>Implementation notes. The arena must be shared ({@link Arena#ofShared()}): the fast kernels
 * read the copies from their worker threads, and a confined arena's memory cannot be read there.
 */
final class InputTensors {

    private InputTensors() {
    }

    static boolean needsCopy(Tensor stored, TensorInfo output) {
        return !stored.dtype().isMergeable() || !stored.info().sameShape(output);
    }

    /** The kernel view of {@code stored} with the shape of {@code output}; copies go into {@code arena}. */
    static Tensor load(Tensor stored, TensorInfo output, Arena arena) {
        if (!needsCopy(stored, output)) return stored;
        DType dtype = stored.dtype() == DType.F64 ? DType.F32 : stored.dtype();
        TensorInfo info = new TensorInfo(stored.name(), dtype, output.shape());
        Tensor copy = new Tensor(info, arena.allocate(Math.max(1, info.byteSize()), 8).asSlice(0, info.byteSize()));
        if (stored.info().sameShape(output)) {
            for (long i = 0; i < copy.elementCount(); i++) copy.setFloat(i, stored.getFloat(i));
            return copy;
        }
        // Crop a 2-D [R, C] tensor to its leading [r, c] block (row-major).
        long r = output.dim(0), c = output.dim(1), srcCols = stored.info().dim(1);
        if (dtype == stored.dtype()) {
            long rowBytes = c * dtype.byteSize();
            for (long row = 0; row < r; row++) {
                MemorySegment.copy(stored.data(), row * srcCols * dtype.byteSize(), copy.data(), row * rowBytes, rowBytes);
            }
        } else {
            for (long row = 0; row < r; row++) {
                for (long col = 0; col < c; col++) copy.setFloat(row * c + col, stored.getFloat(row * srcCols + col));
            }
        }
        return copy;
    }
}

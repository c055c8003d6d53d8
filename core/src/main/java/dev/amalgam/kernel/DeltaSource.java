package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;

/**
 * The task vector δ = model − base of one tensor, computed on the fly in float32 from the
 * two stored tensors (same shape, any mergeable dtype).
 */
public record DeltaSource(Tensor base, Tensor model) {

    /** Checks that base and model have the same element count. */
    public DeltaSource {
        if (base.elementCount() != model.elementCount()) {
            throw new IllegalArgumentException("tensor " + base.name() + ": base has " + base.elementCount()
                    + " elements, model " + model.elementCount());
        }
    }

    /**
     * A precomputed task vector τ as a delta source: δ = τ − 0 = τ exactly. The zero base is a
     * fresh F32 segment of τ's element count in {@code arena} (4 bytes per element; τ itself is
     * not copied).
     *
     * @param taskVector τ, any mergeable dtype
     * @param arena      where the zero base is allocated (shared or auto for the CPU kernels)
     * @return the delta source
     */
    public static DeltaSource ofTaskVector(Tensor taskVector, java.lang.foreign.Arena arena) {
        dev.amalgam.tensor.TensorInfo zeroInfo = new dev.amalgam.tensor.TensorInfo(taskVector.name(),
                dev.amalgam.tensor.DType.F32, taskVector.info().shape());
        java.lang.foreign.MemorySegment zeros = arena.allocate(Math.max(1, zeroInfo.byteSize()), 64).asSlice(0, zeroInfo.byteSize());
        return new DeltaSource(new Tensor(zeroInfo, zeros), taskVector);
    }

    /**
     * The element count.
     *
     * @return n
     */
    public long elementCount() {
        return base.elementCount();
    }
}

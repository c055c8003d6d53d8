package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;

/**
 * The task vector δ = model − base of one tensor, computed on the fly in float32 from the
 * two stored tensors (same shape, any mergeable dtype).
 */
public record DeltaSource(Tensor base, Tensor model) {

    public DeltaSource {
        if (base.elementCount() != model.elementCount()) {
            throw new IllegalArgumentException("tensor " + base.name() + ": base has " + base.elementCount()
                    + " elements, model " + model.elementCount());
        }
    }

    public long elementCount() {
        return base.elementCount();
    }
}

package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * The multi-task vector τ_MTL of one tensor for the TALL-mask methods (spec §10 step 1): the GTA
 * pipeline of §1.4 up to step 6 — δ_m, optional magnitude trim (the {@code ties} core), optional
 * {@code l1} rescale, weight, optional election, disjoint sum, divisor — without λ and without
 * adding θ0. The values equal the {@code mixed} of {@link GtaPass} bit for bit, so θ0 + α·τ is
 * exactly what {@code task_arithmetic}/{@code ties} with λ = α store.
 *
 * @param tensorName  for messages
 * @param base        θ0
 * @param models      θ_m in model-index order
 * @param weights     w_m as float32
 * @param keep        per model the trim threshold (from {@link KernelBackend#selectLargest}), or
 *                    null for no trim
 * @param l1Rescale   rescale trimmed models by Σ|δ|/Σ|δ̂| (§1.9)
 * @param consensus   election, or NONE ({@code consensus_ta})
 * @param normalize   §1.8 divisors
 * @param tau         output, F32, the base's element count
 */
public record TauPass(String tensorName, Tensor base, List<Tensor> models, float[] weights, MagnitudeThreshold[] keep,
                      boolean l1Rescale, ConsensusMethod consensus, boolean normalize, Tensor tau) {

    /** Validates the per-model arrays and element counts. */
    public TauPass {
        models = List.copyOf(models);
        if (weights.length != models.size() || keep.length != models.size()) {
            throw new IllegalArgumentException("tensor " + tensorName + ": per-model arrays");
        }
        for (Tensor m : models) {
            if (m.elementCount() != base.elementCount()) throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
        if (tau.elementCount() != base.elementCount() || tau.dtype() != dev.amalgam.tensor.DType.F32) {
            throw new IllegalArgumentException("tensor " + tensorName + ": τ must be F32 with the base's element count");
        }
    }
}

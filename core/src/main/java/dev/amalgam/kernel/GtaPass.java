package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * One tensor of the generalized task-arithmetic pipeline (§1.4), everything resolved:
 * per model δ_m = θ_m − θ0, sparsify, rescale, weight, elect, disjoint sum, divide, λ, add
 * the base, store in the output dtype. Models are in model-index order.
 *
 * @param tensorName     for errors and the Philox counter (FNV-1a of its UTF-8 bytes)
 * @param base           θ0, a mergeable dtype
 * @param models         θ_m with a δ, same element count as the base
 * @param modelIndices   model index m of each entry (position in {@code models:}), keys DARE
 * @param weights        w_m as float32
 * @param sparsifiers    one per model
 * @param rescale        rescale mode, for every sparsified model
 * @param seed           {@code random_seed}
 * @param consensus      sign election, or NONE
 * @param normalize      divide by the (agreeing) weights
 * @param lambda         multiplies after the division, as float32
 * @param out            output, F32/F16/BF16, same element count
 * @param allowNonfinite whether NaN/Inf inputs and outputs are allowed
 */
public record GtaPass(
        String tensorName,
        Tensor base,
        List<Tensor> models,
        int[] modelIndices,
        float[] weights,
        Sparsifier[] sparsifiers,
        RescaleMode rescale,
        long seed,
        ConsensusMethod consensus,
        boolean normalize,
        float lambda,
        Tensor out,
        boolean allowNonfinite) {

    /** Checks the per-model arrays, element counts and dtypes. */
    public GtaPass {
        models = List.copyOf(models);
        int t = models.size();
        if (modelIndices.length != t || weights.length != t || sparsifiers.length != t) {
            throw new IllegalArgumentException("tensor " + tensorName + ": per-model arrays must have " + t + " entries");
        }
        long n = base.elementCount();
        for (Tensor m : models) {
            if (m.elementCount() != n) {
                throw new IllegalArgumentException("tensor " + tensorName + ": " + m.elementCount() + " vs " + n + " elements");
            }
        }
        if (out.elementCount() != n) {
            throw new IllegalArgumentException("tensor " + tensorName + ": output has " + out.elementCount() + " elements");
        }
        if (!out.dtype().isMergeable() || !base.dtype().isMergeable()) {
            throw new IllegalArgumentException("tensor " + tensorName + ": base and output must be F32/F16/BF16");
        }
    }

    /**
     * The number of task models.
     *
     * @return T
     */
    public int modelCount() {
        return models.size();
    }

    /**
     * The element count of every input and the output.
     *
     * @return n
     */
    public long elementCount() {
        return base.elementCount();
    }
}

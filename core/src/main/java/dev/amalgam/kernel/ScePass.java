package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * One tensor of {@code sce} (spec §9; mergekit {@code merge_methods/sce.py}): τ_m = θ_m − θ0;
 * with {@code selectTopk} &lt; 1 keep only the k elements of largest cross-model variance
 * (var = (1/N)·Σ(τ_m − mean)², double, model order; k = (int)(nz·selectTopk), nz = count of
 * var ≠ 0; ties to the lower flat index) in every τ_m; elect signs by the unweighted sum; weights
 * w_m = s_m/Σs with s_m = mean of τ_m² (double, {@link BlockedSum} order), 1/N if |Σs| &lt; 1e-6,
 * rounded to float32; out = θ0 + Σ_m τ_m·(w_m·agree_m) / max(Σ_m w_m·agree_m, 1e-6) in float32.
 * The caller handles selectTopk ≤ 0 (the base) and k = 0 ({@link Result#selected()} = 0: the base).
 *
 * @param tensorName     for messages
 * @param base           θ0
 * @param models         θ_1..θ_N (N ≥ 1)
 * @param selectTopk     in (0, 1) for the variance selection, ≥ 1 for none
 * @param scale          multiplies the merged Δ before θ0 is added (LiNeS, §13.3; 1 = none)
 * @param out            output (F32/F16/BF16)
 * @param allowNonfinite whether NaN/Inf are allowed
 */
public record ScePass(String tensorName, Tensor base, List<Tensor> models, double selectTopk, float scale, Tensor out,
                      boolean allowNonfinite) {

    /** Validates the per-model arrays and element counts. */
    public ScePass {
        models = List.copyOf(models);
        if (models.isEmpty()) throw new IllegalArgumentException("tensor " + tensorName + ": sce needs a model");
        for (Tensor m : models) {
            if (m.elementCount() != base.elementCount()) throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
        if (out.elementCount() != base.elementCount()) throw new IllegalArgumentException("tensor " + tensorName + ": output element count");
        if (!(selectTopk > 0)) throw new IllegalArgumentException("tensor " + tensorName + ": select_topk must be > 0 here");
    }

    /**
     * What an SCE pass reports.
     *
     * @param selected         elements kept by the variance selection (n without one; 0: the output is the base)
     * @param weights          w_m as float32
     * @param signConflicts    elements where a nonzero τ_m disagreed with the elected sign
     * @param nonFiniteInput −1, 0 (base) or 1 + m
     * @param nonFiniteOutputs non-finite output elements
     */
    public record Result(long selected, float[] weights, long signConflicts, int nonFiniteInput, long nonFiniteOutputs) {
    }
}

package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * {@code ram} / {@code ramplus_tl} for one tensor (mergekit {@code merge_methods/ram.py}), per
 * element in float32: τ_m = x_m − base; model m contributes where |τ_m| &gt; ε; c = number of
 * contributors. Where c = 1 the output is base + τ_m·s_m (s_m = {@code uniqueScale[m]}, 1 for
 * {@code ram}); where c &gt; 1 it is base + Σ_m (τ_m/c) over contributors, in model order from 0f;
 * where c = 0 it is base + 0.
 *
 * @param tensorName     for messages
 * @param base           θ0
 * @param models         θ_1..θ_T
 * @param epsilon        ε as float32 (torch compares a float32 tensor with the scalar in float32)
 * @param uniqueScale    s_m per model, float32
 * @param out            output in its storage dtype; unused by {@link KernelBackend#ramOverlap}
 * @param allowNonfinite false: a non-finite input is reported (index 0 = base, m = model m)
 */
public record RamPass(String tensorName, Tensor base, List<Tensor> models, float epsilon, float[] uniqueScale, Tensor out,
                      boolean allowNonfinite) {

    /** Checks one scale per model and equal element counts. */
    public RamPass {
        models = List.copyOf(models);
        if (uniqueScale.length != models.size()) throw new IllegalArgumentException("tensor " + tensorName + ": scales");
        for (Tensor x : models) {
            if (x.elementCount() != base.elementCount()) throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
        if (out != null && out.elementCount() != base.elementCount()) {
            throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
    }

    /**
     * Per model m: {@code shared[m]} = elements where m contributes together with another model,
     * {@code unique[m]} = elements where m is the only contributor (ramplus_tl's ρ_m = shared/unique).
     */
    public record Overlap(long[] shared, long[] unique) {
    }
}

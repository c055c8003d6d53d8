package dev.amalgam.merge;

import dev.amalgam.config.ParameterResolver;
import dev.amalgam.kernel.KernelBackend;

/**
 * What a {@link TensorMerger} needs besides the tensor at hand.
 *
 * @param plan           the plan being executed
 * @param backend        kernels
 * @param params         parameter lookup per tensor
 * @param warnings       warning sink
 * @param allowNonfinite {@code allow_nonfinite}
 * @param seed           {@code random_seed} (after a {@code --seed} override)
 */
public record MergeContext(MergePlan plan, KernelBackend backend, ParameterResolver params, MergeWarnings warnings,
                           boolean allowNonfinite, long seed) {

    public MergeInput input(int i) {
        return plan.inputs().get(i);
    }
}

package dev.amalgam.merge;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * Sees every merged tensor of a run (or, for an analysis without a merge, every tensor that
 * would be merged) together with its inputs, so statistics can be computed from data that is
 * already mapped and in the page cache instead of a second read of the checkpoints.
 */
@FunctionalInterface
public interface TensorObserver {

    /** Observes nothing. */
    TensorObserver NONE = (entry, plan, inputs, output, report) -> { };

    /**
     * @param entry  the plan entry
     * @param plan   the plan (inputs, base index)
     * @param inputs the kernel views of the entry's input tensors (output shape; embeddings
     *               cropped), aligned with {@link MergePlan#inputs()}; valid only during the call
     * @param output the written output tensor, or {@code null} when nothing is merged
     * @param report the tensor's report, or {@code null} when nothing is merged
     */
    void observe(PlanEntry entry, MergePlan plan, List<Tensor> inputs, Tensor output, TensorReport report);
}

package dev.amalgam.merge;

import dev.amalgam.tensor.Tensor;

/** A merge method: computes one output tensor at a time. */
public interface TensorMerger {

    /** A model-wide statistics pass before the first tensor (e.g. global top-k); default none. */
    default void prepare(MergeContext ctx) {
    }

    /**
     * Merges one {@link PlanEntry.Action#MERGE} entry into {@code out} (a writable view of the
     * output file in the entry's output dtype and shape).
     */
    TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out);
}

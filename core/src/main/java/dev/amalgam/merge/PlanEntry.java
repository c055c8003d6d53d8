package dev.amalgam.merge;

import dev.amalgam.tensor.TensorInfo;
import java.util.List;

/**
 * One output tensor of a merge plan.
 *
 * @param name       tensor name
 * @param action     what produces it
 * @param output     output dtype and shape
 * @param inputs     the tensor as stored in each plan input, aligned with {@link MergePlan#inputs()}
 * @param layerT     layer position t of §1.1
 * @param copySource for {@link Action#COPY}: index into the plan inputs of the model it is copied from
 */
public record PlanEntry(String name, Action action, TensorInfo output, List<TensorInfo> inputs, double layerT,
                        int copySource) {

    public enum Action {
        /** Floating tensor computed by the merge method. */
        MERGE,
        /** Integer, bool or 8-bit float tensor copied unchanged from the base (else the first model). */
        COPY
    }

    public PlanEntry {
        inputs = List.copyOf(inputs);
    }

    /** Bytes the merge reads for this tensor (every input once). */
    public long bytesRead() {
        if (action == Action.COPY) return inputs.get(copySource).byteSize();
        long b = 0;
        for (TensorInfo i : inputs) b += i.byteSize();
        return b;
    }
}

package dev.amalgam.merge;

import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.OptionalDouble;

/**
 * {@code passthrough} (§12.7, §16.3): the single input, times {@code scale} if it is set for the
 * tensor (filters allowed, e.g. {@code o_proj} → 0), in the output dtype. Without a scale the
 * values are copied exactly (x·1 in float32 is x; the sign of a zero is unspecified, §1.3).
 */
public final class PassthroughMerger implements TensorMerger {

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        if (ctx.plan().inputs().size() != 1) {
            throw new MergeException("passthrough takes exactly one input, got " + ctx.plan().inputs().size());
        }
        MergeInput in = ctx.input(0);
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = InputTensors.load(in.tensor(name), entry.output(), arena);
            OptionalDouble scale = ctx.params().optionalNumber("scale", in.ref(), name, entry.layerT());
            float w = scale.isPresent() ? (float) scale.getAsDouble() : 1f;
            LinearResult r = ctx.backend().linear(new LinearPass(name, List.of(x), new float[] {w}, 1f, out, ctx.allowNonfinite()));
            if (r.nonFiniteInput() >= 0) {
                throw new MergeException("tensor " + name + " of model " + in.label()
                        + " contains NaN or Inf (set parameters.allow_nonfinite: true to merge anyway)");
            }
            if (r.nonFiniteOutputs() > 0 && !ctx.allowNonfinite()) {
                throw new MergeException("tensor " + name + ": " + r.nonFiniteOutputs() + " output elements are NaN or Inf in "
                        + entry.output().dtype() + "; set parameters.allow_nonfinite: true to keep them");
            }
            return new TensorReport(name, scale.isPresent() ? "merged" : "copied", entry.output().elementCount(), 1, 0,
                    System.nanoTime() - start);
        }
    }
}

package dev.amalgam.merge;

import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code linear} (§3): out = Σ w_i·x_i over every input, divided by Σ w_i (summed in double,
 * divided in float32) when {@code normalize}. Σw = 0 with normalize is an error.
 */
public final class LinearMerger implements TensorMerger {

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        int count = ctx.plan().inputs().size();
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> inputs = new ArrayList<>(count);
            float[] weights = new float[count];
            double sum = 0;
            for (int i = 0; i < count; i++) {
                MergeInput in = ctx.input(i);
                inputs.add(InputTensors.load(in.checkpoint().tensor(name), entry.output(), arena));
                double w = ctx.params().number("weight", in.ref(), name, entry.layerT());
                weights[i] = (float) w;
                sum += w;
            }
            float divisor = 1f;
            if (ctx.params().bool("normalize", null, name, entry.layerT())) {
                if (sum == 0) {
                    throw new MergeException("tensor " + name + ": the weights sum to 0, so normalize cannot divide by them");
                }
                divisor = (float) sum;
            }
            LinearResult r = ctx.backend().linear(new LinearPass(name, inputs, weights, divisor, out, ctx.allowNonfinite()));
            if (r.nonFiniteInput() >= 0) {
                throw new MergeException("tensor " + name + " of model " + ctx.input(r.nonFiniteInput()).label()
                        + " contains NaN or Inf (set parameters.allow_nonfinite: true to merge anyway)");
            }
            if (r.nonFiniteOutputs() > 0 && !ctx.allowNonfinite()) {
                throw new MergeException("tensor " + name + ": " + r.nonFiniteOutputs() + " output elements are NaN or Inf in "
                        + entry.output().dtype() + "; set parameters.allow_nonfinite: true to keep them");
            }
            return new TensorReport(name, "merged", entry.output().elementCount(), 1, 0, System.nanoTime() - start);
        }
    }
}

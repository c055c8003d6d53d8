package dev.amalgam.merge;

import dev.amalgam.config.MethodSpec;
import dev.amalgam.config.ParameterResolver;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DellaPass;
import dev.amalgam.kernel.DellaRows;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code della} and {@code della_linear} (spec §8; mergekit {@code sparsify.py}
 * {@code della_magprune}): the GTA pipeline with magnitude-ranked Bernoulli drop.
 *
 * <p>Implementation notes. Per tensor and model: density ≥ 1 keeps δ, density ≤ 0 drops it (a
 * warning), otherwise density − ε &gt; 0 and density + ε &lt; 1 are required — an error naming
 * model and tensor, where mergekit raises a ValueError (the DELLA authors' code only warned).
 * Ranks are exact (mergekit casts them to the tensor dtype: bf16 is inexact above 256) and ties
 * break by position (mergekit: argsort, unspecified); a vector of length 1 gets p = density where
 * mergekit computes 0/0 = NaN. Draws are Philox-keyed (§1.9) like DARE, not torch's global RNG,
 * so fixtures from mergekit can only be compared with its mask injected. {@code rescale_mode}:
 * {@code l1} (mergekit's default) or {@code inverse_probability} (the DELLA paper, x/p_i).
 */
final class DellaMerger implements TensorMerger {

    private final MethodSpec method;

    DellaMerger(MethodSpec method) {
        this.method = method;
    }

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        double layerT = entry.layerT();
        ParameterResolver p = ctx.params();
        int t = ctx.plan().inputs().size() - 1;
        long n = entry.output().elementCount();
        try (Arena arena = Arena.ofShared()) {
            Tensor base = InputTensors.load(ctx.input(0).checkpoint().tensor(name), entry.output(), arena);
            List<Tensor> models = new ArrayList<>(t);
            int[] indices = new int[t];
            float[] weights = new float[t];
            double[] densities = new double[t], epsilons = new double[t];
            for (int m = 0; m < t; m++) {
                MergeInput model = ctx.input(m + 1);
                models.add(InputTensors.load(model.checkpoint().tensor(name), entry.output(), arena));
                indices[m] = model.modelIndex();
                weights[m] = (float) p.number("weight", model.ref(), name, layerT);
                densities[m] = p.number("density", model.ref(), name, layerT);
                epsilons[m] = p.number("epsilon", model.ref(), name, layerT);
                if (densities[m] <= 0) {
                    ctx.warnings().add("k=0", "model " + model.label() + ", tensor " + name + ": density "
                            + densities[m] + " drops every element");
                } else if (densities[m] < 1 && !DellaRows.windowInside(densities[m], epsilons[m])) {
                    throw new MergeException("model " + model.label() + ", tensor " + name + ": " + method.name()
                            + " needs density - epsilon > 0 and density + epsilon < 1 (density " + densities[m]
                            + ", epsilon " + epsilons[m] + ")");
                }
            }
            DellaPass.Rescale rescale = DellaPass.Rescale.NONE;
            if (p.bool("rescale", null, name, layerT)) {
                String mode = p.string("rescale_mode", null, name, layerT);
                rescale = switch (mode) {
                    case "l1" -> DellaPass.Rescale.L1;
                    case "inverse_probability" -> DellaPass.Rescale.INVERSE_PROBABILITY;
                    default -> throw new MergeException("parameters.rescale_mode: '" + mode + "' is not valid for " + method.name());
                };
            }
            ConsensusMethod consensus = !method.electsSigns() ? ConsensusMethod.NONE
                    : "count".equals(p.string("consensus_method", null, name, layerT)) ? ConsensusMethod.COUNT : ConsensusMethod.SUM;
            GtaResult r = ctx.backend().della(new DellaPass(name, base, models, indices, weights, densities, epsilons, rescale,
                    ctx.seed(), consensus, p.bool("normalize", null, name, layerT), (float) (p.number("lambda", null, name, layerT) * Lines.scale(entry, ctx)),
                    out, ctx.allowNonfinite()));
            GtaResults.check(r, entry, ctx);
            double kept = 0;
            for (long k : r.kept()) kept += n == 0 ? 1 : (double) k / n;
            return new TensorReport(name, "merged", n, t == 0 ? 1 : kept / t, r.signConflicts(), System.nanoTime() - start);
        }
    }
}

package dev.amalgam.merge;

import dev.amalgam.config.ParameterResolver;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.RamPass;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code ram} and {@code ramplus_tl} (Reinforced Agent Merging, mergekit
 * {@code merge_methods/ram.py}, arXiv 2601.13572): task vectors are summed where only one model
 * changed a parameter and averaged over the models that changed it where several did.
 *
 * <p>Implementation notes — mergekit's semantics, step by step. Plan input 0 is the base θ0,
 * inputs 1..T the models; there are no weights (a per-model {@code weight} is accepted and
 * ignored, as in mergekit). Per tensor:
 * <ol>
 * <li>τ_m = θ_m − θ0 (float32); model m <em>contributes</em> at an element where |τ_m| &gt; ε,
 *     ε = {@code epsilon} (default 1e-5) rounded to float32 as torch compares it; c = number of
 *     contributors there.</li>
 * <li>{@code ram}: out = θ0 + τ_m where c = 1 (the single contributor m), θ0 + Σ_m τ_m/c over the
 *     contributors (float32, each divided then summed in model order) where c &gt; 1, θ0 where
 *     c = 0. Values with |τ_m| ≤ ε are dropped (mergekit's {@code nonzero_mask}).</li>
 * <li>{@code ramplus_tl} (tensor-local RAM+): per model, shared_m = elements where m contributes
 *     and c &gt; 1, unique_m = elements where m is the only contributor, over this tensor;
 *     ρ_m = shared_m / max(unique_m, ε) (mergekit clamps the count at ε, so unique_m = 0 gives
 *     ρ = shared_m/ε); λ_m = 1 + r·clamp(ρ_m, 0, α) with r (0.1) and α (0.2); the unique
 *     contributions are scaled: θ0 + τ_m·λ_m where c = 1; overlaps as for {@code ram}.</li>
 * </ol>
 * Deviations: ρ_m and λ_m are computed in double and λ_m rounded to float32 once (mergekit:
 * float32 tensors), so λ_m can differ by one float32 ulp; everything else is float32 as in
 * mergekit, which computes in the config dtype (possibly bf16 — Amalgam always in float32).
 * The sum over models runs in model order (torch's reduction order over dimension 0 is
 * unspecified). No tensors: the base (mergekit returns the base when no models are given).
 */
final class RamMerger implements TensorMerger {

    private final boolean plus;

    /** @param plus true for {@code ramplus_tl} (scaled unique contributions) */
    RamMerger(boolean plus) {
        this.plus = plus;
    }

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        double layerT = entry.layerT();
        ParameterResolver p = ctx.params();
        float epsilon = (float) p.number("epsilon", null, name, layerT);
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            List<Tensor> models = x.subList(1, x.size());
            float[] scale = new float[models.size()];
            java.util.Arrays.fill(scale, 1f);
            if (plus && !models.isEmpty()) {
                RamPass.Overlap o = ctx.backend().ramOverlap(new RamPass(name, x.getFirst(), models, epsilon, scale, null, true));
                double r = p.number("r", null, name, layerT), alpha = p.number("alpha", null, name, layerT);
                for (int m = 0; m < scale.length; m++) scale[m] = (float) lambda(o.shared()[m], o.unique()[m], epsilon, r, alpha);
            }
            LinearResult result = ctx.backend().ram(new RamPass(name, x.getFirst(), models, epsilon, scale, out, ctx.allowNonfinite()));
            return CoefficientMerge.finish(entry, ctx, result, CoefficientMerge.identity(x.size()), start);
        }
    }

    /** λ_m = 1 + r·clamp(shared/max(unique, ε), 0, α). */
    static double lambda(long shared, long unique, double epsilon, double r, double alpha) {
        double rho = shared / Math.max((double) unique, epsilon);
        return 1 + r * Math.min(alpha, Math.max(0, rho));
    }
}

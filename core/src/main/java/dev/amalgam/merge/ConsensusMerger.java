package dev.amalgam.merge;

import dev.amalgam.config.MethodSpec;
import dev.amalgam.config.ParameterResolver;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.TallPass;
import dev.amalgam.kernel.TauPass;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code consensus_ta} and {@code consensus_ties} (spec §10; Wang et al., "Localizing Task
 * Information for Improved Model Merging and Compression", {@code nik-dim/tall_masks}).
 *
 * <p>Implementation notes. τ_MTL is the unscaled {@code task_arithmetic} or {@code ties} core
 * ({@link TauPass}: bit for bit the {@code mixed} of the GTA pass), so {@code consensus_k: 0}
 * equals TA/TIES with λ = α exactly. The masks M_m = |δ_m| &gt; λ_m·|τ − δ_m| use the raw δ_m
 * (the authors compare |θ0 − θ_t| with λ_t·|(θ0 + τ) − θ_t|: equal up to rounding). Differences
 * from the authors' code: per tensor instead of global (mergekit's scope; {@code density_scope:
 * model} is not supported here yet and is an error), mergekit's {@code k}/{@code lambda} renamed
 * {@code consensus_k}/{@code lambda_tall} with the old names rejected, the TIES variant's density
 * is a parameter (the authors hard-code 20%), election per §1.7 (the authors fall back to the
 * global majority sign on a zero sum).
 */
final class ConsensusMerger implements TensorMerger {

    private final MethodSpec method;
    private final boolean trims;

    ConsensusMerger(MethodSpec method) {
        this.method = method;
        this.trims = method.declares("density_scope");
    }

    @Override
    public void prepare(MergeContext ctx) {
        if (trims && "model".equals(ctx.params().string("density_scope", null, "", 0))) {
            throw new MergeException("parameters.density_scope: 'model' is not supported by " + method.name()
                    + " yet; use 'tensor'");
        }
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
            float[] weights = new float[t], lambdas = new float[t];
            MagnitudeThreshold[] keep = new MagnitudeThreshold[t];
            for (int m = 0; m < t; m++) {
                MergeInput model = ctx.input(m + 1);
                Tensor x = InputTensors.load(model.checkpoint().tensor(name), entry.output(), arena);
                models.add(x);
                weights[m] = (float) p.number("weight", model.ref(), name, layerT);
                lambdas[m] = (float) p.number("lambda_tall", model.ref(), name, layerT);
                if (trims) {
                    double density = p.number("density", model.ref(), name, layerT);
                    if (density < 1) {
                        long k = (long) (density * n);
                        if (k == 0) ctx.warnings().add("k=0", "model " + model.label() + ", tensor " + name + ": density "
                                + density + " keeps nothing (k = 0)");
                        keep[m] = ctx.backend().selectLargest(List.of(new DeltaSource(base, x)), k);
                    }
                }
            }
            checkFinite(entry, ctx, base, models);
            ConsensusMethod consensus = !trims ? ConsensusMethod.NONE
                    : "count".equals(p.string("consensus_method", null, name, layerT)) ? ConsensusMethod.COUNT : ConsensusMethod.SUM;
            boolean l1 = trims && p.bool("rescale", null, name, layerT);
            Tensor tau = scratch(name, entry.output().shape(), arena);
            ctx.backend().taskVector(new TauPass(name, base, models, weights, keep, l1, consensus,
                    p.bool("normalize", null, name, layerT), tau));
            long k = p.integer("consensus_k");
            float alpha = (float) (p.number("alpha", null, name, layerT) * Lines.scale(entry, ctx));
            TallPass.Result r = ctx.backend().tallMasks(new TallPass(name, base, models, tau, lambdas, k, alpha, out, null));
            if (r.nonFiniteOutputs() > 0 && !ctx.allowNonfinite()) {
                throw new MergeException("tensor " + name + ": " + r.nonFiniteOutputs() + " output elements are NaN or Inf in "
                        + entry.output().dtype() + " (e.g. float16 overflow); set parameters.allow_nonfinite: true to keep them");
            }
            return new TensorReport(name, "merged", n, n == 0 ? 1 : (double) r.kept() / n, 0, System.nanoTime() - start);
        }
    }

    static Tensor scratch(String name, long[] shape, Arena arena) {
        TensorInfo info = new TensorInfo(name, DType.F32, shape);
        return new Tensor(info, arena.allocate(Math.max(4, info.byteSize()), 8).asSlice(0, info.byteSize()));
    }

    static void checkFinite(PlanEntry entry, MergeContext ctx, Tensor base, List<Tensor> models) {
        if (ctx.allowNonfinite()) return;
        for (int j = 0; j <= models.size(); j++) {
            Tensor x = j == 0 ? base : models.get(j - 1);
            for (long i = 0; i < x.elementCount(); i++) {
                if (!Float.isFinite(x.getFloat(i))) {
                    throw new MergeException("tensor " + entry.name() + " of model " + ctx.input(j).label()
                            + " contains NaN or Inf (set parameters.allow_nonfinite: true to merge anyway)");
                }
            }
        }
    }
}

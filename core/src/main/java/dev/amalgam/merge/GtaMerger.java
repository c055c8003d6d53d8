package dev.amalgam.merge;

import dev.amalgam.config.MethodSpec;
import dev.amalgam.config.ParameterResolver;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * The generalized task-arithmetic family (§1.4): task_arithmetic, ties, dare_*, breadcrumbs*.
 * It resolves the parameters of one tensor into a {@link GtaPass} — counts from fractions
 * (§1.5), magnitude thresholds from the backend's selection, the Bernoulli densities — and
 * lets the backend run the fused pass.
 *
 * <p>Implementation notes. With {@code density_scope: model} the thresholds are selected once
 * per model over all its merged tensors in UTF-8 name order ({@link #prepare}); the tie budget
 * of each threshold is then spent tensor by tensor in that same order, which is the executor's
 * order. Plan input 0 is the base; inputs 1..T are the task models in model-index order.
 */
public final class GtaMerger implements TensorMerger {

    private final MethodSpec method;
    private final SparsifierKind sparsifier;
    private MagnitudeThreshold[] modelScope;
    private long[] tieBudget;

    /**
     * @param method     the registry value: its name for messages, whether it elects signs
     *                   ({@code consensus_method} declared) and scopes densities ({@code density_scope})
     * @param sparsifier how δ is sparsified
     */
    public GtaMerger(MethodSpec method, SparsifierKind sparsifier) {
        this.method = method;
        this.sparsifier = sparsifier;
    }

    @Override
    public void prepare(MergeContext ctx) {
        if (!method.declares("density_scope") || sparsifier != SparsifierKind.MAGNITUDE) return;
        String scope = ctx.params().string("density_scope", null, "", 0);
        if (!"model".equals(scope)) return;
        List<PlanEntry> merged = ctx.plan().entries().stream().filter(e -> e.action() == PlanEntry.Action.MERGE).toList();
        int t = ctx.plan().inputs().size() - 1;
        modelScope = new MagnitudeThreshold[t];
        tieBudget = new long[t];
        for (int m = 0; m < t; m++) {
            MergeInput model = ctx.input(m + 1);
            if (merged.isEmpty()) {
                modelScope[m] = MagnitudeThreshold.KEEP_ALL;
                continue;
            }
            PlanEntry first = merged.getFirst();
            double density = ctx.params().number("density", model.ref(), first.name(), first.layerT());
            try (Arena arena = Arena.ofShared()) {
                List<DeltaSource> parts = new ArrayList<>(merged.size());
                long total = 0;
                for (PlanEntry e : merged) {
                    Tensor base = InputTensors.load(ctx.input(0).checkpoint().tensor(e.name()), e.output(), arena);
                    Tensor x = InputTensors.load(model.checkpoint().tensor(e.name()), e.output(), arena);
                    parts.add(new DeltaSource(base, x));
                    total += e.output().elementCount();
                }
                if (density >= 1) {
                    modelScope[m] = MagnitudeThreshold.KEEP_ALL;
                } else {
                    long k = (long) (density * total);
                    if (k == 0) ctx.warnings().add("k=0", "model " + model.label() + ": density " + density
                            + " keeps nothing of its " + total + " elements (density_scope: model)");
                    modelScope[m] = ctx.backend().selectLargest(parts, k);
                }
            }
            tieBudget[m] = modelScope[m].tiesToKeep();
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
            Tensor base = InputTensors.load(ctx.input(0).tensor(name), entry.output(), arena);
            List<Tensor> models = new ArrayList<>(t);
            int[] indices = new int[t];
            float[] weights = new float[t];
            Sparsifier[] sparsifiers = new Sparsifier[t];
            for (int m = 0; m < t; m++) {
                MergeInput model = ctx.input(m + 1);
                Tensor x = InputTensors.load(model.tensor(name), entry.output(), arena);
                models.add(x);
                indices[m] = model.modelIndex();
                weights[m] = (float) p.number("weight", model.ref(), name, layerT);
                sparsifiers[m] = sparsifier(ctx, model, m, name, layerT, n, new DeltaSource(base, x));
            }
            RescaleMode rescale = rescaleMode(p, name, layerT);
            GtaPass pass = new GtaPass(name, base, models, indices, weights, sparsifiers, rescale, ctx.seed(),
                    consensus(p, name, layerT), p.bool("normalize", null, name, layerT),
                    (float) (p.number("lambda", null, name, layerT) * Lines.scale(entry, ctx)), out, ctx.allowNonfinite());
            GtaResult result = ctx.backend().gta(pass);
            if (result.nonFiniteInput() >= 0) {
                MergeInput bad = ctx.input(result.nonFiniteInput());
                throw new MergeException("tensor " + name + " of model " + bad.label()
                        + " contains NaN or Inf (set parameters.allow_nonfinite: true to merge anyway)");
            }
            if (result.nonFiniteOutputs() > 0 && !ctx.allowNonfinite()) {
                throw new MergeException("tensor " + name + ": " + result.nonFiniteOutputs() + " output elements are NaN or Inf in "
                        + entry.output().dtype() + " (e.g. float16 overflow); set parameters.allow_nonfinite: true to keep them");
            }
            if (modelScope != null) {
                for (int m = 0; m < t; m++) tieBudget[m] -= Math.min(tieBudget[m], result.keepTies()[m]);
            }
            double kept = 0;
            double[] keptPerModel = new double[t];
            for (int m = 0; m < t; m++) {
                keptPerModel[m] = n == 0 ? 1 : (double) result.kept()[m] / n;
                kept += keptPerModel[m];
            }
            return new TensorReport(name, "merged", n, t == 0 ? 1 : kept / t, result.signConflicts(), System.nanoTime() - start,
                    sparsifier == SparsifierKind.NONE ? null : keptPerModel);
        }
    }

    private Sparsifier sparsifier(MergeContext ctx, MergeInput model, int m, String name, double layerT, long n,
                                  DeltaSource delta) {
        ParameterResolver p = ctx.params();
        return switch (sparsifier) {
            case NONE -> Sparsifier.NONE;
            case MAGNITUDE -> {
                if (modelScope != null) {
                    if (modelScope[m].keepsAll()) yield Sparsifier.NONE;
                    yield Sparsifier.MagnitudeBand.trim(modelScope[m].withTiesToKeep(tieBudget[m]));
                }
                double density = p.number("density", model.ref(), name, layerT);
                if (density >= 1) yield Sparsifier.NONE;
                long k = (long) (density * n);
                warnIfEmpty(ctx, k, model, name, density);
                yield Sparsifier.MagnitudeBand.trim(ctx.backend().selectLargest(List.of(delta), k));
            }
            case BERNOULLI -> {
                double density = p.number("density", model.ref(), name, layerT);
                if (density >= 1) yield Sparsifier.NONE;
                if (density <= 0) ctx.warnings().add("k=0", "model " + model.label() + ", tensor " + name
                        + ": density " + density + " drops every element");
                yield new Sparsifier.Bernoulli(density);
            }
            case BAND -> {
                double density = p.number("density", model.ref(), name, layerT);
                if (density >= 1) yield Sparsifier.NONE;
                double gamma = p.number("gamma", model.ref(), name, layerT);
                long target = (long) (density * n);
                long top = (long) (gamma * n);
                if (n - target - top < 0) top = n - target;
                warnIfEmpty(ctx, target, model, name, density);
                MagnitudeThreshold keep = ctx.backend().selectLargest(List.of(delta), top + target);
                MagnitudeThreshold exclude = top > 0 ? ctx.backend().selectLargest(List.of(delta), top) : null;
                yield new Sparsifier.MagnitudeBand(exclude, keep);
            }
        };
    }

    private static void warnIfEmpty(MergeContext ctx, long k, MergeInput model, String name, double density) {
        if (k == 0) {
            ctx.warnings().add("k=0", "model " + model.label() + ", tensor " + name + ": density " + density
                    + " keeps nothing (k = 0)");
        }
    }

    /** The election to run: none unless the method declares {@code consensus_method}. */
    private ConsensusMethod consensus(ParameterResolver p, String name, double layerT) {
        if (!method.electsSigns()) return ConsensusMethod.NONE;
        return "count".equals(p.string("consensus_method", null, name, layerT)) ? ConsensusMethod.COUNT : ConsensusMethod.SUM;
    }

    private RescaleMode rescaleMode(ParameterResolver p, String name, double layerT) {
        if (sparsifier == SparsifierKind.NONE) return RescaleMode.NONE;
        if (!p.bool("rescale", null, name, layerT)) return RescaleMode.NONE;
        String mode = p.string("rescale_mode", null, name, layerT);
        return switch (mode) {
            case "l1" -> RescaleMode.L1;
            case "inverse_density" -> RescaleMode.INVERSE_DENSITY;
            default -> throw new MergeException("parameters.rescale_mode: '" + mode + "' is not valid for " + method.name());
        };
    }
}

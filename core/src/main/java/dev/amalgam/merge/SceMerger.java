package dev.amalgam.merge;

import dev.amalgam.kernel.ScePass;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code sce} (spec §9; mergekit {@code merge_methods/sce.py}): select, calculate, erase.
 *
 * <p>Implementation notes. select_topk ≤ 0 and k = 0 output the base with a warning (mergekit's
 * early exits return a mask with an extra model dimension that broadcasts silently, PR #700).
 * A per-model {@code weight} is ignored with a warning, as in mergekit (spec §9 asks for an error;
 * mergekit's own tests set it, so the registry keeps mergekit's leniency). The variance, its count of
 * nonzeros and the weights' Σ τ² are double (mergekit: the config dtype); the top-k ranks the
 * double variances exactly with ties to the lower flat index (torch.topk: unspecified), so a
 * fixture can differ where two variances are within rounding. Embeddings larger than the base
 * are cropped to it as in the GTA family.
 */
final class SceMerger implements TensorMerger {

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        int t = ctx.plan().inputs().size() - 1;
        long n = entry.output().elementCount();
        double topk = ctx.params().number("select_topk", null, name, entry.layerT());
        try (Arena arena = Arena.ofShared()) {
            Tensor base = InputTensors.load(ctx.input(0).checkpoint().tensor(name), entry.output(), arena);
            List<Tensor> models = new ArrayList<>(t);
            for (int m = 0; m < t; m++) models.add(InputTensors.load(ctx.input(m + 1).checkpoint().tensor(name), entry.output(), arena));
            if (t == 0 || !(topk > 0)) {
                if (t > 0) ctx.warnings().add("k=0", "tensor " + name + ": select_topk " + topk + " keeps nothing; output is the base");
                long bad = 0;
                for (long i = 0; i < n; i++) {
                    out.setFloat(i, base.getFloat(i));
                    if (!Float.isFinite(out.getFloat(i))) bad++;
                }
                if (bad > 0 && !ctx.allowNonfinite()) {
                    throw new MergeException("tensor " + name + ": " + bad + " output elements are NaN or Inf in " + entry.output().dtype());
                }
                return new TensorReport(name, "merged", n, 0, 0, System.nanoTime() - start);
            }
            ScePass.Result r = ctx.backend().sce(new ScePass(name, base, models, topk, (float) Lines.scale(entry, ctx), out, ctx.allowNonfinite()));
            GtaResults.check(new dev.amalgam.kernel.GtaResult(new long[0], new long[0], 0, r.nonFiniteInput(), r.nonFiniteOutputs()),
                    entry, ctx);
            if (r.selected() == 0) {
                ctx.warnings().add("k=0", "tensor " + name + ": select_topk " + topk
                        + " selects no element (k = 0); output is the base");
            }
            return new TensorReport(name, "merged", n, n == 0 ? 1 : (double) r.selected() / n, r.signConflicts(),
                    System.nanoTime() - start);
        }
    }
}

package dev.amalgam.merge;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * The SVD methods {@code tsv_m}, {@code iso_c}, {@code iso_cts} (§11): per tensor,
 * out = θ0 + alpha·M, where M comes from {@link SvdMethods} for 2-D tensors whose name contains
 * no {@code exclude} substring (the matrix path), and M = (1/T)·Σ τ_m (float32, model order)
 * for every other tensor.
 *
 * <p>Implementation notes. Plan input 0 is the base, inputs 1..T the task models in model
 * order; there are no weights. τ_m = float32(θ_m − θ0). Non-finite inputs are an error naming
 * tensor and model unless {@code allow_nonfinite}; then a matrix with NaN/Inf in some τ_m gets
 * M = NaN (an SVD of it is undefined) with a warning. Per-element steps are float32 without
 * FMA: out = θ0 + (float) alpha · M.
 */
public final class SvdMerger implements TensorMerger {

    /** Which matrix step of §11 the 2-D tensors get (the registry pairs each with its method). */
    public enum Kind { TSV_M, ISO_C, ISO_CTS }

    private final Kind kind;

    public SvdMerger(Kind kind) {
        this.kind = kind;
    }

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        double layerT = entry.layerT();
        int t = ctx.plan().inputs().size() - 1;
        long n = entry.output().elementCount();
        try (Arena arena = Arena.ofShared()) {
            Tensor base = InputTensors.load(ctx.input(0).tensor(name), entry.output(), arena);
            float[] theta0 = floats(base, n, name);
            List<float[]> taus = new ArrayList<>(t);
            boolean nonFinite = !allFinite(theta0);
            if (nonFinite && !ctx.allowNonfinite()) throw nonFiniteInput(name, ctx.input(0));
            for (int m = 0; m < t; m++) {
                MergeInput model = ctx.input(m + 1);
                float[] x = floats(InputTensors.load(model.tensor(name), entry.output(), arena), n, name);
                if (!allFinite(x)) {
                    if (!ctx.allowNonfinite()) throw nonFiniteInput(name, model);
                    nonFinite = true;
                }
                for (int i = 0; i < x.length; i++) x[i] -= theta0[i];
                taus.add(x);
            }
            float alpha = (float) (ctx.params().number("alpha", null, name, layerT) * Lines.scale(entry, ctx));
            float[] mixed;
            boolean matrixPath = t > 0 && entry.output().rank() == 2 && n > 0 && !excluded(name, ctx);
            if (t == 0) {
                mixed = new float[(int) n];
            } else if (matrixPath && nonFinite) {
                ctx.warnings().add("nonfinite-svd", "tensor " + name + ": NaN/Inf in the inputs; its SVD is undefined, so "
                        + "the merged delta is NaN (allow_nonfinite)");
                mixed = new float[(int) n];
                java.util.Arrays.fill(mixed, Float.NaN);
            } else if (matrixPath) {
                mixed = matrixStep(entry, ctx, taus).data();
            } else {
                mixed = mean(taus, n);
            }
            long nonFiniteOutputs = 0;
            for (int i = 0; i < n; i++) {
                out.setFloat(i, theta0[i] + alpha * mixed[i]);
                if (!Float.isFinite(out.getFloat(i))) nonFiniteOutputs++;
            }
            if (nonFiniteOutputs > 0 && !ctx.allowNonfinite()) {
                throw new MergeException("tensor " + name + ": " + nonFiniteOutputs + " output elements are NaN or Inf in "
                        + entry.output().dtype() + " (e.g. float16 overflow); set parameters.allow_nonfinite: true to keep them");
            }
            return new TensorReport(name, "merged", n, 1, 0, System.nanoTime() - start);
        }
    }

    private FloatMatrix matrixStep(PlanEntry entry, MergeContext ctx, List<float[]> taus) {
        int rows = Math.toIntExact(entry.output().dim(0)), cols = Math.toIntExact(entry.output().dim(1));
        List<FloatMatrix> tasks = new ArrayList<>(taus.size());
        for (float[] tau : taus) tasks.add(new FloatMatrix(rows, cols, tau));
        var svd = ctx.backend().svd();
        String name = entry.name();
        return switch (kind) {
            case TSV_M -> SvdMethods.tsvM(svd, tasks, w -> ctx.warnings().add("k=0", "tensor " + name + ": " + w));
            case ISO_C -> SvdMethods.isoC(svd, tasks);
            case ISO_CTS -> SvdMethods.isoCts(svd, tasks,
                    ctx.params().number("common_space_fraction", null, name, entry.layerT()),
                    w -> ctx.warnings().add("k=0", "tensor " + name + ": " + w));
        };
    }

    private static boolean excluded(String name, MergeContext ctx) {
        for (String s : ctx.params().stringList("exclude")) {
            if (name.contains(s)) return true;
        }
        return false;
    }

    /** M = (1/T)·Σ τ_m in float32, model order. */
    private static float[] mean(List<float[]> taus, long n) {
        float[] acc = new float[(int) n];
        for (float[] tau : taus) {
            for (int i = 0; i < acc.length; i++) acc[i] += tau[i];
        }
        float inv = (float) (1.0 / taus.size());
        for (int i = 0; i < acc.length; i++) acc[i] *= inv;
        return acc;
    }

    private static float[] floats(Tensor t, long n, String name) {
        if (n > Integer.MAX_VALUE - 8) {
            throw new MergeException("tensor " + name + " has " + n + " elements; the SVD methods take at most 2^31 − 9");
        }
        float[] out = new float[(int) n];
        for (int i = 0; i < out.length; i++) out[i] = t.getFloat(i);
        return out;
    }

    private static boolean allFinite(float[] x) {
        for (float v : x) if (!Float.isFinite(v)) return false;
        return true;
    }

    private static MergeException nonFiniteInput(String name, MergeInput model) {
        return new MergeException("tensor " + name + " of model " + model.label()
                + " contains NaN or Inf (set parameters.allow_nonfinite: true to merge anyway)");
    }
}

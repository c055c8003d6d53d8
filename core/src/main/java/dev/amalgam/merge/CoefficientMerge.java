package dev.amalgam.merge;

import dev.amalgam.kernel.CombinePass;
import dev.amalgam.kernel.GramPass;
import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

/**
 * What the interpolation and geometric methods (§12) share: they are a reduction (float64 Gram
 * matrices of the inputs, or of their differences from an origin) followed by a linear
 * combination whose per-vector coefficients come from those dots. This class loads the inputs,
 * runs both kernels through the backend and turns non-finite inputs and outputs into the
 * errors every method reports.
 *
 * <p>Implementation notes. Coefficients are computed in double (transcendentals with
 * {@link StrictMath}) and rounded to float32 once; the combination is then float32 products
 * summed in input order (the {@code linear} pass; per-row or per-column coefficients use the
 * combine kernel). A base-relative form out = base + Σ c_i·(x_i − base) is run as
 * Σ c_i·x_i + (1 − Σ c_i)·base, which differs from the literal form only by rounding (§1.10).
 */
final class CoefficientMerge {

    private CoefficientMerge() {
    }

    /** Every plan input of {@code entry}, as kernel views (crops and F64 copies in {@code arena}). */
    static List<Tensor> load(PlanEntry entry, MergeContext ctx, Arena arena) {
        List<Tensor> out = new ArrayList<>(ctx.plan().inputs().size());
        for (int i = 0; i < ctx.plan().inputs().size(); i++) {
            out.add(InputTensors.load(ctx.input(i).folder().tensor(entry.name()), entry.output(), arena));
        }
        return out;
    }

    /**
     * Dots of {@code inputs} (minus {@code origin} if not null) per vector; a non-finite input is an
     * error naming it unless {@code allow_nonfinite} (then the dots are NaN/Inf and so is the output).
     * {@code planIndex[j]} is the plan input of {@code inputs.get(j)}, for the message.
     */
    static GramResult gram(MergeContext ctx, PlanEntry entry, List<Tensor> inputs, Tensor origin, int originIndex,
                           int[] planIndex, VectorLayout layout) {
        GramResult g = ctx.backend().gram(new GramPass(entry.name(), inputs, origin, layout));
        if (ctx.allowNonfinite()) return g;
        for (int v = 0; v < g.vectors(); v++) {
            for (int i = 0; i < g.inputs(); i++) {
                if (!Double.isFinite(g.squaredNorm(v, i))) {
                    if (origin != null && !allFinite(origin)) throw nonFiniteInput(entry, ctx.input(originIndex));
                    for (int j = 0; j < inputs.size(); j++) {
                        if (!allFinite(inputs.get(j))) throw nonFiniteInput(entry, ctx.input(planIndex[j]));
                    }
                    throw new MergeException("tensor " + entry.name() + ": a difference of two inputs overflows float32");
                }
            }
        }
        return g;
    }

    /**
     * out = Σ_j c[v·k + j]·x_j per vector v of {@code layout}; checks inputs and outputs for
     * NaN/Inf. {@code planIndex[j]} is the plan input of {@code inputs.get(j)}, for messages.
     */
    static TensorReport combine(PlanEntry entry, MergeContext ctx, List<Tensor> inputs, int[] planIndex, double[] c,
                                VectorLayout layout, Tensor out, long start) {
        float[] f = new float[c.length];
        for (int i = 0; i < c.length; i++) f[i] = (float) c[i];
        LinearResult r = layout.count() == 1
                ? ctx.backend().linear(new LinearPass(entry.name(), inputs, f, 1f, out, ctx.allowNonfinite()))
                : ctx.backend().combine(new CombinePass(entry.name(), inputs, f, layout, out, ctx.allowNonfinite()));
        return finish(entry, ctx, r, planIndex, start);
    }

    static TensorReport finish(PlanEntry entry, MergeContext ctx, LinearResult r, int[] planIndex, long start) {
        if (r.nonFiniteInput() >= 0) throw nonFiniteInput(entry, ctx.input(planIndex[r.nonFiniteInput()]));
        if (r.nonFiniteOutputs() > 0 && !ctx.allowNonfinite()) {
            throw new MergeException("tensor " + entry.name() + ": " + r.nonFiniteOutputs() + " output elements are NaN or Inf in "
                    + entry.output().dtype() + " (e.g. float16 overflow); set parameters.allow_nonfinite: true to keep them");
        }
        return new TensorReport(entry.name(), "merged", entry.output().elementCount(), 1, 0, System.nanoTime() - start);
    }

    static MergeException nonFiniteInput(PlanEntry entry, MergeInput model) {
        return new MergeException("tensor " + entry.name() + " of model " + model.label()
                + " contains NaN or Inf (set parameters.allow_nonfinite: true to merge anyway)");
    }

    static int[] identity(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = i;
        return out;
    }

    private static boolean allFinite(Tensor t) {
        for (long i = 0; i < t.elementCount(); i++) if (!Float.isFinite(t.getFloat(i))) return false;
        return true;
    }
}

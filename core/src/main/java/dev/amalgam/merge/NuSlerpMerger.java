package dev.amalgam.merge;

import dev.amalgam.config.ParameterResolver;
import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code nuslerp} (§12.2, mergekit {@code merge_methods/nuslerp.py}): SLERP of exactly two
 * models with t from their weights, over the whole tensor, its rows or its columns, optionally
 * relative to a base.
 *
 * <p>Implementation notes. Plan inputs: [base,] m0, m1 (list order). t = w1/(w0 + w1) in double,
 * or 0.5 if |w0 + w1| &lt; 1e-6. Vectors v_i = m_i − base (float32) with a base, else m_i: the
 * whole tensor if {@code nuslerp_flatten} (default), else rows along the last dimension, or
 * vectors along dimension 0 if {@code nuslerp_row_wise}; a 1-D tensor is one vector. Per vector:
 * c = clamp(⟨v0, v1⟩ / (max(‖v0‖, 1e-7)·max(‖v1‖, 1e-7)), −1, 1) (mergekit normalizes each vector
 * by its norm clamped at 1e-7), θ = acos c; |sin θ| &lt; 1e-8: c0 = 1 − t, c1 = t; else
 * c0 = sin((1 − t)θ)/sin θ, c1 = sin(tθ)/sin θ. out = c0·v0 + c1·v1 (+ base), run as one
 * combination of the stored inputs. mergekit divides by sin θ after the weighted sum; that and
 * its input-dtype arithmetic differ from this only by rounding.
 */
final class NuSlerpMerger implements TensorMerger {

    static final double NORM_CLAMP = 1e-7;
    static final double COLINEAR = 1e-8;

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        double layerT = entry.layerT();
        ParameterResolver p = ctx.params();
        boolean hasBase = ctx.plan().baseInput() >= 0;
        int first = hasBase ? 1 : 0;
        double w0 = p.number("weight", ctx.input(first).ref(), name, layerT);
        double w1 = p.number("weight", ctx.input(first + 1).ref(), name, layerT);
        double t = Math.abs(w0 + w1) < 1e-6 ? 0.5 : w1 / (w0 + w1);
        long[] shape = entry.output().shape();
        VectorLayout layout = p.bool("nuslerp_flatten", null, name, layerT) ? VectorLayout.whole(entry.output().elementCount())
                : p.bool("nuslerp_row_wise", null, name, layerT) ? VectorLayout.columns(shape) : VectorLayout.rows(shape);
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            int[] index = CoefficientMerge.identity(x.size());
            Tensor base = hasBase ? x.getFirst() : null;
            List<Tensor> models = x.subList(first, first + 2);
            GramResult g = CoefficientMerge.gram(ctx, entry, models, base, 0, new int[] {first, first + 1}, layout);
            int k = x.size();
            int vectors = g.vectors();
            double[] c = new double[vectors * k];
            for (int v = 0; v < vectors; v++) {
                double[] s = coefficients(g.dot(v, 0, 0), g.dot(v, 1, 1), g.dot(v, 0, 1), t);
                c[v * k + first] = s[0];
                c[v * k + first + 1] = s[1];
                if (hasBase) c[v * k] = 1 - s[0] - s[1];
            }
            return CoefficientMerge.combine(entry, ctx, x, index, c, layout, out, start);
        }
    }

    /** {c0, c1} of one vector pair from ‖v0‖², ‖v1‖², ⟨v0, v1⟩. */
    static double[] coefficients(double sq0, double sq1, double dot01, double t) {
        double n0 = Math.max(Math.sqrt(sq0), NORM_CLAMP), n1 = Math.max(Math.sqrt(sq1), NORM_CLAMP);
        double c = Math.min(1, Math.max(-1, dot01 / (n0 * n1)));
        double theta = StrictMath.acos(c);
        double sin = StrictMath.sin(theta);
        if (Math.abs(sin) < COLINEAR) return new double[] {1 - t, t};
        return new double[] {StrictMath.sin((1 - t) * theta) / sin, StrictMath.sin(t * theta) / sin};
    }
}

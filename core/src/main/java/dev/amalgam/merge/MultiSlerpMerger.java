package dev.amalgam.merge;

import dev.amalgam.config.ParameterResolver;
import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code multislerp} (§12.3, mergekit {@code merge_methods/multislerp.py}): barycentric
 * interpolation of N models on the hypersphere around an optional base.
 *
 * <p>Implementation notes. Plan inputs: [base,] x_1..x_N. N = 1 outputs x_1. X_i = x_i − base
 * (float32) or x_i; w_i /= Σw if {@code normalize_weights} (Σw = 0 is an error naming the
 * tensor). Everything below is in double on the dots G_ij = ⟨X_i, X_j⟩, with every vector kept as
 * coefficients over the X_j: n_i = ‖X_i‖, u_i = X_i/(n_i + eps), m = Σ w_i·u_i. ‖m‖ &lt; eps: N = 2
 * gives w_0·X_0 + w_1·X_1 (+ base), N &gt; 2 is an error. Else m̂ = m/‖m‖, T = Σ w_i·(u_i − ⟨u_i, m̂⟩·m̂),
 * τ = ‖T‖ + eps, r = m̂·cos τ + T·sin τ/τ, out = r·Σ w_i·n_i (+ base). (T is zero up to rounding —
 * m is the weighted mean of the same u_i — so mergekit's float32 T is rounding noise; in double it
 * is ~1e-16 and r ≈ m̂.) mergekit works in the input dtype; Σw = 0 gives NaN/Inf there.
 */
final class MultiSlerpMerger implements TensorMerger {

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        double layerT = entry.layerT();
        ParameterResolver p = ctx.params();
        boolean hasBase = ctx.plan().baseInput() >= 0;
        int first = hasBase ? 1 : 0;
        int count = ctx.plan().inputs().size() - first;
        double eps = p.number("eps", null, name, layerT);
        double[] w = new double[count];
        double sum = 0;
        for (int i = 0; i < count; i++) {
            w[i] = p.number("weight", ctx.input(first + i).ref(), name, layerT);
            sum += w[i];
        }
        if (p.bool("normalize_weights", null, name, layerT)) {
            if (sum == 0) throw new MergeException("tensor " + name + ": the weights sum to 0, so normalize_weights cannot divide by them");
            for (int i = 0; i < count; i++) w[i] /= sum;
        }
        VectorLayout whole = VectorLayout.whole(entry.output().elementCount());
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            int[] index = CoefficientMerge.identity(x.size());
            double[] c = new double[x.size()];
            if (count == 1) {
                c[first] = 1;
                return CoefficientMerge.combine(entry, ctx, x, index, c, whole, out, start);
            }
            int[] modelIndex = new int[count];
            for (int i = 0; i < count; i++) modelIndex[i] = first + i;
            GramResult g = CoefficientMerge.gram(ctx, entry, x.subList(first, x.size()), hasBase ? x.getFirst() : null, 0,
                    modelIndex, whole);
            double[] r = coefficients(g, w, eps, name);
            for (int i = 0; i < count; i++) c[first + i] = r[i];
            if (hasBase) {
                double s = 0;
                for (double ri : r) s += ri;
                c[0] = 1 - s;
            }
            return CoefficientMerge.combine(entry, ctx, x, index, c, whole, out, start);
        }
    }

    /** Coefficients of the X_i in the result (before the base is added back). */
    static double[] coefficients(GramResult g, double[] w, double eps, String name) {
        int count = w.length;
        double[] norms = new double[count];
        double[] m = new double[count]; // m = Σ m_j X_j
        for (int i = 0; i < count; i++) {
            norms[i] = g.norm(0, i);
            m[i] = w[i] / (norms[i] + eps);
        }
        double mNorm = Math.sqrt(Math.max(0, quadratic(g, m, m)));
        if (mNorm < eps) {
            if (count == 2) return new double[] {w[0], w[1]};
            throw new MergeException("tensor " + name + ": the weighted sum of the models' directions is zero (e.g. "
                    + "antipodal models with balancing weights); multislerp of more than two models is undefined there");
        }
        double[] mHat = new double[count];
        for (int i = 0; i < count; i++) mHat[i] = m[i] / mNorm;
        // T = Σ w_i·u_i − (Σ w_i·⟨u_i, m̂⟩)·m̂, with u_i = X_i/(n_i + eps).
        double[] tangent = m.clone();
        double along = 0;
        for (int i = 0; i < count; i++) {
            double[] u = new double[count];
            u[i] = 1 / (norms[i] + eps);
            along += w[i] * quadratic(g, u, mHat);
        }
        for (int i = 0; i < count; i++) tangent[i] -= along * mHat[i];
        double tau = Math.sqrt(Math.max(0, quadratic(g, tangent, tangent))) + eps;
        double cos = StrictMath.cos(tau), sinOverTau = StrictMath.sin(tau) / tau;
        double scale = 0;
        for (int i = 0; i < count; i++) scale += w[i] * norms[i];
        double[] r = new double[count];
        for (int i = 0; i < count; i++) r[i] = (mHat[i] * cos + tangent[i] * sinOverTau) * scale;
        return r;
    }

    /** aᵀ·G·b over vector 0. */
    static double quadratic(GramResult g, double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == 0) continue;
            for (int j = 0; j < b.length; j++) s += a[i] * b[j] * g.dot(0, i, j);
        }
        return s;
    }
}

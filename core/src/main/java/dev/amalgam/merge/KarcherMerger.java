package dev.amalgam.merge;

import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code karcher} (§12.4, mergekit {@code merge_methods/karcher.py}): the Riemannian (Karcher)
 * mean of the inputs' directions, scaled by their mean norm.
 *
 * <p>Implementation notes. Plan inputs are every model (a set but unlisted base appended), α_i =
 * 1/N; one input is copied. The iteration runs on the float64 Gram matrix with every vector held
 * as coefficients over the inputs, so each of mergekit's tensor-wide steps (its dots and norms
 * in the input dtype) becomes a small double computation: n_i = ‖x_i‖, u_i = x_i/n_i (0 if n_i =
 * 0); valid = n_i &gt; tol (none valid → zeros); ᾱ = valid α renormalized; u = Σ ᾱ_i·u_i normalized
 * (the first valid u_i if ‖u‖ &lt; tol). Up to {@code max_iter} times: c_i = clamp(⟨u, u_i⟩, −1, 1),
 * θ_i = acos c_i; T = Σ_{θ_i ≥ tol} ᾱ_i·(θ_i/sin θ_i)·(u_i − c_i·u); stop if ‖T‖ &lt; tol; u =
 * cos‖T‖·u + sin‖T‖·T/‖T‖, renormalized if ‖u‖ &gt; tol. out = (Σ α_i·n_i)·u, one linear pass.
 * An input antipodal to the running mean (c_i = −1, θ_i = π, sin θ_i = 0) is an error naming the
 * tensor; mergekit would divide by zero there.
 */
final class KarcherMerger implements TensorMerger {

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        long maxIter = ctx.params().integer("max_iter");
        double tol = ctx.params().number("tol", null, entry.name(), entry.layerT());
        VectorLayout whole = VectorLayout.whole(entry.output().elementCount());
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            int[] index = CoefficientMerge.identity(x.size());
            if (x.size() == 1) return CoefficientMerge.combine(entry, ctx, x, index, new double[] {1}, whole, out, start);
            GramResult g = CoefficientMerge.gram(ctx, entry, x, null, -1, index, whole);
            return CoefficientMerge.combine(entry, ctx, x, index, coefficients(g, maxIter, tol, entry.name()), whole, out, start);
        }
    }

    static double[] coefficients(GramResult g, long maxIter, double tol, String name) {
        int count = g.inputs();
        double alpha = 1.0 / count;
        double[] norms = new double[count];
        double validAlpha = 0;
        int firstValid = -1;
        for (int i = 0; i < count; i++) {
            norms[i] = g.norm(0, i);
            if (norms[i] > tol) {
                validAlpha += alpha;
                if (firstValid < 0) firstValid = i;
            }
        }
        double[] none = new double[count];
        if (firstValid < 0) return none;
        double[] weight = new double[count]; // ᾱ_i for valid inputs, else 0
        for (int i = 0; i < count; i++) if (norms[i] > tol) weight[i] = alpha / validAlpha;
        // u as coefficients over the x_j: u_i = x_i / n_i.
        double[] u = new double[count];
        for (int i = 0; i < count; i++) if (weight[i] > 0) u[i] = weight[i] / norms[i];
        double uNorm = norm(g, u);
        if (uNorm < tol) {
            u = new double[count];
            u[firstValid] = 1 / norms[firstValid];
        } else {
            for (int i = 0; i < count; i++) u[i] /= uNorm;
        }
        for (long iter = 0; iter < maxIter; iter++) {
            double[] tangent = new double[count];
            for (int i = 0; i < count; i++) {
                if (weight[i] == 0) continue;
                double c = Math.min(1, Math.max(-1, dotWithUnit(g, u, i) / norms[i]));
                double theta = StrictMath.acos(c);
                if (theta < tol) continue;
                double sin = StrictMath.sin(theta);
                if (sin == 0) {
                    throw new MergeException("tensor " + name + ": model " + i + " is antipodal to the running Karcher mean "
                            + "(angle π), where the mean is undefined");
                }
                double f = weight[i] * theta / sin;
                // T += f·(u_i − c·u)
                tangent[i] += f / norms[i];
                for (int j = 0; j < count; j++) tangent[j] -= f * c * u[j];
            }
            double tNorm = norm(g, tangent);
            if (tNorm < tol) break;
            double cos = StrictMath.cos(tNorm), sin = StrictMath.sin(tNorm);
            for (int j = 0; j < count; j++) u[j] = cos * u[j] + sin * tangent[j] / tNorm;
            double n = norm(g, u);
            if (n > tol) for (int j = 0; j < count; j++) u[j] /= n;
        }
        double scale = 0;
        for (int i = 0; i < count; i++) scale += alpha * norms[i];
        for (int j = 0; j < count; j++) u[j] *= scale;
        return u;
    }

    /** ⟨u, x_i⟩ for u given as coefficients. */
    private static double dotWithUnit(GramResult g, double[] u, int i) {
        double s = 0;
        for (int j = 0; j < u.length; j++) s += u[j] * g.dot(0, j, i);
        return s;
    }

    private static double norm(GramResult g, double[] a) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == 0) continue;
            for (int j = 0; j < a.length; j++) s += a[i] * a[j] * g.dot(0, i, j);
        }
        return Math.sqrt(Math.max(0, s));
    }
}

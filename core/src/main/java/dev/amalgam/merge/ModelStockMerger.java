package dev.amalgam.merge;

import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code model_stock} (§12.5, mergekit {@code merge_methods/model_stock.py}): interpolates between
 * the base and the average of N ≥ 2 fine-tuned models by a ratio from their pairwise angles.
 *
 * <p>Implementation notes. Plan input 0 is the base w_0, inputs 1..N the models. Vectors: the
 * whole tensor, or rows along the last dimension if {@code filter_wise} (a 1-D tensor is one
 * row). δ_i = w_i − w_0 (float32); from the float64 dots, cos_ij = clamp(⟨δ_i, δ_j⟩ /
 * max(‖δ_i‖·‖δ_j‖, 1e-6), −1, 1) for i &lt; j (mergekit clamps the norm product at 1e-6), cos = their
 * mean (pairs in (i, j) order), t = N·cos/(1 + (N − 1)·cos) — a zero denominator (cos = −1/(N−1))
 * is an error naming the tensor, where mergekit gives Inf. out = t·mean_i(w_i) + (1 − t)·w_0 is
 * run as the combination (1 − t)·w_0 + Σ (t/N)·w_i. mergekit computes in the tensor dtype; the
 * result differs by rounding (§1.10). All-zero deltas give cos = 0, t = 0: the base.
 */
final class ModelStockMerger implements TensorMerger {

    static final double NORM_PRODUCT_CLAMP = 1e-6;

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        boolean rows = ctx.params().bool("filter_wise", null, name, entry.layerT());
        VectorLayout layout = rows ? VectorLayout.rows(entry.output().shape()) : VectorLayout.whole(entry.output().elementCount());
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            int k = x.size();
            int[] index = CoefficientMerge.identity(k);
            int n = k - 1;
            int[] modelIndex = new int[n];
            for (int i = 0; i < n; i++) modelIndex[i] = i + 1;
            GramResult g = CoefficientMerge.gram(ctx, entry, x.subList(1, k), x.getFirst(), 0, modelIndex, layout);
            double[] c = new double[g.vectors() * k];
            for (int v = 0; v < g.vectors(); v++) {
                double t = ratio(g, v, name);
                c[v * k] = 1 - t;
                for (int i = 1; i < k; i++) c[v * k + i] = t / n;
            }
            return CoefficientMerge.combine(entry, ctx, x, index, c, layout, out, start);
        }
    }

    /** t of vector v from the dots of the deltas. */
    static double ratio(GramResult g, int v, String name) {
        int n = g.inputs();
        double sum = 0;
        int pairs = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double product = g.norm(v, i) * g.norm(v, j);
                sum += Math.min(1, Math.max(-1, g.dot(v, i, j) / Math.max(product, NORM_PRODUCT_CLAMP)));
                pairs++;
            }
        }
        double cos = sum / pairs;
        double denominator = 1 + (n - 1) * cos;
        if (denominator == 0) {
            throw new MergeException("tensor " + name + ": model_stock's ratio N·cos/(1 + (N−1)·cos) divides by zero (mean "
                    + "cosine of the task vectors = −1/(N−1))");
        }
        return n * cos / denominator;
    }
}

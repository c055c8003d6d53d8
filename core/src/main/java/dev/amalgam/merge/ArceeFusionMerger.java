package dev.amalgam.merge;

import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code arcee_fusion} (§16.6, mergekit {@code merge_methods/arcee_fusion.py}): keep the other
 * model's changes where they are important, judged by |δ| times how much the row's softmax
 * distribution moved, with a threshold taken from the importance distribution itself.
 *
 * <p>Implementation notes — mergekit's semantics and constants. Exactly the base b and one other
 * model x (a base-only config copies the base). Per tensor:
 * <ol>
 * <li>Rows along the last dimension (a 1-D tensor is one row, a 0-D one a row of one):
 *     p = softmax(x_row) + 1e-8, q = softmax(b_row) + 1e-8, KL_row = Σ p·log(p/q)
 *     (mergekit {@code _compute_importance}, eps = 1e-8).</li>
 * <li>importance = |x − b| · KL_row, element by element.</li>
 * <li>With s = the importances sorted ascending and n their count, Q(q) = s[(long)(q·(n − 1))]:
 *     threshold = Q(0.5) + 1.5·(Q(0.75) − Q(0.25)) (median + 1.5·IQR, mergekit
 *     {@code DynamicThresholdFusion}).</li>
 * <li>out = b + (x − b)·[importance ≥ threshold] in float32.</li>
 * </ol>
 * Deviations, on purpose: (a) mergekit draws a random sample of 10^6 elements
 * ({@code torch.randperm}, unseeded) for the quantiles of larger tensors, so its result is not
 * reproducible; Amalgam takes exact quantiles over all elements (radix selection through the
 * backend, no sort). (b) Softmax and KL are computed in double with StrictMath (mergekit: the
 * input dtype), KL_row is clamped at 0 from below (it is ≥ 0 exactly; rounding could make it
 * −1e-17 and flip an importance's sign), then rounded to float32, and the importance and the
 * threshold are float32 as in mergekit. (c) Quantile positions are computed in double
 * (mergekit: float32 q times n − 1, exact for its ≤ 10^6 samples). The per-row softmax and KL
 * run on all cores (rows in parallel, scalar StrictMath per element); the three order
 * statistics use the backend's radix selection; the CUDA backend runs this step on the host.
 */
final class ArceeFusionMerger implements TensorMerger {

    static final double SOFTMAX_EPS = 1e-8;
    static final float IQR_FACTOR = 1.5f;

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        String name = entry.name();
        long n = entry.output().elementCount();
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            int[] index = CoefficientMerge.identity(x.size());
            VectorLayout whole = VectorLayout.whole(n);
            if (x.size() == 1) return CoefficientMerge.combine(entry, ctx, x, index, new double[] {1}, whole, out, start);
            Tensor base = x.get(0), other = x.get(1);
            if (!ctx.allowNonfinite()) {
                for (int j = 0; j < 2; j++) {
                    for (long i = 0; i < n; i++) {
                        if (!Float.isFinite(x.get(j).getFloat(i))) throw CoefficientMerge.nonFiniteInput(entry, ctx.input(j));
                    }
                }
            }
            TensorInfo info = new TensorInfo(name, DType.F32, new long[] {n});
            Tensor importance = new Tensor(info, arena.allocate(Math.max(4, info.byteSize()), 64).asSlice(0, info.byteSize()));
            Tensor zeros = new Tensor(info, arena.allocate(Math.max(4, info.byteSize()), 64).asSlice(0, info.byteSize()));
            importance(base, other, VectorLayout.rows(entry.output().shape()), importance);
            float threshold = threshold(ctx, importance, zeros, n);
            long kept = 0, nonFinite = 0;
            for (long i = 0; i < n; i++) {
                float b = base.getFloat(i);
                float delta = other.getFloat(i) - b;
                boolean keep = importance.getFloat(i) >= threshold;
                if (keep) kept++;
                out.setFloat(i, b + delta * (keep ? 1f : 0f));
                if (!Float.isFinite(out.getFloat(i))) nonFinite++;
            }
            if (nonFinite > 0 && !ctx.allowNonfinite()) {
                throw new MergeException("tensor " + name + ": " + nonFinite + " output elements are NaN or Inf in "
                        + entry.output().dtype() + " (e.g. float16 overflow); set parameters.allow_nonfinite: true to keep them");
            }
            return new TensorReport(name, "merged", n, n == 0 ? 1 : (double) kept / n, 0, System.nanoTime() - start);
        }
    }

    /** importance[i] = |x − b| · KL of i's row, float32. */
    static void importance(Tensor base, Tensor other, VectorLayout rows, Tensor importance) {
        long len = rows.length();
        // Rows are independent and write disjoint ranges: the result does not depend on the schedule.
        java.util.stream.LongStream.range(0, rows.count()).parallel().forEach(r -> {
            long from = r * len;
            float kl = (float) Math.max(0, klDivergence(other, base, from, len));
            for (long i = from; i < from + len; i++) {
                importance.setFloat(i, Math.abs(other.getFloat(i) - base.getFloat(i)) * kl);
            }
        });
    }

    /** Σ p·log(p/q) with p = softmax(x) + eps, q = softmax(b) + eps over elements [from, from + len). */
    static double klDivergence(Tensor x, Tensor b, long from, long len) {
        double maxX = Double.NEGATIVE_INFINITY, maxB = Double.NEGATIVE_INFINITY;
        for (long i = from; i < from + len; i++) {
            maxX = Math.max(maxX, x.getFloat(i));
            maxB = Math.max(maxB, b.getFloat(i));
        }
        double sumX = 0, sumB = 0;
        for (long i = from; i < from + len; i++) {
            sumX += StrictMath.exp(x.getFloat(i) - maxX);
            sumB += StrictMath.exp(b.getFloat(i) - maxB);
        }
        double kl = 0;
        for (long i = from; i < from + len; i++) {
            double p = StrictMath.exp(x.getFloat(i) - maxX) / sumX + SOFTMAX_EPS;
            double q = StrictMath.exp(b.getFloat(i) - maxB) / sumB + SOFTMAX_EPS;
            kl += p * StrictMath.log(p / q);
        }
        return kl;
    }

    /** median + 1.5·IQR of the importances (float32 arithmetic, exact order statistics). */
    static float threshold(MergeContext ctx, Tensor importance, Tensor zeros, long n) {
        if (n == 0) return 0f;
        float q1 = orderStatistic(ctx, importance, zeros, n, (long) (0.25 * (n - 1)));
        float median = orderStatistic(ctx, importance, zeros, n, (long) (0.5 * (n - 1)));
        float q3 = orderStatistic(ctx, importance, zeros, n, (long) (0.75 * (n - 1)));
        return median + IQR_FACTOR * (q3 - q1);
    }

    /** The i-th smallest importance (0-based); importances are ≥ 0 or NaN, so magnitude order is value order. */
    private static float orderStatistic(MergeContext ctx, Tensor importance, Tensor zeros, long n, long i) {
        long k = n - i; // rank from the top, 1-based
        if (k >= n) {
            float min = Float.POSITIVE_INFINITY;
            boolean anyNumber = false;
            for (long e = 0; e < n; e++) {
                float v = importance.getFloat(e);
                if (Float.isNaN(v)) continue;
                anyNumber = true;
                if (v < min) min = v;
            }
            return anyNumber ? min : Float.NaN;
        }
        MagnitudeThreshold t = ctx.backend().selectLargest(List.of(new DeltaSource(zeros, importance)), k);
        return Float.intBitsToFloat(t.key());
    }
}

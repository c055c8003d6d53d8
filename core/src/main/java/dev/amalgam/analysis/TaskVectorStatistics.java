package dev.amalgam.analysis;

import dev.amalgam.config.LayerPosition;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The statistics pass behind merge reports: one read of θ0, the T task models and (after a
 * merge) the output, computing every norm, pairwise dot and sign count of {@link TensorStatistics}
 * at once.
 *
 * <p>Implementation notes. Elements are processed in chunks of {@value #CHUNK}; each chunk
 * accumulates in float64 in element order into its own slot and the slots are then added in chunk
 * order, so the result does not depend on how many threads ran (chunks run on the common
 * fork/join pool). Inputs are read through {@link Tensor#getFloat}, i.e. upcast exactly to
 * float32 (§1.3), and δ is formed in float32 as the merge forms it. NaN or Inf inputs (possible
 * only under {@code allow_nonfinite}) make the affected sums NaN; they are reported as they are.
 */
public final class TaskVectorStatistics {

    static final int CHUNK = 1 << 15;

    private TaskVectorStatistics() {
    }

    /**
     * @param name   tensor name (for the layer index and kind)
     * @param base   θ0
     * @param models θ_1..θ_T, each of the base's element count
     * @param merged the merge output, or {@code null}
     */
    public static TensorStatistics compute(String name, Tensor base, List<Tensor> models, Tensor merged,
                                           double[] keptFraction, long mergeConflicts) {
        int t = models.size();
        long n = base.elementCount();
        for (Tensor m : models) {
            if (m.elementCount() != n) {
                throw new IllegalArgumentException("tensor " + name + ": " + m.elementCount() + " elements, base has " + n);
            }
        }
        if (merged != null && merged.elementCount() != n) {
            throw new IllegalArgumentException("tensor " + name + ": merged output has " + merged.elementCount() + " elements, base has " + n);
        }
        Layout layout = new Layout(t, merged != null);
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        double[][] partial = new double[chunks][];
        IntStream range = IntStream.range(0, chunks);
        (chunks > 4 ? range.parallel() : range).forEach(c -> {
            long from = (long) c * CHUNK;
            partial[c] = chunk(base, models, merged, from, (int) Math.min(CHUNK, n - from), layout);
        });
        double[] sum = new double[layout.size];
        for (double[] p : partial) {
            for (int k = 0; k < sum.length; k++) sum[k] += p[k];
        }
        double[] modelSq = new double[t];
        double[] deltaSq = new double[t];
        double[] dots = new double[t * t];
        double[] mergedToModel = merged == null ? null : new double[t];
        for (int i = 0; i < t; i++) {
            modelSq[i] = sum[layout.modelSq + i];
            for (int j = i; j < t; j++) {
                double d = sum[layout.dot(i, j)];
                dots[i * t + j] = d;
                dots[j * t + i] = d;
            }
            deltaSq[i] = dots[i * t + i];
            if (merged != null) mergedToModel[i] = sum[layout.mergedToModel + i];
        }
        return new TensorStatistics(name, LayerPosition.layerIndex(name), TensorKind.of(name), n, sum[layout.baseSq],
                modelSq, deltaSq, dots, (long) sum[layout.conflicts], (long) sum[layout.active],
                keptFraction == null ? null : keptFraction.clone(), mergeConflicts,
                merged == null ? Double.NaN : sum[layout.mergedDelta], mergedToModel);
    }

    private static double[] chunk(Tensor base, List<Tensor> models, Tensor merged, long from, int len, Layout layout) {
        int t = models.size();
        float[] b = new float[len];
        float[][] d = new float[t][len];
        float[] o = merged == null ? null : new float[len];
        for (int e = 0; e < len; e++) b[e] = base.getFloat(from + e);
        for (int m = 0; m < t; m++) {
            Tensor x = models.get(m);
            float[] dm = d[m];
            for (int e = 0; e < len; e++) dm[e] = x.getFloat(from + e) - b[e];
        }
        if (o != null) {
            for (int e = 0; e < len; e++) o[e] = merged.getFloat(from + e);
        }
        double[] acc = new double[layout.size];
        double baseSq = 0;
        for (int e = 0; e < len; e++) baseSq += (double) b[e] * b[e];
        acc[layout.baseSq] = baseSq;
        for (int i = 0; i < t; i++) {
            float[] di = d[i];
            for (int j = i; j < t; j++) {
                float[] dj = d[j];
                double s = 0;
                for (int e = 0; e < len; e++) s += (double) di[e] * dj[e];
                acc[layout.dot(i, j)] = s;
            }
        }
        // ‖θ_m‖² from the stored values (b + δ may round).
        for (int i = 0; i < t; i++) {
            Tensor x = models.get(i);
            double xs = 0;
            for (int e = 0; e < len; e++) {
                double v = x.getFloat(from + e);
                xs += v * v;
            }
            acc[layout.modelSq + i] = xs;
        }
        long conflicts = 0;
        long active = 0;
        for (int e = 0; e < len; e++) {
            boolean pos = false;
            boolean neg = false;
            for (int m = 0; m < t; m++) {
                float v = d[m][e];
                pos |= v > 0;
                neg |= v < 0;
            }
            if (pos && neg) conflicts++;
            if (pos || neg) active++;
        }
        acc[layout.conflicts] = conflicts;
        acc[layout.active] = active;
        if (o != null) {
            double md = 0;
            for (int e = 0; e < len; e++) {
                double v = (double) o[e] - b[e];
                md += v * v;
            }
            acc[layout.mergedDelta] = md;
            for (int m = 0; m < t; m++) {
                Tensor x = models.get(m);
                double s = 0;
                for (int e = 0; e < len; e++) {
                    double v = (double) o[e] - x.getFloat(from + e);
                    s += v * v;
                }
                acc[layout.mergedToModel + m] = s;
            }
        }
        return acc;
    }

    /** Slots of one chunk's accumulator array. */
    private static final class Layout {
        final int t;
        final int baseSq = 0;
        final int modelSq = 1;
        final int dots;
        final int conflicts;
        final int active;
        final int mergedDelta;
        final int mergedToModel;
        final int size;

        Layout(int t, boolean merged) {
            this.t = t;
            dots = modelSq + t;
            conflicts = dots + t * (t + 1) / 2;
            active = conflicts + 1;
            mergedDelta = active + 1;
            mergedToModel = mergedDelta + 1;
            size = mergedToModel + (merged ? t : 0);
        }

        /** Upper-triangle slot of (i, j), i ≤ j. */
        int dot(int i, int j) {
            return dots + i * t - i * (i - 1) / 2 + (j - i);
        }
    }
}

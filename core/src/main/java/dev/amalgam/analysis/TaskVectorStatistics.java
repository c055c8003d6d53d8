package dev.amalgam.analysis;

import dev.amalgam.config.LayerPosition;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The statistics pass behind merge reports: one read of θ0, the T task models and (after a
 * merge) the output, computing every norm, pairwise dot and sign count of {@link TensorStatistics}
 * at once.
 *
 * <p>Implementation notes. Elements are processed in chunks of {@value #CHUNK}; within a chunk
 * each sum runs in float64 over four interleaved lanes (element e into lane e mod 4, lanes added as
 * (l0 + l1) + (l2 + l3)), and the chunks' sums are then added in chunk order, so the result does not depend on how many threads ran (chunks run on the common
 * fork/join pool). Inputs are upcast exactly to float32 (§1.3), and δ is formed in float32 as the merge forms it. NaN or Inf inputs (possible
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
        float[] b = read(base, from, len, new float[len]);
        float[][] x = new float[t][];
        float[][] d = new float[t][len];
        for (int m = 0; m < t; m++) {
            x[m] = read(models.get(m), from, len, new float[len]);
            float[] xm = x[m], dm = d[m];
            for (int e = 0; e < len; e++) dm[e] = xm[e] - b[e];
        }
        double[] acc = new double[layout.size];
        acc[layout.baseSq] = dot(b, b, len);
        for (int i = 0; i < t; i++) {
            acc[layout.modelSq + i] = dot(x[i], x[i], len);
            for (int j = i; j < t; j++) acc[layout.dot(i, j)] = dot(d[i], d[j], len);
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
        if (merged != null) {
            float[] o = read(merged, from, len, new float[len]);
            acc[layout.mergedDelta] = distanceSq(o, b, len);
            for (int m = 0; m < t; m++) acc[layout.mergedToModel + m] = distanceSq(o, x[m], len);
        }
        return acc;
    }

    /** Σ a·b in float64, element e into lane e mod 4, lanes added as (l0 + l1) + (l2 + l3). */
    static double dot(float[] a, float[] b, int len) {
        double l0 = 0, l1 = 0, l2 = 0, l3 = 0;
        int e = 0;
        for (; e + 3 < len; e += 4) {
            l0 += (double) a[e] * b[e];
            l1 += (double) a[e + 1] * b[e + 1];
            l2 += (double) a[e + 2] * b[e + 2];
            l3 += (double) a[e + 3] * b[e + 3];
        }
        for (; e < len; e++) {
            double p = (double) a[e] * b[e];
            switch (e & 3) {
                case 0 -> l0 += p;
                case 1 -> l1 += p;
                case 2 -> l2 += p;
                default -> l3 += p;
            }
        }
        return (l0 + l1) + (l2 + l3);
    }

    /** Σ (a − b)² in float64 (the difference in float64), lanes as in {@link #dot}. */
    static double distanceSq(float[] a, float[] b, int len) {
        double l0 = 0, l1 = 0, l2 = 0, l3 = 0;
        int e = 0;
        for (; e + 3 < len; e += 4) {
            double v0 = (double) a[e] - b[e], v1 = (double) a[e + 1] - b[e + 1];
            double v2 = (double) a[e + 2] - b[e + 2], v3 = (double) a[e + 3] - b[e + 3];
            l0 += v0 * v0;
            l1 += v1 * v1;
            l2 += v2 * v2;
            l3 += v3 * v3;
        }
        for (; e < len; e++) {
            double v = (double) a[e] - b[e];
            switch (e & 3) {
                case 0 -> l0 += v * v;
                case 1 -> l1 += v * v;
                case 2 -> l2 += v * v;
                default -> l3 += v * v;
            }
        }
        return (l0 + l1) + (l2 + l3);
    }

    /** Elements [from, from + len) upcast exactly to float32, by bulk copies rather than per-element reads. */
    private static float[] read(Tensor tensor, long from, int len, float[] into) {
        switch (tensor.dtype()) {
            case F32 -> MemorySegment.copy(tensor.data(), Tensor.F32_LE, from * 4, into, 0, len);
            case BF16, F16 -> {
                short[] raw = new short[len];
                MemorySegment.copy(tensor.data(), Tensor.I16_LE, from * 2, raw, 0, len);
                if (tensor.dtype() == DType.BF16) {
                    for (int e = 0; e < len; e++) into[e] = Float.intBitsToFloat(raw[e] << 16);
                } else {
                    for (int e = 0; e < len; e++) into[e] = Float.float16ToFloat(raw[e]);
                }
            }
            default -> {
                for (int e = 0; e < len; e++) into[e] = tensor.getFloat(from + e);
            }
        }
        return into;
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

package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * The reference reductions and per-vector combinations: one element at a time in the order the
 * spec states ({@link BlockedSum} per vector; float32 products in input order). The oracle of the
 * fast versions, and what a backend without its own (today: CUDA) runs on the host.
 */
public final class ReferenceReductions {

    private ReferenceReductions() {
    }

    /** The Gram matrices of the pass, in the {@link BlockedSum} order per vector. */
    public static GramResult gram(GramPass pass) {
        List<Tensor> x = pass.inputs();
        int k = x.size();
        VectorLayout layout = pass.layout();
        int vectors = Math.toIntExact(layout.count());
        double[] values = new double[Math.multiplyExact(Math.multiplyExact(vectors, k), k)];
        BlockedSum[] sums = new BlockedSum[k * k];
        float[] v = new float[k];
        for (int vec = 0; vec < vectors; vec++) {
            for (int i = 0; i < k; i++) for (int j = i; j < k; j++) sums[i * k + j] = new BlockedSum();
            for (long p = 0; p < layout.length(); p++) {
                long e = layout.index(vec, p);
                float o = pass.origin() == null ? 0f : pass.origin().getFloat(e);
                for (int i = 0; i < k; i++) v[i] = pass.origin() == null ? x.get(i).getFloat(e) : x.get(i).getFloat(e) - o;
                for (int i = 0; i < k; i++) for (int j = i; j < k; j++) sums[i * k + j].add((double) v[i] * (double) v[j]);
            }
            for (int i = 0; i < k; i++) {
                for (int j = i; j < k; j++) {
                    double s = sums[i * k + j].sum();
                    values[(vec * k + i) * k + j] = s;
                    values[(vec * k + j) * k + i] = s;
                }
            }
        }
        return new GramResult(vectors, k, values);
    }

    /** The per-vector combination, float32 products summed in input order from 0f. */
    public static LinearResult combine(CombinePass pass) {
        List<Tensor> x = pass.inputs();
        int k = x.size();
        if (!pass.allowNonfinite()) {
            for (int j = 0; j < k; j++) {
                for (long i = 0; i < x.get(j).elementCount(); i++) {
                    if (!Float.isFinite(x.get(j).getFloat(i))) return new LinearResult(j, 0);
                }
            }
        }
        VectorLayout layout = pass.layout();
        float[] c = pass.coefficients();
        long nonFinite = 0;
        for (long i = 0; i < pass.out().elementCount(); i++) {
            int vec = (int) layout.vectorOf(i);
            float acc = 0f;
            for (int j = 0; j < k; j++) acc += c[vec * k + j] * x.get(j).getFloat(i);
            pass.out().setFloat(i, acc);
            if (!Float.isFinite(pass.out().getFloat(i))) nonFinite++;
        }
        return new LinearResult(-1, nonFinite);
    }
}

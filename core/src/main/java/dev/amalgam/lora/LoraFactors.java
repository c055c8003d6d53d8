package dev.amalgam.lora;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;
import dev.amalgam.tensor.Tensor;
import java.util.Arrays;
import java.util.OptionalInt;

/**
 * A LoRA factorisation of one 2-D delta, in memory: δ ≈ B·A with A = √S·Vh (r × in) and
 * B = U·√S (out × r), the top-r singular triplets of δ — what {@code amalgam extract-lora}
 * writes per module, without files.
 *
 * <p>Thread-safety: immutable (the matrices' arrays are shared, not copied; do not modify them).
 *
 * @param a              r × in
 * @param b              out × r
 * @param singularValues the r kept singular values, descending
 * @param retained       ‖δ_r‖²/‖δ‖², the share of the delta's energy kept (1 for δ = 0)
 */
public record LoraFactors(FloatMatrix a, FloatMatrix b, double[] singularValues, double retained) {

    /** @return the kept rank r (0 when δ = 0) */
    public int rank() {
        return singularValues.length;
    }

    /**
     * The top-{@code rank} factorisation of {@code finetuned − base}.
     *
     * @param svd       the SVD kernels (e.g. {@code amalgam.kernels().svd()})
     * @param base      θ0, 2-D, any floating dtype
     * @param finetuned θ, same shape
     * @param rank      at most this many triplets (capped by min(out, in))
     * @return the factors
     * @throws IllegalArgumentException naming the tensor for a shape mismatch or NaN/Inf in δ
     */
    public static LoraFactors ofRank(SvdKernels svd, Tensor base, Tensor finetuned, int rank) {
        if (rank < 1) throw new IllegalArgumentException("rank must be at least 1, got " + rank);
        return factorize(svd, delta(base, finetuned), OptionalInt.of(rank), -1, finetuned.name());
    }

    /**
     * The triplets with σ_i &gt; {@code threshold}·σ_1 (at most {@code maxRank}) of {@code finetuned − base}.
     *
     * @param svd       the SVD kernels
     * @param base      θ0, 2-D
     * @param finetuned θ, same shape
     * @param threshold a fraction of the largest singular value, in [0, 1)
     * @param maxRank   cap on the rank, or {@code Integer.MAX_VALUE}
     * @return the factors
     */
    public static LoraFactors aboveThreshold(SvdKernels svd, Tensor base, Tensor finetuned, double threshold, int maxRank) {
        if (!(threshold >= 0 && threshold < 1)) throw new IllegalArgumentException("threshold must be in [0, 1), got " + threshold);
        return factorize(svd, delta(base, finetuned), OptionalInt.of(maxRank), threshold, finetuned.name());
    }

    /**
     * Factorises a delta already on the heap.
     *
     * @param svd       the SVD kernels
     * @param delta     δ, out × in
     * @param rankCap   at most this many triplets
     * @param threshold keep σ_i &gt; threshold·σ_1; negative for a fixed rank (top {@code rankCap})
     * @param name      names δ in messages
     * @return the factors
     */
    static LoraFactors factorize(SvdKernels svd, FloatMatrix delta, OptionalInt rankCap, double threshold, String name) {
        int out = delta.rows(), in = delta.cols();
        double energy = 0;
        for (float v : delta.data()) {
            if (!Float.isFinite(v)) throw new IllegalArgumentException("tensor " + name + ": NaN or Inf in the delta");
            energy += (double) v * v;
        }
        if (energy == 0) return new LoraFactors(FloatMatrix.zeros(0, in), FloatMatrix.zeros(out, 0), new double[0], 1);
        int cap = Math.min(rankCap.orElse(Integer.MAX_VALUE), Math.min(out, in));
        Svd s;
        if (threshold >= 0) {
            Svd full = svd.svd(delta);
            double cut = threshold * full.s()[0];
            int r = 0;
            while (r < full.rank() && r < cap && full.s()[r] > cut) r++;
            s = new Svd(full.u().columns(0, r), Arrays.copyOf(full.s(), r), full.vh().rowRange(0, r), full.sweeps(), full.offDiagonal());
        } else {
            s = svd.truncated(delta, cap);
        }
        int r = s.rank();
        double kept = 0;
        for (double v : s.s()) kept += v * v;
        float[] a = new float[r * in], b = new float[out * r];
        for (int l = 0; l < r; l++) {
            float root = (float) Math.sqrt(s.s()[l]);
            for (int j = 0; j < in; j++) a[l * in + j] = root * s.vh().get(l, j);
            for (int i = 0; i < out; i++) b[i * r + l] = s.u().get(i, l) * root;
        }
        return new LoraFactors(new FloatMatrix(r, in, a), new FloatMatrix(out, r, b), s.s().clone(), Math.min(1, kept / energy));
    }

    static FloatMatrix delta(Tensor base, Tensor finetuned) {
        if (finetuned.info().rank() != 2 || !base.info().sameShape(finetuned.info())) {
            throw new IllegalArgumentException("tensor " + finetuned.name() + ": a LoRA needs two 2-D tensors of one shape, got "
                    + base.info() + " and " + finetuned.info());
        }
        int out = Math.toIntExact(finetuned.info().dim(0)), in = Math.toIntExact(finetuned.info().dim(1));
        float[] d = new float[Math.multiplyExact(out, in)];
        for (int i = 0; i < d.length; i++) d[i] = finetuned.getFloat(i) - base.getFloat(i);
        return new FloatMatrix(out, in, d);
    }
}

package dev.amalgam.source.lora;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;

/**
 * The LoRA update of one weight, W' = W + s·(B·A) in float32 (spec §16.4): B is
 * {@code [out, r]}, A is {@code [r, in]}, each product element summed over k in index order
 * with a float multiply and a float add (no FMA), then scaled by s and added to W. The
 * reference is three plain loops; the fast path vectorizes over the columns of A and splits
 * rows across threads, doing the same float operations in the same order, so the two agree
 * bit for bit.
 */
public final class LoraProduct {

    private LoraProduct() {
    }

    /** Whether the Vector API is present (it is optional at run time). */
    static final boolean VECTORS = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /**
     * Reference: {@code out[o·in + i] = w[o·in + i] + s · Σ_k b[o·r + k] · a[k·in + i]}.
     *
     * @param w   the base weight, {@code out·in} floats (may be {@code out} itself)
     * @param b   B, {@code out·r}
     * @param a   A, {@code r·in}
     * @param s   the scale
     * @param out receives W'
     */
    public static void reference(float[] w, float[] b, float[] a, int rows, int rank, int cols, float s, float[] out) {
        float[] acc = new float[cols];
        for (int o = 0; o < rows; o++) {
            java.util.Arrays.fill(acc, 0f);
            for (int k = 0; k < rank; k++) {
                float bk = b[o * rank + k];
                for (int i = 0; i < cols; i++) acc[i] = acc[i] + bk * a[k * cols + i];
            }
            for (int i = 0; i < cols; i++) out[o * cols + i] = w[o * cols + i] + acc[i] * s;
        }
    }

    /** Fast: the same arithmetic, vectorized over columns and parallel over rows. */
    public static void fast(float[] w, float[] b, float[] a, int rows, int rank, int cols, float s, float[] out) {
        if (!VECTORS) {
            reference(w, b, a, rows, rank, cols, s, out);
            return;
        }
        long work = (long) rows * rank * cols;
        IntStream range = IntStream.range(0, (rows + 15) / 16);
        (work > 1 << 20 ? range.parallel() : range).forEach(block -> {
            int end = Math.min(rows, block * 16 + 16);
            VectorRows.rows(w, b, a, block * 16, end, rank, cols, s, out);
        });
    }

    /** Reads {@code n} little-endian float32 values. */
    static float[] floats(MemorySegment seg, long n) {
        float[] f = new float[Math.toIntExact(n)];
        MemorySegment.copy(seg, dev.amalgam.tensor.Tensor.F32_LE, 0, f, 0, f.length);
        return f;
    }
}

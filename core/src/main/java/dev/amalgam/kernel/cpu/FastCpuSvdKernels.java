package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The fast CPU SVD kernels: {@link GramSvd} (double Gram matrix of the smaller side, blocked
 * symmetric eigensolver for the k wanted pairs, float32 GEMMs) for decompositions, the
 * register-tiled GEMM of {@link DenseKernels} for products, and batches run one matrix per core.
 *
 * <p>Implementation notes. Every result is exact up to the tolerances of the SVD contract, so
 * merges agree with the reference within §1.10's SVD tolerance. A truncated SVD takes the exact
 * Gram path (its cost barely depends on k: one Gram GEMM and one tridiagonalization), except
 * when k is tiny against min(m, n) (block width ≤ r/16), where it first tries
 * {@link RandomizedSvd} (power iterations, residual-checked) and falls back to the exact path
 * when its accuracy target is not met. TSV-M's k = r/T with T ≤ 10 is always exact.
 * polar(A) = U·Vh of the thin SVD. Batches: matrices are distributed over the fork/join pool,
 * each decomposed single-threaded (the kernels run inline inside the pool), which keeps all
 * cores busy with no synchronization inside a decomposition; a single call outside the pool
 * splits its GEMMs and symmetric products over the cores instead.
 */
public final class FastCpuSvdKernels implements SvdKernels {

    public static final FastCpuSvdKernels INSTANCE = new FastCpuSvdKernels();

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Svd svd(FloatMatrix a) {
        return GramSvd.decompose(a, a.minDim());
    }

    @Override
    public Svd truncated(FloatMatrix a, int k) {
        k = Math.max(0, Math.min(k, a.minDim()));
        if (RandomizedSvd.applies(a, k)) {
            SvdKernels.requireFinite(a);
            Svd fast = RandomizedSvd.topK(a, k);
            if (fast != null) return fast;
        }
        return GramSvd.decompose(a, k);
    }

    @Override
    public FloatMatrix polar(FloatMatrix a) {
        Svd s = svd(a);
        return multiply(s.u(), s.vh());
    }

    @Override
    public FloatMatrix multiply(FloatMatrix a, FloatMatrix b) {
        if (a.cols() != b.rows()) throw new IllegalArgumentException("cannot multiply " + a + " by " + b);
        return new FloatMatrix(a.rows(), b.cols(), DenseKernels.gemm(a.data(), b.data(), a.rows(), a.cols(), b.cols()));
    }

    @Override
    public FloatMatrix multiplyTransposed(FloatMatrix a, FloatMatrix b) {
        if (a.rows() != b.rows()) throw new IllegalArgumentException("cannot multiply the transpose of " + a + " by " + b);
        float[] at = DenseKernels.transpose(a.data(), a.rows(), a.cols());
        return new FloatMatrix(a.cols(), b.cols(), DenseKernels.gemm(at, b.data(), a.cols(), a.rows(), b.cols()));
    }

    @Override
    public List<Svd> svdBatch(List<FloatMatrix> batch) {
        return each(batch, this::svd);
    }

    @Override
    public List<Svd> truncatedBatch(List<FloatMatrix> batch, int k) {
        return each(batch, a -> truncated(a, k));
    }

    @Override
    public List<FloatMatrix> polarBatch(List<FloatMatrix> batch) {
        return each(batch, this::polar);
    }

    private static <T> List<T> each(List<FloatMatrix> batch, java.util.function.Function<FloatMatrix, T> f) {
        Object[] out = new Object[batch.size()];
        for (FloatMatrix a : batch) SvdKernels.requireFinite(a);
        DenseKernels.parallelFor(batch.size(), i -> out[i] = f.apply(batch.get(i)));
        @SuppressWarnings("unchecked")
        List<T> list = (List<T>) new ArrayList<>(Arrays.asList(out));
        return list;
    }
}

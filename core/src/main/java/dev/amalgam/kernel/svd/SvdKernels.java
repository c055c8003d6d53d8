package dev.amalgam.kernel.svd;

import java.util.ArrayList;
import java.util.List;

/**
 * The SVD kernel family (TSV-M, Iso-C, Iso-CTS, LoRA extraction): thin and truncated SVDs,
 * polar factors and the matrix products around them, one matrix or a batch of same-shape
 * matrices at a time. Reached through {@link dev.amalgam.kernel.KernelBackend#svd()}.
 *
 * <p>Contract (tested by the SVD contract suite for every implementation): U has orthonormal
 * columns, Vh orthonormal rows, S is descending and ≥ 0, ‖A − U·diag(S)·Vh‖/‖A‖ is within the
 * implementation's stated float32 tolerance, and S matches the double-precision reference.
 * Singular vectors are not unique (signs, repeated values, null spaces), so they are never
 * compared directly. Inputs must be finite; a non-finite input is an
 * {@link IllegalArgumentException}. Implementations may run a batch in parallel; the results
 * do not depend on the batch's size or order.
 */
public interface SvdKernels {

    /** Short name for logs: {@code reference}, {@code cpu}, {@code cuda}. */
    String name();

    /** Thin SVD: U m×r, S r, Vh r×n with r = min(m, n). */
    Svd svd(FloatMatrix a);

    /**
     * The top-k singular triplets: U m×k, S k, Vh k×n (k clamped to [0, min(m, n)]). Exact up to
     * the implementation's stated tolerance — a faster approximate path must say how accurate it is.
     */
    Svd truncated(FloatMatrix a, int k);

    /**
     * The orthogonal polar factor U·Vh of the thin SVD of {@code a} (m×n, orthonormal columns if
     * m ≥ n, rows otherwise). For rank-deficient {@code a} it is not unique; any factor with
     * orthonormal columns (rows) whose product with a's singular values reconstructs a is valid.
     */
    FloatMatrix polar(FloatMatrix a);

    /** a·b. */
    FloatMatrix multiply(FloatMatrix a, FloatMatrix b);

    /** aᵀ·b. */
    FloatMatrix multiplyTransposed(FloatMatrix a, FloatMatrix b);

    /**
     * Thin SVDs of many matrices; backends may batch them.
     *
     * @param batch the matrices
     * @return one SVD per matrix, in order
     */
    default List<Svd> svdBatch(List<FloatMatrix> batch) {
        List<Svd> out = new ArrayList<>(batch.size());
        for (FloatMatrix a : batch) out.add(svd(a));
        return out;
    }

    /**
     * Truncated SVDs of many matrices.
     *
     * @param batch the matrices
     * @param k triplets per matrix
     * @return one SVD per matrix, in order
     */
    default List<Svd> truncatedBatch(List<FloatMatrix> batch, int k) {
        List<Svd> out = new ArrayList<>(batch.size());
        for (FloatMatrix a : batch) out.add(truncated(a, k));
        return out;
    }

    /**
     * Orthogonal polar factors of many matrices.
     *
     * @param batch the matrices
     * @return one factor per matrix, in order
     */
    default List<FloatMatrix> polarBatch(List<FloatMatrix> batch) {
        List<FloatMatrix> out = new ArrayList<>(batch.size());
        for (FloatMatrix a : batch) out.add(polar(a));
        return out;
    }

    /** Throws if {@code a} has a NaN or an infinity. */
    static void requireFinite(FloatMatrix a) {
        if (!a.allFinite()) throw new IllegalArgumentException("SVD input " + a + " contains NaN or Inf");
    }
}

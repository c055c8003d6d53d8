package dev.amalgam.kernel.svd;

/**
 * A thin (or truncated) singular value decomposition A ≈ U·diag(S)·Vh.
 *
 * @param u           m×r, orthonormal columns
 * @param s           r singular values, descending, ≥ 0 (double: the reference computes in double)
 * @param vh          r×n, orthonormal rows
 * @param sweeps      Jacobi sweeps the solver needed (0 where no Jacobi iteration ran); for logs and benchmarks
 * @param offDiagonal the convergence measure at the end: the largest |a_i·a_j| / (‖a_i‖‖a_j‖) over column pairs
 *                    seen in the last sweep (0 for exact results)
 */
public record Svd(FloatMatrix u, double[] s, FloatMatrix vh, int sweeps, double offDiagonal) {

    /** Checks that U, S and Vh agree on the rank. */
    public Svd {
        int r = s.length;
        if (u.cols() != r || vh.rows() != r) {
            throw new IllegalArgumentException("U is " + u.rows() + "×" + u.cols() + ", S has " + r + ", Vh is "
                    + vh.rows() + "×" + vh.cols());
        }
    }

    /** Number of singular triplets. */
    public int rank() {
        return s.length;
    }

    /** U·diag(S)·Vh in double, rounded to float32 (tests and small cases). */
    public FloatMatrix reconstruct() {
        int m = u.rows(), n = vh.cols(), r = s.length;
        FloatMatrix out = FloatMatrix.zeros(m, n);
        double[] row = new double[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(row, 0);
            for (int l = 0; l < r; l++) {
                double f = u.get(i, l) * s[l];
                if (f == 0) continue;
                for (int j = 0; j < n; j++) row[j] += f * vh.get(l, j);
            }
            for (int j = 0; j < n; j++) out.set(i, j, (float) row[j]);
        }
        return out;
    }
}

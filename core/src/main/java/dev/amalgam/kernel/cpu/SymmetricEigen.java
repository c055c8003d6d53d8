package dev.amalgam.kernel.cpu;

import java.util.Arrays;

/**
 * All eigenpairs of a real symmetric matrix in double: Householder tridiagonalization, the
 * orthogonal factor formed explicitly, then the implicit QL iteration with Wilkinson shifts.
 *
 * <p>Implementation notes. Rows are contiguous double arrays, and every O(n³) step is a row
 * operation: the symmetric matrix-vector product and rank-2 update of each reduction step run
 * over trailing rows (vectorized, parallel when large); Q is accumulated backwards so that each
 * reflector touches only the trailing block; eigenvectors are kept as rows of Zᵀ, so each QL
 * plane rotation is one vectorized pass over two rows. Convergence of an off-diagonal e_m is
 * |e_m| ≤ 2⁻⁵²·(|d_m| + |d_{m+1}|); the iterations per eigenvalue are reported. Results are
 * sorted by eigenvalue, descending.
 */
final class SymmetricEigen {

    /** QL iterations allowed per eigenvalue before giving up (never reached on finite input). */
    static final int MAX_ITERATIONS = 90;
    private static final int PARALLEL_ROWS = 256;

    /**
     * @param values     eigenvalues, descending
     * @param vectors    vectors[l] = the unit eigenvector of values[l]
     * @param iterations QL iterations in total
     */
    record Result(double[] values, double[][] vectors, int iterations) {
    }

    private SymmetricEigen() {
    }

    /** Decomposes {@code a} (n×n, symmetric, both halves filled; overwritten). */
    static Result decompose(double[][] a) {
        int n = a.length;
        double[] d = new double[n], e = new double[n];
        double[][] reflectors = new double[n][];
        double[] betas = new double[n];
        tridiagonalize(a, d, e, reflectors, betas);
        double[][] zt = orthogonalFactorTransposed(n, reflectors, betas);
        int iterations = ql(d, e, zt);
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(d[y], d[x]));
        double[] values = new double[n];
        double[][] vectors = new double[n][];
        for (int i = 0; i < n; i++) {
            values[i] = d[order[i]];
            vectors[i] = zt[order[i]];
        }
        return new Result(values, vectors, iterations);
    }

    static void tridiagonalize(double[][] a, double[] d, double[] e, double[][] reflectors, double[] betas) {
        int n = a.length;
        double[] p = new double[n], w = new double[n];
        for (int k = 0; k + 2 < n; k++) {
            int off = k + 1, t = n - off;
            double[] row = a[k];
            d[k] = row[k];
            double norm = Math.sqrt(DenseKernels.dot(row, off, row, off, t));
            if (norm == 0) {
                e[k] = 0;
                continue;
            }
            double x0 = row[off];
            double alpha = x0 >= 0 ? -norm : norm;
            double[] v = Arrays.copyOfRange(row, off, n);
            v[0] -= alpha;
            double vv = DenseKernels.dot(v, 0, v, 0, t);
            if (vv == 0) {
                e[k] = x0;
                continue;
            }
            double beta = 2 / vv;
            e[k] = alpha;
            // p = β·S·v over the trailing block S, then w = p − (β/2)(pᵀv)·v, S −= v·wᵀ + w·vᵀ.
            rows(t, i -> p[i] = beta * DenseKernels.dot(a[off + i], off, v, 0, t));
            double kk = beta / 2 * DenseKernels.dot(p, 0, v, 0, t);
            for (int i = 0; i < t; i++) w[i] = p[i] - kk * v[i];
            rows(t, i -> DenseKernels.rank2Row(a[off + i], off, v[i], w, w[i], v, 0, t));
            reflectors[k] = v;
            betas[k] = beta;
        }
        if (n >= 2) {
            d[n - 2] = a[n - 2][n - 2];
            e[n - 2] = a[n - 1][n - 2];
        }
        d[n - 1] = a[n - 1][n - 1];
        e[n - 1] = 0;
    }

    private static void rows(int t, java.util.function.IntConsumer body) {
        if (t < PARALLEL_ROWS) {
            for (int i = 0; i < t; i++) body.accept(i);
            return;
        }
        int chunk = 64;
        DenseKernels.parallelFor((t + chunk - 1) / chunk, c -> {
            for (int i = c * chunk, end = Math.min(t, i + chunk); i < end; i++) body.accept(i);
        });
    }

    /** Qᵀ for Q = H_0·H_1·…, accumulated backwards (each H_k touches only the trailing block). */
    static double[][] orthogonalFactorTransposed(int n, double[][] reflectors, double[] betas) {
        double[][] q = new double[n][n];
        for (int i = 0; i < n; i++) q[i][i] = 1;
        double[] r = new double[n];
        for (int k = n - 3; k >= 0; k--) {
            double[] v = reflectors[k];
            if (v == null) continue;
            int off = k + 1, t = n - off;
            Arrays.fill(r, 0, t, 0);
            for (int i = 0; i < t; i++) {
                if (v[i] != 0) DenseKernels.axpy(v[i], q[off + i], off, r, 0, t);
            }
            double beta = betas[k];
            rows(t, i -> DenseKernels.axpy(-beta * v[i], r, 0, q[off + i], off, t));
        }
        // Transpose in place: rows of Qᵀ are columns of Q.
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                double x = q[i][j];
                q[i][j] = q[j][i];
                q[j][i] = x;
            }
        }
        return q;
    }

    /** Implicit QL on the tridiagonal (d, e), e[i] coupling i and i+1; rotations applied to rows of zt. */
    static int ql(double[] d, double[] e, double[][] zt) {
        int n = d.length;
        double eps = Math.ulp(1.0);
        int total = 0;
        for (int l = 0; l < n; l++) {
            int iter = 0;
            while (true) {
                int m = l;
                while (m < n - 1 && Math.abs(e[m]) > eps * (Math.abs(d[m]) + Math.abs(d[m + 1]))) m++;
                if (m == l) break;
                if (++iter > MAX_ITERATIONS) {
                    throw new ArithmeticException("symmetric eigensolver: no convergence for eigenvalue " + l + " of " + n);
                }
                total++;
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = Math.hypot(g, 1);
                g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                double s = 1, c = 1, p = 0;
                boolean deflated = false;
                for (int i = m - 1; i >= l; i--) {
                    double f = s * e[i], b = c * e[i];
                    r = Math.hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0) {
                        d[i + 1] -= p;
                        e[m] = 0;
                        deflated = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                    DenseKernels.rotate(zt[i], zt[i + 1], c, s, n);
                }
                if (deflated) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
        }
        return total;
    }
}

package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import java.util.SplittableRandom;

/**
 * The top-k SVD by a randomized range finder with power (subspace) iterations, used when
 * k is small against min(m, n): GEMMs of m×n by l = k + max(16, k/2) columns instead of an
 * n×n eigenproblem.
 *
 * <p>Accuracy target (checked on every call, never assumed): every returned triplet satisfies
 * ‖A·v_i − σ_i·u_i‖ ≤ {@link #RESIDUAL}·σ_1, with Aᵀu_i = σ_i·v_i by construction (B = QᵀA), so
 * each σ_i is within 1e-5·σ_1 of a singular value of A — the tolerance of the SVD contract. If
 * the check still fails after {@link #MAX_POWER_ITERATIONS} power iterations (flat spectrum
 * around σ_k: the subspace cannot converge), {@link #topK} returns null and the caller uses the
 * exact path. Ω is Gaussian from a seed fixed by the shape, so results are deterministic.
 *
 * <p>Implementation notes. Each half-iteration orthonormalizes the l-column block by CholeskyQR2
 * in double (falling back to {@link GramSvd}'s U when the block is numerically rank-deficient). The residual is checked after 2, 4, 8, 12 and 16
 * iterations (the reported sweep count is the number of power iterations).
 */
final class RandomizedSvd {

    static final double RESIDUAL = 1e-6;
    static final int MAX_POWER_ITERATIONS = 16;
    private static final int[] CHECKPOINTS = {2, 4, 8, 12, 16};

    private RandomizedSvd() {
    }

    /** Block width l for k wanted triplets. */
    static int blockWidth(int k) {
        return k + Math.max(16, k / 2);
    }

    /**
     * Whether the randomized path is worth trying: l at most r/16. Its ~25 GEMM passes with l
     * columns only beat the exact path (one Gram GEMM, a tridiagonalization) when l ≪ r; with
     * TSV-M's k = r/T for T ≤ 10 the exact path is used.
     */
    static boolean applies(FloatMatrix a, int k) {
        return k > 0 && 16 * blockWidth(k) <= a.minDim();
    }

    /** The top-k triplets meeting the residual target, or null. */
    static Svd topK(FloatMatrix a, int k) {
        int m = a.rows(), n = a.cols(), l = blockWidth(k);
        float scale = a.maxAbs();
        if (scale == 0) return null;
        float[] at = DenseKernels.transpose(a.data(), m, n);
        SplittableRandom random = new SplittableRandom(0x5EEDL * 31 + (long) m * 131071 + n);
        float[] omega = new float[n * l];
        for (int i = 0; i < omega.length; i++) omega[i] = (float) random.nextGaussian();
        float[] q = orthonormalColumns(DenseKernels.gemm(a.data(), omega, m, n, l), m, l);
        int done = 0;
        for (int checkpoint : CHECKPOINTS) {
            for (; done < checkpoint; done++) {
                float[] z = orthonormalColumns(DenseKernels.gemm(at, q, n, m, l), n, l);
                q = orthonormalColumns(DenseKernels.gemm(a.data(), z, m, n, l), m, l);
            }
            Svd candidate = rayleighRitz(a, at, q, m, n, l, k, done);
            if (candidate != null) return candidate;
        }
        return null;
    }

    /** Triplets from B = QᵀA, if they meet the residual target. */
    private static Svd rayleighRitz(FloatMatrix a, float[] at, float[] q, int m, int n, int l, int k, int iterations) {
        float[] bt = DenseKernels.gemm(at, q, n, m, l); // Bᵀ = AᵀQ, n×l
        Svd small = GramSvd.decompose(new FloatMatrix(n, l, bt), k); // Bᵀ = V·Σ·Ũᵀ
        // Bᵀ's U is A's V (n×k); Bᵀ's Vh rows are Ũ's columns (k×l).
        float[] v = small.u().data();
        float[] utilde = DenseKernels.transpose(small.vh().data(), k, l); // l×k
        float[] u = DenseKernels.gemm(q, utilde, m, l, k); // m×k
        float[] av = DenseKernels.gemm(a.data(), v, m, n, k); // m×k
        double[] s = small.s();
        double limit = RESIDUAL * s[0];
        for (int i = 0; i < k; i++) {
            double r = 0;
            for (int row = 0; row < m; row++) {
                double d = av[row * k + i] - s[i] * u[row * k + i];
                r += d * d;
            }
            if (!(Math.sqrt(r) <= limit)) return null;
        }
        return new Svd(new FloatMatrix(m, k, u), s, new FloatMatrix(n, k, v).transpose(), iterations, 0);
    }

    /** CholeskyQR2 in double (Gram, Cholesky, triangular solve, twice); GramSvd's U if Y is numerically rank-deficient. */
    private static float[] orthonormalColumns(float[] y, int rows, int cols) {
        double[] x = new double[y.length];
        for (int i = 0; i < y.length; i++) x[i] = y[i];
        for (int pass = 0; pass < 2; pass++) {
            double[][] g = DenseKernels.gram(x, rows, cols);
            if (!cholesky(g)) return GramSvd.decompose(new FloatMatrix(rows, cols, y), cols).u().data();
            double[][] rt = new double[cols][]; // rt[j][t] = R[t][j], t ≤ j: contiguous for the solve
            for (int j = 0; j < cols; j++) {
                rt[j] = new double[j + 1];
                for (int t = 0; t <= j; t++) rt[j][t] = g[t][j];
            }
            double[] row = new double[cols];
            for (int i = 0; i < rows; i++) {
                // Solve z·R = x_i for the row z (R upper triangular).
                for (int j = 0; j < cols; j++) {
                    row[j] = (x[i * cols + j] - DenseKernels.dot(row, 0, rt[j], 0, j)) / rt[j][j];
                }
                System.arraycopy(row, 0, x, i * cols, cols);
            }
        }
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) x[i];
        return out;
    }

    /** In-place upper Cholesky factor G = RᵀR; false unless every pivot is clearly positive. */
    private static boolean cholesky(double[][] g) {
        int n = g.length;
        double first = g[0][0];
        for (int j = 0; j < n; j++) {
            double d = g[j][j];
            for (int t = 0; t < j; t++) d -= g[t][j] * g[t][j];
            if (!(d > 1e-14 * first)) return false;
            double r = Math.sqrt(d);
            g[j][j] = r;
            for (int c = j + 1; c < n; c++) {
                double v = g[j][c];
                for (int t = 0; t < j; t++) v -= g[t][j] * g[t][c];
                g[j][c] = v / r;
            }
        }
        return true;
    }
}

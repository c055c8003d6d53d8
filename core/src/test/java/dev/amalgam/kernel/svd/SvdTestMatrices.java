package dev.amalgam.kernel.svd;

import java.util.Random;

/** Test matrices with fixed seeds (printed in assertion messages through their names). */
public final class SvdTestMatrices {

    private SvdTestMatrices() {
    }

    /** Gaussian entries from {@code new Random(seed)}. */
    public static FloatMatrix gaussian(int rows, int cols, long seed) {
        Random r = new Random(seed);
        FloatMatrix a = FloatMatrix.zeros(rows, cols);
        for (int i = 0; i < a.data().length; i++) a.data()[i] = (float) r.nextGaussian();
        return a;
    }

    /** Gaussian, scaled by {@code scale} after rounding. */
    public static FloatMatrix scaled(FloatMatrix a, float scale) {
        FloatMatrix out = a.copy();
        for (int i = 0; i < out.data().length; i++) out.data()[i] *= scale;
        return out;
    }

    /** A product of Gaussian rows×rank and rank×cols factors: rank exactly {@code rank} (generically). */
    public static FloatMatrix lowRank(int rows, int cols, int rank, long seed) {
        return SvdOracle.toFloat(SvdOracle.multiply(gaussian(rows, rank, seed), gaussian(rank, cols, seed + 1)));
    }

    /** U·diag(s)·Vh with random orthonormal U, V (Gram–Schmidt in double, not an SVD): prescribed singular values. */
    public static FloatMatrix withSingularValues(int rows, int cols, double[] s, long seed) {
        double[][] u = orthonormalColumns(rows, s.length, seed);
        double[][] v = orthonormalColumns(cols, s.length, seed + 1);
        FloatMatrix out = FloatMatrix.zeros(rows, cols);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double sum = 0;
                for (int l = 0; l < s.length; l++) sum += u[i][l] * s[l] * v[j][l];
                out.set(i, j, (float) sum);
            }
        }
        return out;
    }

    /** n×k with orthonormal columns: modified Gram–Schmidt, twice, on Gaussian columns. */
    static double[][] orthonormalColumns(int n, int k, long seed) {
        if (k > n) throw new IllegalArgumentException(k + " orthonormal columns in dimension " + n);
        Random r = new Random(seed);
        double[][] q = new double[n][k];
        for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) q[i][j] = r.nextGaussian();
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < k; j++) {
                for (int p = 0; p < j; p++) {
                    double d = 0;
                    for (int i = 0; i < n; i++) d += q[i][p] * q[i][j];
                    for (int i = 0; i < n; i++) q[i][j] -= d * q[i][p];
                }
                double norm = 0;
                for (int i = 0; i < n; i++) norm += q[i][j] * q[i][j];
                norm = Math.sqrt(norm);
                for (int i = 0; i < n; i++) q[i][j] /= norm;
            }
        }
        return q;
    }

    /** ‖A − U·diag(S)·Vh‖_F / ‖A‖_F computed in double (0/0 = 0). */
    public static double relativeResidual(FloatMatrix a, Svd svd) {
        double err = 0, norm = 0;
        int r = svd.rank();
        for (int i = 0; i < a.rows(); i++) {
            for (int j = 0; j < a.cols(); j++) {
                double sum = 0;
                for (int l = 0; l < r; l++) sum += (double) svd.u().get(i, l) * svd.s()[l] * svd.vh().get(l, j);
                double d = a.get(i, j) - sum;
                err += d * d;
                norm += (double) a.get(i, j) * a.get(i, j);
            }
        }
        if (norm == 0) return Math.sqrt(err);
        return Math.sqrt(err / norm);
    }

    /** max |QᵀQ − I| over the columns of q. */
    public static double columnOrthogonality(FloatMatrix q) {
        double worst = 0;
        for (int a = 0; a < q.cols(); a++) {
            for (int b = a; b < q.cols(); b++) {
                double d = 0;
                for (int i = 0; i < q.rows(); i++) d += (double) q.get(i, a) * q.get(i, b);
                worst = Math.max(worst, Math.abs(d - (a == b ? 1 : 0)));
            }
        }
        return worst;
    }

    /** max |Q·Qᵀ − I| over the rows of q. */
    public static double rowOrthogonality(FloatMatrix q) {
        return columnOrthogonality(q.transpose());
    }

    /** max |x − y| / max(1, max |y|). */
    public static double maxRelativeDifference(FloatMatrix x, FloatMatrix y) {
        double worst = 0, scale = 0;
        for (int i = 0; i < x.data().length; i++) {
            worst = Math.max(worst, Math.abs((double) x.data()[i] - y.data()[i]));
            scale = Math.max(scale, Math.abs(y.data()[i]));
        }
        return worst / Math.max(scale, Float.MIN_NORMAL);
    }
}

package dev.amalgam.kernel.svd;

import java.util.Arrays;

/**
 * One-sided Jacobi (Hestenes) SVD in double: the oracle of the SVD kernels.
 *
 * <p>Implementation notes. A is scaled by 1/max|a| (so tiny and huge inputs neither underflow
 * nor overflow in the squared norms) and, if it is wide, transposed, giving B (p×q, p ≥ q).
 * Column pairs (i, j) are visited in cyclic row order; a pair is rotated when its cosine
 * |b_i·b_j|/(‖b_i‖‖b_j‖) exceeds {@link #tolerance}, and the same rotation is applied to V. A
 * sweep that rotates nothing ends the iteration: all pairs are then orthogonal to the tolerance
 * (the off-diagonal mass test), which bounds the orthogonality error of U independently of the
 * column norms. σ_i = ‖b_i‖, u_i = b_i/σ_i; columns with σ_i = 0 are completed to an
 * orthonormal basis by Gram–Schmidt on unit vectors, so U always has orthonormal columns.
 * Results are sorted by σ descending (ties: original column order). Deterministic.
 */
public final class JacobiSvd {

    /** Sweeps after which the iteration stops even if not converged (never reached on finite input). */
    public static final int MAX_SWEEPS = 100;

    private JacobiSvd() {
    }

    /**
     * A thin SVD kept in double.
     *
     * @param left  r columns of U, each of length m
     * @param s     r singular values, descending
     * @param right r rows of Vh, each of length n
     */
    public record DoubleSvd(int m, int n, double[][] left, double[] s, double[][] right, int sweeps, double offDiagonal) {

        public Svd toSvd() {
            return truncate(s.length);
        }

        /** The first k triplets, rounded to float32. */
        public Svd truncate(int k) {
            k = Math.max(0, Math.min(k, s.length));
            FloatMatrix u = FloatMatrix.zeros(m, k);
            FloatMatrix vh = FloatMatrix.zeros(k, n);
            for (int l = 0; l < k; l++) {
                for (int i = 0; i < m; i++) u.set(i, l, (float) left[l][i]);
                for (int j = 0; j < n; j++) vh.set(l, j, (float) right[l][j]);
            }
            return new Svd(u, Arrays.copyOf(s, k), vh, sweeps, offDiagonal);
        }

        /** U·Vh in double, rounded to float32. */
        public FloatMatrix polar() {
            FloatMatrix out = FloatMatrix.zeros(m, n);
            double[] row = new double[n];
            for (int i = 0; i < m; i++) {
                Arrays.fill(row, 0);
                for (int l = 0; l < s.length; l++) {
                    double f = left[l][i];
                    if (f == 0) continue;
                    double[] r = right[l];
                    for (int j = 0; j < n; j++) row[j] += f * r[j];
                }
                for (int j = 0; j < n; j++) out.set(i, j, (float) row[j]);
            }
            return out;
        }
    }

    /** The pair tolerance for columns of length p: √p·2⁻⁵², at least 1e-15. */
    public static double tolerance(int p) {
        return Math.max(1e-15, Math.sqrt(p) * Math.ulp(1.0));
    }

    public static DoubleSvd decompose(FloatMatrix a) {
        SvdKernels.requireFinite(a);
        int m = a.rows(), n = a.cols();
        boolean wide = m < n;
        int p = wide ? n : m, q = wide ? m : n;
        double scale = a.maxAbs();
        double inv = scale > 0 ? 1.0 / scale : 1.0;
        double[][] b = new double[q][p];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double x = a.get(i, j) * inv;
                if (wide) b[i][j] = x;
                else b[j][i] = x;
            }
        }
        double[][] v = new double[q][q];
        for (int j = 0; j < q; j++) v[j][j] = 1;

        double tol = tolerance(p);
        int sweeps = 0;
        double off = 0;
        while (sweeps < MAX_SWEEPS) {
            boolean rotated = false;
            off = 0;
            for (int i = 0; i < q - 1; i++) {
                for (int j = i + 1; j < q; j++) {
                    double alpha = dot(b[i], b[i]), beta = dot(b[j], b[j]), gamma = dot(b[i], b[j]);
                    if (alpha == 0 || beta == 0 || gamma == 0) continue;
                    double cosine = Math.abs(gamma) / Math.sqrt(alpha * beta);
                    off = Math.max(off, cosine);
                    if (cosine <= tol) continue;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.sqrt(1 + t * t), s = c * t;
                    rotate(b[i], b[j], c, s);
                    rotate(v[i], v[j], c, s);
                    rotated = true;
                }
            }
            sweeps++;
            if (!rotated) break;
        }

        double[] sigma = new double[q];
        for (int j = 0; j < q; j++) sigma[j] = Math.sqrt(dot(b[j], b[j]));
        Integer[] order = new Integer[q];
        for (int j = 0; j < q; j++) order[j] = j;
        Arrays.sort(order, (x, y) -> Double.compare(sigma[y], sigma[x]));

        double[][] uB = new double[q][];
        double[][] vB = new double[q][];
        double[] s = new double[q];
        for (int l = 0; l < q; l++) {
            int j = order[l];
            s[l] = sigma[j] * scale;
            vB[l] = v[j];
            if (sigma[j] > 0) {
                double[] u = b[j].clone();
                for (int i = 0; i < p; i++) u[i] /= sigma[j];
                uB[l] = u;
            }
        }
        completeOrthonormal(uB, p);
        // A = B (tall) or Bᵀ (wide): B = U_B Σ V_Bᵀ.
        return wide ? new DoubleSvd(m, n, vB, s, uB, sweeps, off) : new DoubleSvd(m, n, uB, s, vB, sweeps, off);
    }

    /** Fills the null entries of {@code cols} with unit vectors orthogonal to all others (Gram–Schmidt, twice). */
    static void completeOrthonormal(double[][] cols, int p) {
        int next = 0;
        for (int l = 0; l < cols.length; l++) {
            if (cols[l] != null) continue;
            while (true) {
                if (next >= p) throw new IllegalStateException("cannot complete an orthonormal basis of length " + p);
                double[] w = new double[p];
                w[next++] = 1;
                for (int pass = 0; pass < 2; pass++) {
                    for (double[] c : cols) {
                        if (c == null || c == w) continue;
                        double d = dot(c, w);
                        for (int i = 0; i < p; i++) w[i] -= d * c[i];
                    }
                }
                double norm = Math.sqrt(dot(w, w));
                if (norm > 1e-3) {
                    for (int i = 0; i < p; i++) w[i] /= norm;
                    cols[l] = w;
                    break;
                }
            }
        }
    }

    static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int i = 0; i < x.length; i++) {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }
}

package dev.amalgam.cuda.internal;

import dev.amalgam.kernel.svd.FloatMatrix;

/**
 * Host-side completion of singular vectors that belong to σ = 0: the device leaves them zero
 * (a zero column of B has no direction), and the SVD contract wants orthonormal factors, so they
 * are replaced by unit vectors orthogonal to the others, like the reference does.
 *
 * <p>Implementation notes. A vector whose norm is below 1/2 is replaced: candidates are the unit
 * vectors e_0, e_1, … made orthogonal to every other vector by two Gram–Schmidt passes in double;
 * the first with a residual norm above 1e-3 is normalized and taken. Only matrices with exactly
 * zero singular values ever get here, so the O(len·count) cost per replaced vector is rare.
 */
public final class OrthonormalCompletion {

    private OrthonormalCompletion() {
    }

    /** Completes the columns of {@code m} (m.rows() ≥ m.cols()); returns how many were replaced. */
    public static int columns(FloatMatrix m) {
        int len = m.rows(), count = m.cols();
        double[][] v = new double[count][len];
        for (int i = 0; i < len; i++) {
            for (int j = 0; j < count; j++) v[j][i] = m.get(i, j);
        }
        int replaced = complete(v, len);
        if (replaced > 0) {
            for (int i = 0; i < len; i++) {
                for (int j = 0; j < count; j++) m.set(i, j, (float) v[j][i]);
            }
        }
        return replaced;
    }

    /** Completes the rows of {@code m} (m.cols() ≥ m.rows()); returns how many were replaced. */
    public static int rows(FloatMatrix m) {
        int len = m.cols(), count = m.rows();
        double[][] v = new double[count][len];
        for (int j = 0; j < count; j++) {
            for (int i = 0; i < len; i++) v[j][i] = m.get(j, i);
        }
        int replaced = complete(v, len);
        if (replaced > 0) {
            for (int j = 0; j < count; j++) {
                for (int i = 0; i < len; i++) m.set(j, i, (float) v[j][i]);
            }
        }
        return replaced;
    }

    private static int complete(double[][] v, int len) {
        boolean[] missing = new boolean[v.length];
        int replaced = 0;
        for (int j = 0; j < v.length; j++) {
            if (Math.sqrt(dot(v[j], v[j])) < 0.5) {
                missing[j] = true;
                replaced++;
            }
        }
        if (replaced == 0) return 0;
        if (v.length > len) throw new IllegalArgumentException(v.length + " vectors of length " + len + " cannot be orthonormal");
        int next = 0;
        for (int j = 0; j < v.length; j++) {
            if (!missing[j]) continue;
            while (true) {
                if (next >= len) throw new IllegalStateException("cannot complete an orthonormal basis of length " + len);
                double[] w = new double[len];
                w[next++] = 1;
                for (int pass = 0; pass < 2; pass++) {
                    for (int o = 0; o < v.length; o++) {
                        if (o == j || missing[o]) continue;
                        double d = dot(v[o], w);
                        for (int i = 0; i < len; i++) w[i] -= d * v[o][i];
                    }
                }
                double norm = Math.sqrt(dot(w, w));
                if (norm > 1e-3) {
                    for (int i = 0; i < len; i++) w[i] /= norm;
                    v[j] = w;
                    missing[j] = false;
                    break;
                }
            }
        }
        return replaced;
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }
}

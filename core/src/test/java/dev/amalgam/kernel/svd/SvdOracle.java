package dev.amalgam.kernel.svd;

import java.util.Arrays;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Expectations for the SVD contract that do not come from Amalgam's own SVD code: EJML's
 * double-precision SVD (a separate, well-kept implementation) for singular values and polar factors,
 * and plain triple loops in double for products. Used so that the reference ({@link JacobiSvd}) is
 * never checked against itself.
 */
public final class SvdOracle {

    private SvdOracle() {
    }

    /** The min(m, n) singular values of {@code a} (as doubles), descending. */
    public static double[] singularValues(FloatMatrix a) {
        if (a.rows() == 0 || a.cols() == 0) return new double[0];
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(a.rows(), a.cols(), false, false, true);
        if (!svd.decompose(toEjml(a))) throw new AssertionError("EJML failed on " + a);
        double[] s = Arrays.copyOf(svd.getSingularValues(), Math.min(a.rows(), a.cols()));
        Arrays.sort(s);
        for (int i = 0; i < s.length / 2; i++) {
            double t = s[i];
            s[i] = s[s.length - 1 - i];
            s[s.length - 1 - i] = t;
        }
        return s;
    }

    /** The polar factor U·Vᵀ of the thin SVD, in double (unique for full-rank {@code a}). */
    public static double[][] polar(FloatMatrix a) {
        int m = a.rows(), n = a.cols();
        SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(m, n, true, true, true);
        if (!svd.decompose(toEjml(a))) throw new AssertionError("EJML failed on " + a);
        DMatrixRMaj u = svd.getU(null, false), v = svd.getV(null, false);
        int r = Math.min(m, n);
        double[][] p = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int l = 0; l < r; l++) sum += u.get(i, l) * v.get(j, l);
                p[i][j] = sum;
            }
        }
        return p;
    }

    /** a·b in double with a plain triple loop. */
    public static double[][] multiply(FloatMatrix a, FloatMatrix b) {
        if (a.cols() != b.rows()) throw new IllegalArgumentException(a + " · " + b);
        double[][] c = new double[a.rows()][b.cols()];
        for (int i = 0; i < a.rows(); i++) {
            for (int j = 0; j < b.cols(); j++) {
                double sum = 0;
                for (int l = 0; l < a.cols(); l++) sum += (double) a.get(i, l) * b.get(l, j);
                c[i][j] = sum;
            }
        }
        return c;
    }

    /** ‖x − y‖_F / ‖y‖_F (‖x‖_F when y = 0): the SVD comparison of §1.10. */
    public static double relativeFrobenius(FloatMatrix x, double[][] y) {
        double err = 0, norm = 0;
        for (int i = 0; i < x.rows(); i++) {
            for (int j = 0; j < x.cols(); j++) {
                double d = x.get(i, j) - y[i][j];
                err += d * d;
                norm += y[i][j] * y[i][j];
            }
        }
        return norm == 0 ? Math.sqrt(err) : Math.sqrt(err / norm);
    }

    /** max |x − y| / max(max |y|, MIN_NORMAL): per-element error relative to the largest entry. */
    public static double maxRelativeDifference(FloatMatrix x, double[][] y) {
        double worst = 0, scale = 0;
        for (int i = 0; i < x.rows(); i++) {
            for (int j = 0; j < x.cols(); j++) {
                worst = Math.max(worst, Math.abs(x.get(i, j) - y[i][j]));
                scale = Math.max(scale, Math.abs(y[i][j]));
            }
        }
        return worst / Math.max(scale, Float.MIN_NORMAL);
    }

    static FloatMatrix toFloat(double[][] x) {
        FloatMatrix f = FloatMatrix.zeros(x.length, x.length == 0 ? 0 : x[0].length);
        for (int i = 0; i < f.rows(); i++) for (int j = 0; j < f.cols(); j++) f.set(i, j, (float) x[i][j]);
        return f;
    }

    private static DMatrixRMaj toEjml(FloatMatrix a) {
        DMatrixRMaj d = new DMatrixRMaj(a.rows(), a.cols());
        for (int i = 0; i < a.rows(); i++) for (int j = 0; j < a.cols(); j++) d.set(i, j, a.get(i, j));
        return d;
    }
}

package dev.amalgam.kernel.svd;

/**
 * The reference SVD kernels: {@link JacobiSvd} in double for every decomposition (truncated =
 * the full SVD cut to k; polar = U·Vh formed in double) and products accumulated in double.
 * Slow (O(n³) per sweep, scalar) and exact to double rounding: the oracle of the contract suite.
 */
public final class ReferenceSvdKernels implements SvdKernels {

    /** Use {@link #INSTANCE}. */
    private ReferenceSvdKernels() {
    }

    /** The one instance; it holds no state. */
    public static final ReferenceSvdKernels INSTANCE = new ReferenceSvdKernels();

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Svd svd(FloatMatrix a) {
        return JacobiSvd.decompose(a).toSvd();
    }

    @Override
    public Svd truncated(FloatMatrix a, int k) {
        return JacobiSvd.decompose(a).truncate(k);
    }

    @Override
    public FloatMatrix polar(FloatMatrix a) {
        return JacobiSvd.decompose(a).polar();
    }

    @Override
    public FloatMatrix multiply(FloatMatrix a, FloatMatrix b) {
        if (a.cols() != b.rows()) throw new IllegalArgumentException("cannot multiply " + a + " by " + b);
        int m = a.rows(), k = a.cols(), n = b.cols();
        FloatMatrix out = FloatMatrix.zeros(m, n);
        double[] row = new double[n];
        for (int i = 0; i < m; i++) {
            java.util.Arrays.fill(row, 0);
            for (int l = 0; l < k; l++) {
                double f = a.get(i, l);
                if (f == 0) continue;
                for (int j = 0; j < n; j++) row[j] += f * b.get(l, j);
            }
            for (int j = 0; j < n; j++) out.set(i, j, (float) row[j]);
        }
        return out;
    }

    @Override
    public FloatMatrix multiplyTransposed(FloatMatrix a, FloatMatrix b) {
        if (a.rows() != b.rows()) throw new IllegalArgumentException("cannot multiply the transpose of " + a + " by " + b);
        return multiply(a.transpose(), b);
    }
}

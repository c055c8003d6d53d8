package dev.amalgam.kernel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The register-tiled GEMMs against naive double loops, over sizes that hit every edge of the
 * 8-row × 3-vector tile and of the k blocks (KC = 256): set, add and subtract into strided
 * views, one-triangle updates, and the float32 GEMM.
 */
class DenseKernelsTest {

    private static double[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.nextGaussian();
        return x;
    }

    @Test
    void doubleGemmOnStridedViewsInEveryMode() {
        int[][] shapes = {{1, 1, 1}, {7, 3, 5}, {8, 24, 24}, {9, 257, 25}, {17, 513, 49}, {64, 31, 70}, {65, 300, 97}};
        for (int[] sh : shapes) {
            int m = sh[0], k = sh[1], n = sh[2];
            int lda = k + 3, ldb = n + 5, ldc = n + 2, aOff = 4, bOff = 7, cOff = 1;
            long seed = 31L * m + 7L * k + n;
            double[] a = gaussian(aOff + m * lda, seed), b = gaussian(bOff + k * ldb, seed + 1);
            for (int mode : new int[] {DenseKernels.SET, DenseKernels.ADD, DenseKernels.SUBTRACT}) {
                double[] c = gaussian(cOff + m * ldc, seed + 2), before = c.clone();
                DenseKernels.gemm(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, m, k, n, mode);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double s = 0;
                        for (int l = 0; l < k; l++) s += a[aOff + i * lda + l] * b[bOff + l * ldb + j];
                        double old = before[cOff + i * ldc + j];
                        double want = mode == DenseKernels.SET ? s : mode == DenseKernels.ADD ? old + s : old - s;
                        assertEquals(want, c[cOff + i * ldc + j], 1e-12 * Math.sqrt(k) * 10,  // §1.3: double arithmetic, rounding only (products for §11 SVDs)
                                "mode " + mode + " " + m + "×" + k + "×" + n + " at " + i + "," + j);
                    }
                    // Padding between rows is untouched.
                    for (int j = n; j < ldc && cOff + i * ldc + j < c.length; j++) {
                        assertEquals(before[cOff + i * ldc + j], c[cOff + i * ldc + j], "padding " + i + "," + j);
                    }
                }
            }
        }
    }

    @Test
    void triangleFlagsComputeAtLeastTheirTriangle() {
        int n = 101, k = 40;
        double[] a = gaussian(n * k, 41), b = gaussian(k * n, 42);
        double[] full = new double[n * n], upper = new double[n * n], lower = new double[n * n];
        DenseKernels.gemm(a, 0, k, b, 0, n, full, 0, n, n, k, n, DenseKernels.SET);
        DenseKernels.gemm(a, 0, k, b, 0, n, upper, 0, n, n, k, n, DenseKernels.SET | DenseKernels.UPPER);
        DenseKernels.gemm(a, 0, k, b, 0, n, lower, 0, n, n, k, n, DenseKernels.SET | DenseKernels.LOWER);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if (j >= i) assertEquals(full[i * n + j], upper[i * n + j], 0.0, "upper " + i + "," + j);
                if (j <= i) assertEquals(full[i * n + j], lower[i * n + j], 0.0, "lower " + i + "," + j);
            }
        }
    }

    @Test
    void floatGemmMatchesDoubleAccumulation() {
        for (int[] sh : new int[][] {{1, 1, 1}, {8, 48, 48}, {9, 255, 47}, {23, 257, 49}, {70, 600, 100}}) {
            int m = sh[0], k = sh[1], n = sh[2];
            Random r = new Random(m * 1000L + k + n);
            float[] a = new float[m * k], b = new float[k * n];
            for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
            for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
            float[] c = DenseKernels.gemm(a, b, m, k, n);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0, mag = 0;
                    for (int l = 0; l < k; l++) {
                        s += (double) a[i * k + l] * b[l * n + j];
                        mag += Math.abs((double) a[i * k + l] * b[l * n + j]);
                    }
                    assertEquals(s, c[i * n + j], 1e-6 * mag + 1e-30, m + "×" + k + "×" + n + " at " + i + "," + j);  // §1.10 relative 1e-6 per element
                }
            }
        }
    }
}

package dev.amalgam.kernel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.JacobiSvd;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The blocked symmetric eigensolver: eigen-residual, orthogonality and order on sizes around the
 * panel width (NB = 32), eigenvalues of Gram matrices against the Jacobi SVD oracle (λ = σ²),
 * top-k subsets, and the inputs that stress inverse iteration (clusters, repeated and zero
 * eigenvalues, a diagonal that splits into 1×1 blocks).
 */
class SymmetricEigenTest {

    /** Symmetric Gaussian (seed printed through the assertion messages). */
    private static double[] symmetric(int n, long seed) {
        Random r = new Random(seed);
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r.nextGaussian();
        }
        return a;
    }

    /** Checks ‖A·v − λ·v‖ ≤ tol·‖A‖_max per pair, |VᵀV − I| ≤ orth, values descending. */
    private static void check(String what, double[] a, int n, SymmetricEigen.Result res, int k, double tol, double orth) {
        assertEquals(k, res.values().length, what);
        double scale = 0;
        for (double x : a) scale = Math.max(scale, Math.abs(x));
        scale = Math.max(scale, Double.MIN_NORMAL);
        for (int l = 0; l < k; l++) {
            if (l > 0) assertTrue(res.values()[l] <= res.values()[l - 1], what + ": not descending at " + l);
            double[] v = res.vectors()[l];
            double worst = 0;
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < n; j++) s += a[i * n + j] * v[j];
                worst = Math.max(worst, Math.abs(s - res.values()[l] * v[i]));
            }
            assertTrue(worst <= tol * scale * n, what + ": residual of pair " + l + " = " + worst / scale);
            for (int m = 0; m <= l; m++) {
                double d = DenseKernels.dot(res.vectors()[l], res.vectors()[m], n) - (l == m ? 1 : 0);
                assertTrue(Math.abs(d) <= orth, what + ": |vᵀv − δ| = " + Math.abs(d) + " for " + l + ", " + m);
            }
        }
    }

    @Test
    void randomSymmetricMatricesAroundThePanelWidth() {
        for (int n : new int[] {1, 2, 3, 31, 32, 33, 34, 65, 150}) {
            double[] a = symmetric(n, 1000 + n);
            SymmetricEigen.Result res = SymmetricEigen.top(a.clone(), n, n);
            check("symmetric " + n + " seed " + (1000 + n), a, n, res, n, 1e-14, 1e-10);  // §1.3: double arithmetic, rounding only (eigenvalues for §11 SVDs)
            double trace = 0, sum = 0;
            for (int i = 0; i < n; i++) trace += a[i * n + i];
            for (double v : res.values()) sum += v;
            assertEquals(trace, sum, 1e-10 * n, "trace of " + n);  // §1.3: double arithmetic, rounding only
        }
    }

    @Test
    void gramEigenvaluesAreTheSquaredSingularValuesOfTheJacobiOracle() {
        // X 90×70 with a power-law spectrum (seed 2001): G = XᵀX spans 1e-6 of its norm.
        double[] s = new double[70];
        for (int i = 0; i < s.length; i++) s[i] = 1.0 / ((i + 1) * (i + 1) * (i + 1) / 10.0 + 1);
        FloatMatrix x = SvdTestMatrices.withSingularValues(90, 70, s, 2001);
        double[] xd = new double[x.data().length];
        for (int i = 0; i < xd.length; i++) xd[i] = x.data()[i];
        double[] g = DenseKernels.gramFlat(xd, 90, 70);
        double[] ref = JacobiSvd.decompose(x).s();
        SymmetricEigen.Result all = SymmetricEigen.top(g.clone(), 70, 70);
        check("gram 90×70", g, 70, all, 70, 1e-14, 1e-8);  // §1.3: double arithmetic, rounding only
        for (int i = 0; i < 70; i++) assertEquals(ref[i] * ref[i], all.values()[i], 1e-13 * ref[0] * ref[0], "λ" + i);  // §1.3: double arithmetic, rounding only
        // The top 9 alone: the same values, the same vectors up to sign.
        SymmetricEigen.Result top = SymmetricEigen.top(g.clone(), 70, 9);
        check("gram 90×70 top 9", g, 70, top, 9, 1e-14, 1e-8);  // §1.3: double arithmetic, rounding only
        for (int l = 0; l < 9; l++) {
            assertEquals(all.values()[l], top.values()[l], 1e-14 * all.values()[0]);  // §1.3: double arithmetic, rounding only
            double c = Math.abs(DenseKernels.dot(all.vectors()[l], top.vectors()[l], 70));
            assertEquals(1, c, 1e-9, "vector " + l);  // §1.3: double arithmetic, rounding only
        }
    }

    @Test
    void clustersRepeatedAndZeroEigenvalues() {
        int n = 60;
        Random r = new Random(2002);
        // I + 1e-9·E: one cluster of 60 (Gram–Schmidt would cost more than QL: the QL path).
        double[] near = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) near[i * n + j] = near[j * n + i] = (i == j ? 1 : 0) + 1e-9 * r.nextGaussian();
        }
        check("I + 1e-9 E", near, n, SymmetricEigen.top(near.clone(), n, n), n, 1e-14, 1e-10);  // §1.3: double arithmetic, rounding only (eigenvalues for §11 SVDs)
        // Q·diag(3,3,3,2,2,0,…,0)·Qᵀ: repeated and zero eigenvalues (rank 5).
        FloatMatrix q = SvdTestMatrices.gaussian(n, 5, 2003);
        double[] w = {3, 3, 3, 2, 2};
        double[][] basis = JacobiSvd.decompose(q).left();
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int l = 0; l < 5; l++) sum += basis[l][i] * w[l] * basis[l][j];
                a[i * n + j] = sum;
            }
        }
        for (int i = 0; i < n; i++) for (int j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
        SymmetricEigen.Result res = SymmetricEigen.top(a.clone(), n, n);
        check("rank 5, repeated", a, n, res, n, 1e-14, 1e-10);  // §1.3: double arithmetic, rounding only (eigenvalues for §11 SVDs)
        for (int l = 0; l < 5; l++) assertEquals(w[l], res.values()[l], 1e-13);  // §1.3: double arithmetic, rounding only
        for (int l = 5; l < n; l++) assertEquals(0, res.values()[l], 1e-13);  // §1.3: double arithmetic, rounding only
        // Diagonal: the tridiagonal splits into 1×1 blocks; the zero matrix.
        double[] diag = new double[n * n];
        for (int i = 0; i < n; i++) diag[i * n + i] = (i * 7919) % 13 - 6;
        SymmetricEigen.Result dres = SymmetricEigen.top(diag.clone(), n, 10);
        check("diagonal", diag, n, dres, 10, 0, 0);
        assertEquals(6, dres.values()[0]);
        check("zero", new double[n * n], n, SymmetricEigen.top(new double[n * n], n, n), n, 0, 1e-15);  // §1.3: double arithmetic, rounding only
    }

    @Test
    void topZeroAndEmpty() {
        assertEquals(0, SymmetricEigen.top(symmetric(5, 3), 5, 0).values().length);
        assertEquals(0, SymmetricEigen.top(new double[0], 0, 3).values().length);
    }
}

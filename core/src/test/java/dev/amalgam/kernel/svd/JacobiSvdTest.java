package dev.amalgam.kernel.svd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;
import org.junit.jupiter.api.Test;

/** Hand-computed cases of the Jacobi oracle, its convergence report, and EJML as a second opinion. */
class JacobiSvdTest {

    @Test
    void handComputedSingularValues() {
        // diag(3, 4): σ = 4, 3.
        assertArrayEquals(new double[] {4, 3}, JacobiSvd.decompose(FloatMatrix.of(new float[] {3, 0}, new float[] {0, 4})).s(), 1e-12);  // §1.3: double arithmetic, rounding only
        // [[1, 1], [0, 0]]: rank 1, σ = √2, 0.
        assertArrayEquals(new double[] {Math.sqrt(2), 0}, JacobiSvd.decompose(FloatMatrix.of(new float[] {1, 1}, new float[] {0, 0})).s(), 1e-12);  // §1.3: double arithmetic, rounding only
        // [[3, 0], [4, 5]]: AᵀA = [[25, 20], [20, 25]] → σ² = 45, 5.
        assertArrayEquals(new double[] {Math.sqrt(45), Math.sqrt(5)},
                JacobiSvd.decompose(FloatMatrix.of(new float[] {3, 0}, new float[] {4, 5})).s(), 1e-12);  // §1.3: double arithmetic, rounding only
        // A row vector: σ = its norm, Vh = it normalized.
        Svd row = JacobiSvd.decompose(FloatMatrix.of(new float[] {3, 4})).toSvd();
        assertArrayEquals(new double[] {5}, row.s(), 1e-12);  // §1.3: double arithmetic, rounding only
        assertEquals(0.6f, Math.abs(row.vh().get(0, 0)), 1e-7f);  // §1.3: float32 storage of a double result
        assertEquals(0.8f, Math.abs(row.vh().get(0, 1)), 1e-7f);  // §1.3: float32 storage
    }

    @Test
    void convergesInAFewSweepsWithOrthogonalColumns() {
        for (int n : new int[] {8, 32, 64}) {
            FloatMatrix a = SvdTestMatrices.gaussian(n + 5, n, 7 + n);
            JacobiSvd.DoubleSvd d = JacobiSvd.decompose(a);
            System.out.println("Jacobi " + a + " seed " + (7 + n) + ": " + d.sweeps() + " sweeps, off-diagonal " + d.offDiagonal());
            assertTrue(d.sweeps() >= 2 && d.sweeps() <= 15, "sweeps " + d.sweeps());
            assertTrue(d.offDiagonal() <= JacobiSvd.tolerance(n + 5), "off-diagonal " + d.offDiagonal());
        }
        // Already orthogonal columns: one sweep that rotates nothing.
        assertEquals(1, JacobiSvd.decompose(FloatMatrix.of(new float[] {2, 0}, new float[] {0, 1}, new float[] {0, 0})).sweeps());
    }

    @Test
    void zeroMatrixHasZeroSingularValuesAndOrthonormalFactors() {
        Svd svd = JacobiSvd.decompose(FloatMatrix.zeros(4, 3)).toSvd();
        assertArrayEquals(new double[] {0, 0, 0}, svd.s());
        assertTrue(SvdTestMatrices.columnOrthogonality(svd.u()) < 1e-12);  // §1.3: double arithmetic, rounding only
        assertTrue(SvdTestMatrices.rowOrthogonality(svd.vh()) < 1e-12);  // §1.3: double arithmetic, rounding only
    }

    @Test
    void agreesWithEjml() {
        for (long seed = 1; seed <= 4; seed++) {
            int m = 10 + (int) seed * 7, n = 30 - (int) seed * 4;
            FloatMatrix a = SvdTestMatrices.gaussian(m, n, seed);
            DMatrixRMaj d = new DMatrixRMaj(m, n);
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) d.set(i, j, a.get(i, j));
            SingularValueDecomposition_F64<DMatrixRMaj> ejml = DecompositionFactory_DDRM.svd(m, n, false, false, true);
            assertTrue(ejml.decompose(d));
            double[] s = ejml.getSingularValues().clone();
            java.util.Arrays.sort(s);
            double[] ours = JacobiSvd.decompose(a).s();
            for (int i = 0; i < ours.length; i++) {
                assertEquals(s[s.length - 1 - i], ours[i], 1e-12 * s[s.length - 1], "seed " + seed + " σ" + i);  // §1.3: double arithmetic, rounding only
            }
        }
    }
}

package dev.amalgam.kernel.svd;

import static dev.amalgam.kernel.svd.SvdTestMatrices.columnOrthogonality;
import static dev.amalgam.kernel.svd.SvdTestMatrices.gaussian;
import static dev.amalgam.kernel.svd.SvdTestMatrices.lowRank;
import static dev.amalgam.kernel.svd.SvdTestMatrices.relativeResidual;
import static dev.amalgam.kernel.svd.SvdTestMatrices.rowOrthogonality;
import static dev.amalgam.kernel.svd.SvdTestMatrices.scaled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The SVD contract, written once and run for every {@link SvdKernels} implementation (EJML's
 * habit): reconstruction, orthogonality of U and V, sorted singular values that match the
 * double-precision Jacobi oracle, on tall, wide, square, rank-deficient, tiny-valued, zero,
 * 1×n and n×1 matrices. Singular vectors are never compared (they are not unique); polar
 * factors are compared only for full-rank inputs, where they are unique.
 *
 * <p>Expectations never come from Amalgam's own SVD: singular values and polar factors from EJML's
 * double SVD ({@link SvdOracle}), products from plain double loops, and the invariants
 * (reconstruction, orthogonality, Eckart–Young, H = PᵀA symmetric PSD).
 *
 * <p>Tolerances (float32 outputs; §1.10 allows SVD results relative Frobenius 1e-4), overridable per
 * implementation: relative reconstruction error ≤ {@link #reconstructionTolerance()}, max |UᵀU − I| and
 * |VhVhᵀ − I| ≤ {@link #orthogonalityTolerance()}, |σ_i − σ_i(EJML)| ≤ {@link #singularValueTolerance()}·σ_1,
 * polar factor within relative Frobenius {@link #POLAR_TOLERANCE} of EJML's (§1.10).
 */
public abstract class SvdKernelsContract {

    protected abstract SvdKernels kernels();

    /** §1.10: SVD results within relative Frobenius 1e-4. */
    protected static final double POLAR_TOLERANCE = 1e-4;

    /** §1.10's per-element relative 1e-6 for values downstream of a reduction (float32 products, double sums). */
    protected static final double PRODUCT_TOLERANCE = 1e-6;

    /** Tighter than §1.10's 1e-4 (relative Frobenius), which must hold for whole SVD-method outputs. */
    protected double reconstructionTolerance() {
        return 1e-5;
    }

    /** §1.10 (SVD tolerance), tightened: float32 factors are orthonormal to a few ulps·√n. */
    protected double orthogonalityTolerance() {
        return 1e-5;
    }

    /** §1.10 (SVD tolerance), tightened to 1e-5·σ₁ per singular value for float32 outputs. */
    protected double singularValueTolerance() {
        return 1e-5;
    }

    /** The named cases every implementation must decompose. */
    protected Map<String, FloatMatrix> cases() {
        Map<String, FloatMatrix> c = new LinkedHashMap<>();
        c.put("tall 40×13 seed 11", gaussian(40, 13, 11));
        c.put("wide 9×31 seed 12", gaussian(9, 31, 12));
        c.put("square 24×24 seed 13", gaussian(24, 24, 13));
        c.put("square 64×64 seed 14", gaussian(64, 64, 14));
        c.put("tall 150×70 seed 15", gaussian(150, 70, 15));
        c.put("rank 3 of 30×20 seed 16", lowRank(30, 20, 3, 16));
        c.put("rank 5 of 12×45 seed 17", lowRank(12, 45, 5, 17));
        c.put("tiny 1e-30 × 16×11 seed 18", scaled(gaussian(16, 11, 18), 1e-30f));
        c.put("subnormal 1e-41 × 6×5 seed 19", scaled(gaussian(6, 5, 19), 1e-41f));
        c.put("huge 1e30 × 8×8 seed 20", scaled(gaussian(8, 8, 20), 1e30f));
        c.put("zero 7×5", FloatMatrix.zeros(7, 5));
        c.put("1×17 seed 21", gaussian(1, 17, 21));
        c.put("17×1 seed 22", gaussian(17, 1, 22));
        c.put("1×1", FloatMatrix.of(new float[] {-3f}));
        c.put("repeated singular values 10×6", SvdTestMatrices.withSingularValues(10, 6, new double[] {2, 2, 2, 1, 1, 0.5}, 23));
        return c;
    }

    @Test
    void thinSvdReconstructsWithOrthonormalFactorsAndReferenceSingularValues() {
        for (var e : cases().entrySet()) {
            FloatMatrix a = e.getValue();
            Svd svd = kernels().svd(a);
            checkSvd(e.getKey(), a, svd, Math.min(a.rows(), a.cols()));
            double res = relativeResidual(a, svd);
            assertTrue(res <= reconstructionTolerance(), e.getKey() + ": relative residual " + res);
        }
    }

    @Test
    void truncatedSvdKeepsTheTopSingularTriplets() {
        for (var e : cases().entrySet()) {
            FloatMatrix a = e.getValue();
            int r = Math.min(a.rows(), a.cols());
            for (int k : new int[] {0, 1, Math.max(1, r / 3), r, r + 5}) {
                Svd svd = kernels().truncated(a, k);
                int kk = Math.min(k, r);
                checkSvd(e.getKey() + " k=" + k, a, svd, kk);
                // ‖A − A_k‖ is the optimal Σ_{i>k} σ_i² (Eckart–Young).
                double[] ref = SvdOracle.singularValues(a);
                double tail = 0, total = 0;
                for (int i = 0; i < ref.length; i++) {
                    total += ref[i] * ref[i];
                    if (i >= kk) tail += ref[i] * ref[i];
                }
                if (total == 0) continue;
                double res = relativeResidual(a, svd);
                double optimal = Math.sqrt(tail / total);
                assertTrue(res <= optimal + reconstructionTolerance() * 4,
                        e.getKey() + " k=" + k + ": residual " + res + " vs optimal " + optimal);
            }
        }
    }

    @Test
    void truncatedSvdOfAMatrixWithDecayingSpectrum() {
        // Spectrum 1/(i+1)^2 (seed 31): the top 8 of 96 must match the reference.
        double[] s = new double[96];
        for (int i = 0; i < s.length; i++) s[i] = 1.0 / ((i + 1) * (i + 1));
        FloatMatrix a = SvdTestMatrices.withSingularValues(120, 96, s, 31);
        Svd svd = kernels().truncated(a, 8);
        checkSvd("decaying 120×96 k=8", a, svd, 8);
    }

    @Test
    void polarFactorIsOrthonormalAndUniqueForFullRank() {
        for (var e : cases().entrySet()) {
            FloatMatrix a = e.getValue();
            FloatMatrix p = kernels().polar(a);
            assertEquals(a.rows(), p.rows(), e.getKey());
            assertEquals(a.cols(), p.cols(), e.getKey());
            double orth = a.rows() >= a.cols() ? columnOrthogonality(p) : rowOrthogonality(p);
            assertTrue(orth <= orthogonalityTolerance(), e.getKey() + ": polar orthogonality " + orth);
            // A = P·H with H = PᵀA symmetric positive semidefinite (tall), A = H·P (wide).
            double[][] h = a.rows() >= a.cols() ? SvdOracle.multiply(p.transpose(), a) : SvdOracle.multiply(a, p.transpose());
            double scale = Math.max(a.frobenius(), Float.MIN_VALUE);
            for (int i = 0; i < h.length; i++) {
                for (int j = 0; j < i; j++) {
                    // §1.10's SVD tolerance (1e-4), relative to ‖A‖_F
                    assertTrue(Math.abs(h[i][j] - h[j][i]) <= POLAR_TOLERANCE * scale, e.getKey() + ": H not symmetric at " + i + "," + j);
                }
                assertTrue(h[i][i] >= -POLAR_TOLERANCE * scale, e.getKey() + ": H has a negative diagonal");
            }
        }
        // Full rank: the polar factor is unique, so it must match EJML's U·Vᵀ (§1.10: relative Frobenius 1e-4).
        for (FloatMatrix a : List.of(gaussian(30, 12, 41), gaussian(12, 30, 42), gaussian(40, 40, 43),
                SvdTestMatrices.withSingularValues(20, 9, new double[] {5, 4, 3, 2, 1, 0.5, 0.25, 0.125, 0.0625}, 44))) {
            double d = SvdOracle.relativeFrobenius(kernels().polar(a), SvdOracle.polar(a));
            assertTrue(d <= POLAR_TOLERANCE, a + ": polar differs from EJML's by " + d + " (relative Frobenius)");
        }
    }

    @Test
    void batchesGiveTheSameResultsAsSingleCalls() {
        List<FloatMatrix> batch = new ArrayList<>();
        for (int i = 0; i < 5; i++) batch.add(gaussian(33, 21, 100 + i));
        List<Svd> svds = kernels().svdBatch(batch);
        List<Svd> tops = kernels().truncatedBatch(batch, 7);
        List<FloatMatrix> polars = kernels().polarBatch(batch);
        assertEquals(5, svds.size());
        for (int i = 0; i < batch.size(); i++) {
            FloatMatrix a = batch.get(i);
            checkSvd("batch " + i, a, svds.get(i), 21);
            checkSvd("truncated batch " + i, a, tops.get(i), 7);
            double d = SvdOracle.relativeFrobenius(polars.get(i), SvdOracle.polar(a));
            assertTrue(d <= POLAR_TOLERANCE, "polar batch " + i + " differs from EJML's by " + d + " (§1.10)");
        }
        assertEquals(0, kernels().svdBatch(List.of()).size());
    }

    @Test
    void productsMatchDoubleAccumulation() {
        FloatMatrix a = gaussian(37, 19, 51), b = gaussian(19, 23, 52), c = gaussian(37, 23, 53);
        FloatMatrix ab = kernels().multiply(a, b);
        FloatMatrix atc = kernels().multiplyTransposed(a, c);
        assertEquals(37, ab.rows());
        assertEquals(23, ab.cols());
        assertEquals(19, atc.rows());
        assertEquals(23, atc.cols());
        assertTrue(SvdOracle.maxRelativeDifference(ab, SvdOracle.multiply(a, b)) <= PRODUCT_TOLERANCE);
        assertTrue(SvdOracle.maxRelativeDifference(atc, SvdOracle.multiply(a.transpose(), c)) <= PRODUCT_TOLERANCE);
        assertThrows(IllegalArgumentException.class, () -> kernels().multiply(a, a));
    }

    @Test
    void nonFiniteInputIsRejected() {
        FloatMatrix a = gaussian(5, 4, 61);
        a.set(2, 3, Float.NaN);
        assertThrows(IllegalArgumentException.class, () -> kernels().svd(a));
        a.set(2, 3, Float.POSITIVE_INFINITY);
        assertThrows(IllegalArgumentException.class, () -> kernels().truncated(a, 2));
        assertThrows(IllegalArgumentException.class, () -> kernels().polar(a));
    }

    /** Shapes, orthogonality, order and agreement of S with the reference's first k values. */
    protected void checkSvd(String what, FloatMatrix a, Svd svd, int k) {
        assertEquals(k, svd.rank(), what + ": rank");
        assertEquals(a.rows(), svd.u().rows(), what + ": U rows");
        assertEquals(a.cols(), svd.vh().cols(), what + ": Vh cols");
        double uo = columnOrthogonality(svd.u()), vo = rowOrthogonality(svd.vh());
        assertTrue(uo <= orthogonalityTolerance(), what + ": |UᵀU − I| = " + uo);
        assertTrue(vo <= orthogonalityTolerance(), what + ": |VhVhᵀ − I| = " + vo);
        double[] ref = SvdOracle.singularValues(a);
        double top = ref.length == 0 ? 0 : ref[0];
        for (int i = 0; i < k; i++) {
            assertTrue(svd.s()[i] >= 0, what + ": σ" + i + " < 0");
            if (i > 0) assertTrue(svd.s()[i] <= svd.s()[i - 1], what + ": S not descending at " + i);
            assertTrue(Math.abs(svd.s()[i] - ref[i]) <= singularValueTolerance() * top,
                    what + ": σ" + i + " = " + svd.s()[i] + ", reference " + ref[i]);
        }
    }
}

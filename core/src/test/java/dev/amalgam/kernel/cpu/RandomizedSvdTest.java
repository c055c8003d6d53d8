package dev.amalgam.kernel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.JacobiSvd;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import org.junit.jupiter.api.Test;

/** The randomized truncated path: its stated accuracy target and its fallback. */
class RandomizedSvdTest {

    @Test
    void decayingSpectrumMeetsTheTargetWithFewPowerIterations() {
        // σ_i = 0.9^i, 200×160 (seed 71), k = 20 → l = 36 ≤ 80.
        double[] s = new double[160];
        for (int i = 0; i < s.length; i++) s[i] = Math.pow(0.9, i);
        FloatMatrix a = SvdTestMatrices.withSingularValues(200, 160, s, 71);
        // The kernels only take this path for l ≤ r/16 (here l = 36 > 160/16); call it directly.
        assertTrue(!RandomizedSvd.applies(a, 20) && RandomizedSvd.applies(FloatMatrix.zeros(1000, 600), 20));
        Svd svd = RandomizedSvd.topK(a, 20);
        assertNotNull(svd, "a 0.9^i spectrum converges");
        System.out.println("randomized top-20 of 200×160 (0.9^i): " + svd.sweeps() + " power iterations");
        assertTrue(svd.sweeps() <= 8);
        double[] ref = JacobiSvd.decompose(a).s();
        for (int i = 0; i < 20; i++) assertEquals(ref[i], svd.s()[i], 1e-5 * ref[0], "σ" + i);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(SvdTestMatrices.columnOrthogonality(svd.u()) < 1e-5);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(SvdTestMatrices.rowOrthogonality(svd.vh()) < 1e-5);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
    }

    @Test
    void flatSpectrumEitherMeetsTheTargetOrFallsBack() {
        // A Gaussian matrix has no gap at k: the check decides; the kernels' answer is exact either way.
        FloatMatrix a = SvdTestMatrices.gaussian(180, 150, 72);
        Svd fast = RandomizedSvd.topK(a, 12);
        double[] ref = JacobiSvd.decompose(a).s();
        if (fast != null) {
            for (int i = 0; i < 12; i++) assertEquals(ref[i], fast.s()[i], 1e-5 * ref[0]);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        }
        Svd svd = FastCpuSvdKernels.INSTANCE.truncated(a, 12);
        for (int i = 0; i < 12; i++) assertEquals(ref[i], svd.s()[i], 1e-5 * ref[0], "σ" + i);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(SvdTestMatrices.columnOrthogonality(svd.u()) < 1e-5);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
    }

    @Test
    void lowRankInputIsFoundExactly() {
        FloatMatrix a = SvdTestMatrices.lowRank(150, 120, 6, 73);
        Svd svd = FastCpuSvdKernels.INSTANCE.truncated(a, 10);
        assertEquals(10, svd.rank());
        assertTrue(SvdTestMatrices.relativeResidual(a, svd) < 1e-5);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(SvdTestMatrices.columnOrthogonality(svd.u()) < 1e-5);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(svd.s()[6] < 1e-5 * svd.s()[0]);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
    }
}

package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.internal.JacobiShape;
import dev.amalgam.cuda.internal.SvdEmulatedCudaDriver;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.JacobiSvd;
import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The paths of CudaSvdKernels beyond the contract, on the emulating driver: chunked batches,
 * mixed shapes, the blocked variant's sweep accounting, the randomized truncated SVD with its
 * stated accuracy, and error messages.
 */
class CudaSvdKernelsEmulatedPathsTest {

    @Test
    void chunkingDoesNotChangeResults() {
        List<FloatMatrix> batch = new ArrayList<>();
        for (int i = 0; i < 7; i++) batch.add(SvdTestMatrices.gaussian(12, 9, 300 + i));
        SvdEmulatedCudaDriver d1 = new SvdEmulatedCudaDriver(), d2 = new SvdEmulatedCudaDriver();
        // ~2.6 KB per 12×9 matrix: a 6 KB chunk budget forces chunks of 2.
        try (CudaSvdKernels whole = CudaSvdKernelsEmulatedTest.open(d1, CudaSvdKernels.Options.defaults());
             CudaSvdKernels chunked = CudaSvdKernelsEmulatedTest.open(d2, CudaSvdKernels.Options.defaults().withMaxChunkBytes(6_000))) {
            List<Svd> a = whole.svdBatch(batch), b = chunked.svdBatch(batch);
            assertEquals(1, (int) d1.launches.get("amalgam_svd_jacobi_shared"));
            assertTrue(d2.launches.get("amalgam_svd_jacobi_shared") >= 3, "chunks: " + d2.launches);
            for (int i = 0; i < batch.size(); i++) {
                assertArrayEquals(a.get(i).s(), b.get(i).s(), "seed " + (300 + i));
                assertEquals(a.get(i).u(), b.get(i).u());
                assertEquals(a.get(i).vh(), b.get(i).vh());
            }
        }
    }

    @Test
    void mixedShapesComeBackInBatchOrder() {
        List<FloatMatrix> batch = List.of(SvdTestMatrices.gaussian(6, 4, 401), SvdTestMatrices.gaussian(3, 8, 402),
                SvdTestMatrices.gaussian(6, 4, 403), FloatMatrix.zeros(0, 5), SvdTestMatrices.gaussian(1, 1, 404));
        try (CudaSvdKernels k = CudaSvdKernelsEmulatedTest.open(new SvdEmulatedCudaDriver(), CudaSvdKernels.Options.defaults())) {
            List<Svd> out = k.svdBatch(batch);
            for (int i = 0; i < batch.size(); i++) {
                FloatMatrix a = batch.get(i);
                assertEquals(a.minDim(), out.get(i).rank(), "#" + i);
                assertArrayEquals(JacobiSvd.decompose(a).s(), out.get(i).s(), 1e-5 * Math.max(1, a.maxAbs()), "#" + i);
            }
            assertEquals(0, k.polarBatch(List.of(FloatMatrix.zeros(4, 0))).getFirst().cols());
        }
    }

    @Test
    void blockedVariantCountsSweepsAndConverges() {
        // 200×60 does not fit 48 KiB: 4 column blocks, 3 steps of 2 block pairs per sweep.
        FloatMatrix a = SvdTestMatrices.gaussian(200, 60, 501);
        JacobiShape shape = new JacobiShape(200, 60);
        assertFalse(shape.fitsShared(JacobiShape.DEFAULT_SHARED_LIMIT));
        SvdEmulatedCudaDriver d = new SvdEmulatedCudaDriver();
        try (CudaSvdKernels k = CudaSvdKernelsEmulatedTest.open(d, CudaSvdKernels.Options.defaults())) {
            Svd svd = k.svd(a);
            System.out.println("blocked 200×60 seed 501: " + svd.sweeps() + " sweeps, off " + svd.offDiagonal() + ", " + d.launches);
            assertTrue(svd.sweeps() >= 3 && svd.sweeps() <= 20, "sweeps " + svd.sweeps());
            assertTrue(svd.offDiagonal() <= shape.tolerance(), "off " + svd.offDiagonal());
            int sweepEnds = d.launches.get("amalgam_svd_sweep_end");
            assertEquals(svd.sweeps(), sweepEnds);
            assertEquals(sweepEnds * shape.blockSteps(), (int) d.launches.get("amalgam_svd_block_step"));
            assertTrue(SvdTestMatrices.relativeResidual(a, svd) < 2e-6);
            assertArrayEquals(JacobiSvd.decompose(a).s(), svd.s(), 2e-6 * JacobiSvd.decompose(a).s()[0]);
        }
    }

    @Test
    void sweepCapIsReported() {
        FloatMatrix a = SvdTestMatrices.gaussian(30, 20, 601);
        CudaSvdKernels.Options one = new CudaSvdKernels.Options(1, 0, 16, 2, Long.MAX_VALUE, 1 << 20);
        try (CudaSvdKernels k = CudaSvdKernelsEmulatedTest.open(new SvdEmulatedCudaDriver(), one)) {
            Svd svd = k.svd(a);
            assertEquals(1, svd.sweeps());
            assertTrue(svd.offDiagonal() > new JacobiShape(30, 20).tolerance(), "one sweep cannot converge: off " + svd.offDiagonal());
        }
    }

    @Test
    void randomizedTruncatedSvdOfADecayingSpectrum() {
        // σ_i = 0.7^i, 160×140, k = 8, l = 8 + 16, 2 power iterations: the error bound
        // (σ_25/σ_8)^5 = 0.7^85 ≈ 7e-14 is far below float32; target |Δσ| ≤ 1e-5·σ₁, orthonormal
        // factors within 1e-5 and a residual within 1e-5 of the optimal one.
        double[] s = new double[140];
        for (int i = 0; i < s.length; i++) s[i] = Math.pow(0.7, i);
        FloatMatrix a = SvdTestMatrices.withSingularValues(160, 140, s, 701);
        SvdEmulatedCudaDriver d = new SvdEmulatedCudaDriver();
        try (CudaSvdKernels k = CudaSvdKernelsEmulatedTest.open(d, CudaSvdKernels.Options.defaults().withRandomizedMinDim(100))) {
            assertTrue(k.useRandomized(new JacobiShape(160, 140), 8));
            assertFalse(k.useRandomized(new JacobiShape(160, 140), 60));
            Svd svd = k.truncated(a, 8);
            assertTrue(d.launches.get("amalgam_sgemm") >= 6, "range finder products: " + d.launches);
            double[] ref = JacobiSvd.decompose(a).s();
            for (int i = 0; i < 8; i++) assertEquals(ref[i], svd.s()[i], 1e-5 * ref[0], "σ" + i);
            assertTrue(SvdTestMatrices.columnOrthogonality(svd.u()) < 1e-5);
            assertTrue(SvdTestMatrices.rowOrthogonality(svd.vh()) < 1e-5);
            double tail = 0, total = 0;
            for (int i = 0; i < ref.length; i++) {
                total += ref[i] * ref[i];
                if (i >= 8) tail += ref[i] * ref[i];
            }
            assertTrue(SvdTestMatrices.relativeResidual(a, svd) <= Math.sqrt(tail / total) + 1e-5);
            // The wide orientation takes the same path.
            Svd wide = k.randomizedBatch(List.of(a.transpose()), 8, 16, 2).getFirst();
            for (int i = 0; i < 8; i++) assertEquals(ref[i], wide.s()[i], 1e-5 * ref[0], "wide σ" + i);
        }
    }

    @Test
    void nonFiniteInputNamesTheMatrixOfTheBatch() {
        FloatMatrix bad = SvdTestMatrices.gaussian(5, 4, 801);
        bad.set(1, 2, Float.NaN);
        try (CudaSvdKernels k = CudaSvdKernelsEmulatedTest.open(new SvdEmulatedCudaDriver(), CudaSvdKernels.Options.defaults())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> k.svdBatch(List.of(SvdTestMatrices.gaussian(5, 4, 802), bad)));
            assertEquals("SVD input #1 (FloatMatrix[5×4]) contains NaN or Inf", e.getMessage());
            bad.set(1, 2, Float.NEGATIVE_INFINITY);
            assertThrows(IllegalArgumentException.class, () -> k.polar(bad));
        }
    }

    @Test
    void productsThroughTheKernelGemm() {
        FloatMatrix a = SvdTestMatrices.gaussian(70, 33, 901), b = SvdTestMatrices.gaussian(33, 65, 902);
        try (CudaSvdKernels k = CudaSvdKernelsEmulatedTest.open(new SvdEmulatedCudaDriver(), CudaSvdKernels.Options.defaults())) {
            assertTrue(k.gemmDescription().endsWith("using amalgam_sgemm"), k.gemmDescription());
            assertTrue(SvdTestMatrices.maxRelativeDifference(k.multiply(a, b), ReferenceSvdKernels.INSTANCE.multiply(a, b)) < 1e-6);
            FloatMatrix c = SvdTestMatrices.gaussian(70, 20, 903);
            assertTrue(SvdTestMatrices.maxRelativeDifference(k.multiplyTransposed(a, c),
                    ReferenceSvdKernels.INSTANCE.multiplyTransposed(a, c)) < 1e-6);
        }
    }
}

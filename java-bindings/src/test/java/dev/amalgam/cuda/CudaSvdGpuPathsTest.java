package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.internal.JacobiShape;
import dev.amalgam.cuda.internal.SvdEmulatedCudaDriver;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.JacobiSvd;
import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import dev.amalgam.merge.SvdMethods;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The GPU paths beyond the contract's small cases: the blocked Jacobi at layer sizes, the device
 * against its host emulation, the randomized truncated SVD at a TSV-M shape with its stated
 * accuracy, TSV-M on the GPU against the reference, and cuSOLVER as a second opinion. Skipped
 * without a GPU ({@code -Damalgam.requireGpu=true} fails instead).
 */
class CudaSvdGpuPathsTest {

    static CudaSvdKernels gpu;
    static CudaKernelProvider.Probe probe;

    @BeforeAll
    static void needsAGpu() {
        CudaKernelProvider provider = GpuRequirement.usableGpu("CudaSvdGpuPathsTest");
        probe = provider.probe();
        gpu = CudaSvdKernels.open(probe.cuda(), probe.ordinal());
        System.out.println("CudaSvdGpuPathsTest: " + gpu);
    }

    @AfterAll
    static void close() {
        if (gpu != null) gpu.close();
    }

    /** H = I − 2vvᵀ for a random unit v: orthogonal in double, applied to the rows (left) of x. */
    private static void reflectRows(double[][] x, Random r) {
        int n = x.length;
        double[] v = new double[n];
        double norm = 0;
        for (int i = 0; i < n; i++) norm += (v[i] = r.nextGaussian()) * v[i];
        norm = Math.sqrt(norm);
        for (int i = 0; i < n; i++) v[i] /= norm;
        for (int j = 0; j < x[0].length; j++) {
            double d = 0;
            for (int i = 0; i < n; i++) d += v[i] * x[i][j];
            for (int i = 0; i < n; i++) x[i][j] -= 2 * d * v[i];
        }
    }

    /** Q₁·diag(s)·Q₂ᵀ with Q₁, Q₂ products of six Householder reflections (seeded): known singular values. */
    static FloatMatrix knownSpectrum(int rows, int cols, double[] s, long seed) {
        Random r = new Random(seed);
        double[][] x = new double[rows][cols];
        for (int i = 0; i < s.length; i++) x[i][i] = s[i];
        for (int k = 0; k < 6; k++) reflectRows(x, r);
        double[][] t = new double[cols][rows];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j][i] = x[i][j];
        for (int k = 0; k < 6; k++) reflectRows(t, r);
        FloatMatrix a = FloatMatrix.zeros(rows, cols);
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) a.set(i, j, (float) t[j][i]);
        return a;
    }

    private static void checkAgainst(String what, FloatMatrix a, Svd svd, double[] ref, int k, double tol) {
        double orthU = SvdTestMatrices.columnOrthogonality(svd.u()), orthV = SvdTestMatrices.rowOrthogonality(svd.vh());
        double worst = 0;
        for (int i = 0; i < k; i++) worst = Math.max(worst, Math.abs(svd.s()[i] - ref[i]));
        System.out.printf("%s: %d sweeps, off %.2e, |UᵀU−I| %.2e, |VVᵀ−I| %.2e, max|Δσ|/σ₁ %.2e%n", what, svd.sweeps(),
                svd.offDiagonal(), orthU, orthV, worst / ref[0]);
        assertTrue(orthU <= tol && orthV <= tol, what + ": orthogonality " + orthU + ", " + orthV);
        assertTrue(worst <= tol * ref[0], what + ": σ off by " + worst / ref[0] + "·σ₁");
    }

    @Test
    void blockedJacobiAtLayerSizes() {
        // 512×384 tall and its wide transpose: q = 384 > what shared memory holds on any GPU.
        // Over the emulator (CPU, no GPU): 224×160, the smallest layer that still takes the blocked path.
        int m = GpuRequirement.emulated() ? 224 : 512, n = GpuRequirement.emulated() ? 160 : 384;
        double[] s = new double[n];
        for (int i = 0; i < s.length; i++) s[i] = 1.0 / (1 + i);
        FloatMatrix a = knownSpectrum(m, n, s, 1001);
        assertTrue(!new JacobiShape(m, n).fitsShared(gpu.sharedMemoryLimit()));
        List<Svd> out = gpu.svdBatch(List.of(a, a.transpose()));
        checkAgainst("blocked " + m + "×" + n + " seed 1001", a, out.get(0), s, n, 1e-5);
        checkAgainst("blocked " + n + "×" + m + " seed 1001", a.transpose(), out.get(1), s, n, 1e-5);
        assertTrue(SvdTestMatrices.relativeResidual(a, out.get(0)) < 1e-5);
        assertTrue(out.get(0).sweeps() < gpu.options().maxSweeps(), "did not converge");
        FloatMatrix p = gpu.polar(a);
        assertTrue(SvdTestMatrices.columnOrthogonality(p) < 1e-5);
    }

    @Test
    void deviceAgreesWithItsHostEmulation() {
        List<FloatMatrix> cases = List.of(SvdTestMatrices.gaussian(40, 13, 1101), SvdTestMatrices.gaussian(9, 31, 1102),
                SvdTestMatrices.gaussian(200, 60, 1103), SvdTestMatrices.gaussian(33, 33, 1104));
        try (CudaSvdKernels host = CudaSvdKernelsEmulatedTest.open(new SvdEmulatedCudaDriver(), CudaSvdKernels.Options.defaults())) {
            List<Svd> d = gpu.svdBatch(cases), h = host.svdBatch(cases);
            for (int i = 0; i < cases.size(); i++) {
                double[] ds = d.get(i).s(), hs = h.get(i).s();
                for (int j = 0; j < ds.length; j++) assertEquals(hs[j], ds[j], 1e-6 * hs[0], cases.get(i) + " σ" + j);
            }
        }
    }

    @Test
    void randomizedTruncatedSvdAtATsvmShape() {
        // 1024×768, k = 96 (T = 8), spectrum 0.9^i: stated target |Δσ_i| ≤ 1e-5·σ₁ for the top k.
        // Over the emulator (CPU, no GPU): 640×512, k = 64, still on the randomized path.
        int m = GpuRequirement.emulated() ? 640 : 1024, n = GpuRequirement.emulated() ? 512 : 768;
        int k = GpuRequirement.emulated() ? 64 : 96;
        double[] s = new double[n];
        for (int i = 0; i < s.length; i++) s[i] = Math.pow(0.9, i);
        FloatMatrix a = knownSpectrum(m, n, s, 1201);
        assertTrue(gpu.useRandomized(new JacobiShape(m, n), k));
        Svd svd = gpu.truncated(a, k);
        checkAgainst("randomized " + m + "×" + n + " k=" + k, a, svd, s, k, 1e-5);
    }

    @Test
    void tsvmOnTheGpuMatchesTheReference() {
        List<FloatMatrix> tasks = new ArrayList<>();
        for (int t = 0; t < 4; t++) tasks.add(SvdTestMatrices.gaussian(48, 40, 1301 + t));
        FloatMatrix ref = SvdMethods.tsvM(ReferenceSvdKernels.INSTANCE, tasks, w -> { });
        FloatMatrix out = SvdMethods.tsvM(gpu, tasks, w -> { });
        double d = SvdTestMatrices.maxRelativeDifference(out, ref);
        System.out.println("TSV-M 4 × 48×40 GPU vs reference: max relative difference " + d);
        assertTrue(d <= 1e-4, "TSV-M differs by " + d);
        FloatMatrix iso = SvdMethods.isoC(gpu, tasks), isoRef = SvdMethods.isoC(ReferenceSvdKernels.INSTANCE, tasks);
        assertTrue(SvdTestMatrices.maxRelativeDifference(iso, isoRef) <= 1e-4);
    }

    @Test
    void cusolverAgrees() {
        List<String> why = new ArrayList<>();
        Optional<CusolverBatchedSvd> solver = CusolverBatchedSvd.open(probe.cuda(), probe.ordinal(), why::add);
        Assumptions.assumeTrue(solver.isPresent(), () -> "cuSOLVER unavailable: " + why);
        try (CusolverBatchedSvd cs = solver.get()) {
            List<FloatMatrix> small = new ArrayList<>();
            for (int i = 0; i < 64; i++) small.add(SvdTestMatrices.gaussian(32, 24, 1400 + i));
            List<double[]> theirs = cs.singularValues(small);
            List<Svd> ours = gpu.svdBatch(small);
            for (int i = 0; i < small.size(); i++) {
                for (int j = 0; j < 24; j++) assertEquals(theirs.get(i)[j], ours.get(i).s()[j], 1e-5 * theirs.get(i)[0], "#" + i + " σ" + j);
            }
            FloatMatrix big = SvdTestMatrices.gaussian(300, 200, 1500);
            double[] t = cs.singularValues(List.of(big)).getFirst(), o = gpu.svd(big).s();
            for (int j = 0; j < t.length; j++) assertEquals(t[j], o[j], 1e-5 * t[0], "300×200 σ" + j);
        }
    }
}

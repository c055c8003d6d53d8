package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.config.ConfigException;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.JacobiSvd;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tsv_m, iso_c, iso_cts (§11) through MergeJob on tiny models: hand-checkable cases, the
 * invariants of §14.14, the counting traps of §15, and the non-matrix path. SVD results are
 * compared with a relative Frobenius tolerance of 1e-5 (§1.10 suggests 1e-4 across devices).
 */
class SvdMergeTest {

    @TempDir
    Path dir;
    MergeFixture fx;

    @BeforeEach
    void setUp() {
        fx = new MergeFixture(dir);
    }

    /** Writes a model with a 2-D "w" of the given shape and a 1-D "bias". */
    private void model(String name, FloatMatrix w, float[] bias) throws IOException {
        fx.model(name, DType.F32, Map.of("w", new long[] {w.rows(), w.cols()}), "w", w.data(), "bias", bias);
    }

    private static FloatMatrix plus(FloatMatrix a, FloatMatrix b) {
        float[] d = a.data().clone();
        for (int i = 0; i < d.length; i++) d[i] += b.data()[i];
        return new FloatMatrix(a.rows(), a.cols(), d);
    }

    private static double relativeDifference(float[] x, float[] y) {
        double e = 0, n = 0;
        for (int i = 0; i < x.length; i++) {
            e += (x[i] - (double) y[i]) * (x[i] - (double) y[i]);
            n += (double) y[i] * y[i];
        }
        return Math.sqrt(e / Math.max(n, Double.MIN_NORMAL));
    }

    private static String yaml(String method, int models, String parameters) {
        StringBuilder sb = new StringBuilder("merge_method: " + method + "\nbase_model: base\nmodels:\n");
        for (int m = 1; m <= models; m++) sb.append("  - model: ft").append(m).append('\n');
        if (!parameters.isEmpty()) sb.append("parameters: ").append(parameters).append('\n');
        return sb.toString();
    }

    @Test
    void tsvOfOrthogonalRankOneTasksIsTheirSum() throws IOException {
        // 4×5, T = 4 → k = (int)(4·0.25) = 1. τ_m = σ_m·h_m·e_{c(m)}ᵀ with h_m orthogonal (Hadamard
        // columns / 2) and distinct unit columns: Û and V̂h are already orthonormal, so M = Σ τ_m.
        float[][] h = {{.5f, .5f, .5f, .5f}, {.5f, -.5f, .5f, -.5f}, {.5f, .5f, -.5f, -.5f}, {.5f, -.5f, -.5f, .5f}};
        float[] sigma = {4, 3, 2, 1};
        int[] col = {0, 2, 3, 4};
        FloatMatrix base = FloatMatrix.zeros(4, 5);
        java.util.Arrays.fill(base.data(), 1f);
        model("base", base, new float[] {0, 0});
        FloatMatrix expected = base.copy();
        for (int m = 0; m < 4; m++) {
            FloatMatrix tau = FloatMatrix.zeros(4, 5);
            for (int i = 0; i < 4; i++) tau.set(i, col[m], sigma[m] * h[m][i]);
            model("ft" + (m + 1), plus(base, tau), new float[] {m, 1});
            expected = plus(expected, tau);
        }
        Path out = fx.merge(yaml("tsv_m", 4, ""));
        float[] w = MergeFixture.read(out, "w");
        for (int i = 0; i < w.length; i++) assertEquals(expected.data()[i], w[i], 1e-5f, "element " + i);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        // bias: mean of τ = [(0+1+2+3)/4, 1] = [1.5, 1].
        assertArrayEquals(new float[] {1.5f, 1f}, MergeFixture.read(out, "bias"));
    }

    @Test
    void tsvWithOneModelEqualsTaskArithmeticWithLambdaAlpha() throws IOException {
        FloatMatrix base = SvdTestMatrices.gaussian(6, 9, 301);
        model("base", base, new float[] {0.5f, -1f, 2f});
        model("ft1", plus(base, SvdTestMatrices.gaussian(6, 9, 302)), new float[] {0.75f, 1f, 2.5f});
        Path tsv = fx.merge(yaml("tsv_m", 1, "{alpha: 0.7}"));
        Path ta = fx.merge("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                parameters: {lambda: 0.7}
                """);
        double d = relativeDifference(MergeFixture.read(tsv, "w"), MergeFixture.read(ta, "w"));
        assertTrue(d <= 1e-5, "tsv_m vs task_arithmetic: " + d);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32 (§14.14)
        assertArrayEquals(MergeFixture.read(ta, "bias"), MergeFixture.read(tsv, "bias"));
    }

    @Test
    void isoCtsWithFractionOneEqualsIsoC() throws IOException {
        writeRandomFamily(7, 5, 3, 400);
        Path isoC = fx.merge(yaml("iso_c", 3, "{alpha: 1.3}"));
        Path isoCts = fx.merge(yaml("iso_cts", 3, "{alpha: 1.3, common_space_fraction: 1.0}"));
        double d = relativeDifference(MergeFixture.read(isoCts, "w"), MergeFixture.read(isoC, "w"));
        assertTrue(d <= 1e-5, "iso_cts(f = 1) vs iso_c: " + d);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32 (§14.14)
    }

    @Test
    void isoDeltasAreIsotropicWithSingularValueAlphaTimesMean() throws IOException {
        // Base 0, so the output is the delta alpha·M exactly as computed.
        List<FloatMatrix> taus = writeRandomFamily(8, 5, 3, 500);
        FloatMatrix sum = taus.get(0);
        for (int m = 1; m < taus.size(); m++) sum = plus(sum, taus.get(m));
        double[] s = JacobiSvd.decompose(sum).s();
        double mean = java.util.Arrays.stream(s).average().orElseThrow();

        Path isoC = fx.merge(yaml("iso_c", 3, "{alpha: 0.5}"));
        double[] outS = JacobiSvd.decompose(new FloatMatrix(8, 5, MergeFixture.read(isoC, "w"))).s();
        for (double v : outS) assertEquals(0.5 * mean, v, 1e-5 * mean, "iso_c singular values");  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32 (§14.14)

        // r = 5, T = 3, f = 0.5: c0 = 2, rint(3/3)·3 = 3, c = 2, n_t = 1: both blocks are used.
        assertEquals(new SvdMethods.IsoCtsSplit(2, 1), SvdMethods.isoCtsSplit(5, 3, 0.5));
        Path isoCts = fx.merge(yaml("iso_cts", 3, "{alpha: 0.5, common_space_fraction: 0.5}"));
        double[] ctsS = JacobiSvd.decompose(new FloatMatrix(8, 5, MergeFixture.read(isoCts, "w"))).s();
        for (double v : ctsS) assertEquals(ctsS[0], v, 1e-5 * ctsS[0], "iso_cts singular values all equal");  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(Math.abs(ctsS[0] - 0.5 * mean) > 1e-3 * mean, "iso_cts with n_t > 0 differs from iso_c's s̄");  // §11.3: well outside §1.10's SVD tolerance
    }

    @Test
    void countsFollowTheSpecLiterally() {
        assertEquals(1, SvdMethods.tsvKeep(98, 49));
        assertEquals(0, SvdMethods.tsvKeep(2, 3));
        assertEquals(96, SvdMethods.tsvKeep(768, 8));
        assertEquals(1, SvdMethods.tsvKeep(4, 3));
        assertEquals(new SvdMethods.IsoCtsSplit(616, 19), SvdMethods.isoCtsSplit(768, 8, 0.8));
        assertEquals(new SvdMethods.IsoCtsSplit(10, 0), SvdMethods.isoCtsSplit(10, 4, 0.8));
        // 1.5 rounds half to even: r = 10, T = 2, f = 0.7 → c0 = 7, rint(1.5) = 2, ts = 4, c = 6.
        assertEquals(new SvdMethods.IsoCtsSplit(6, 2), SvdMethods.isoCtsSplit(10, 2, 0.7));
        // ts > r: r = 3, T = 4, f = 0 → rint(0.75)·4 = 4 > 3 → 0, c = 3.
        assertEquals(new SvdMethods.IsoCtsSplit(3, 0), SvdMethods.isoCtsSplit(3, 4, 0.0));
        assertEquals(new SvdMethods.IsoCtsSplit(768, 0), SvdMethods.isoCtsSplit(768, 8, 1.0));
        assertEquals(new SvdMethods.IsoCtsSplit(768, 0), SvdMethods.isoCtsSplit(768, 8, 1.5));
    }

    @Test
    void tsvWithFewerDirectionsThanTasksReturnsTheBaseAndWarns() throws IOException {
        // 2×5 matrices, T = 3: k = (int)(2/3) = 0 → M = 0 on the matrix; the bias still averages.
        writeRandomFamily(2, 5, 3, 600);
        Path out = dir.resolve("out-k0");
        MergeReport report = fx.run(yaml("tsv_m", 3, ""), out);
        assertArrayEquals(new float[10], MergeFixture.read(out, "w"));
        assertTrue(report.warnings().stream().anyMatch(w -> w.contains("tensor w") && w.contains("k = (int)(2·(1/3)) = 0")),
                report.warnings().toString());
    }

    @Test
    void tsvKeepsTheTruncatedCountPerTask() throws IOException {
        // r = 4, T = 3: k = 1, so M has rank ≤ 3 = T·k and is not the rank-4 sum.
        writeRandomFamily(4, 6, 3, 650);
        Path out = fx.merge(yaml("tsv_m", 3, ""));
        double[] s = JacobiSvd.decompose(new FloatMatrix(4, 6, MergeFixture.read(out, "w"))).s();
        assertEquals(0, s[3], 1e-5 * s[0], "σ4 of a T·k = 3 term TSV-M result");  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(s[2] > 1e-2 * s[0]);  // §11.1: clearly nonzero
    }

    @Test
    void excludedAndNonMatrixTensorsTakeTheMeanOfTaskVectors() throws IOException {
        float[] base = {1, 1, 1, 1};
        fx.model("base", DType.F32, Map.of("proj.w", new long[] {2, 2}), "proj.w", base, "norm", new float[] {2, 2});
        fx.model("ft1", DType.F32, Map.of("proj.w", new long[] {2, 2}), "proj.w", new float[] {1.5f, 0.75f, 1, 1.25f},
                "norm", new float[] {2.5f, 1});
        fx.model("ft2", DType.F32, Map.of("proj.w", new long[] {2, 2}), "proj.w", new float[] {1.25f, 1.25f, 0.5f, 1},
                "norm", new float[] {2, 3});
        for (String method : List.of("tsv_m", "iso_c", "iso_cts")) {
            Path out = fx.merge(yaml(method, 2, "{alpha: 2.0, exclude: [proj]}"));
            // τ1 = [.5, -.25, 0, .25], τ2 = [.25, .25, -.5, 0]; mean = [.375, 0, -.25, .125]; ×2 + 1.
            assertArrayEquals(new float[] {1.75f, 1f, 0.5f, 1.25f}, MergeFixture.read(out, "proj.w"), method);
            // norm: τ1 = [.5, -1], τ2 = [0, 1]; mean = [.25, 0]; ×2 + 2.
            assertArrayEquals(new float[] {2.5f, 2f}, MergeFixture.read(out, "norm"), method);
        }
    }

    @Test
    void alphaZeroReturnsTheBase() throws IOException {
        List<FloatMatrix> taus = writeRandomFamily(5, 4, 2, 700);
        for (String method : List.of("tsv_m", "iso_c", "iso_cts")) {
            Path out = fx.merge(yaml(method, 2, "{alpha: 0.0}"));
            assertArrayEquals(new float[20], MergeFixture.read(out, "w"), method);
        }
        assertEquals(2, taus.size());
    }

    @Test
    void nonFiniteInputNamesTensorAndModel() throws IOException {
        writeRandomFamily(3, 3, 1, 800);
        float[] bad = SvdTestMatrices.gaussian(3, 3, 801).data();
        bad[4] = Float.NaN;
        model("ft2", new FloatMatrix(3, 3, bad), new float[] {0, 0});
        MergeException e = assertThrows(MergeException.class, () -> fx.merge(yaml("iso_c", 2, "")));
        assertTrue(e.getMessage().contains("tensor w of model ft2") && e.getMessage().contains("NaN"), e.getMessage());
        Path out = fx.merge(yaml("iso_c", 2, "{allow_nonfinite: true}"));
        assertTrue(Float.isNaN(MergeFixture.read(out, "w")[0]));
    }

    @Test
    void weightsHaveNoEffectOnTheSvdMethods() throws IOException {
        writeRandomFamily(3, 3, 1, 900);
        MergeReport r = fx.run("""
                merge_method: tsv_m
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                """, dir.resolve("out-weights"));
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("models[0].parameters.weight") && w.contains("no effect")),
                r.warnings().toString());
    }

    @Test
    void fastCpuBackendAgreesWithTheReference() throws IOException {
        writeRandomFamily(24, 17, 3, 1000);
        for (String method : List.of("tsv_m", "iso_c", "iso_cts")) {
            String y = yaml(method, 3, "{alpha: 0.8, common_space_fraction: 0.6}".replace(method.equals("iso_cts") ? "" : ", common_space_fraction: 0.6", ""));
            Path ref = dir.resolve("ref-" + method), cpu = dir.resolve("cpu-" + method);
            fx.run(y, ref, "reference");
            MergeReport r = fx.run(y, cpu, "cpu");
            assertEquals("cpu", r.backend());
            double d = relativeDifference(MergeFixture.read(cpu, "w"), MergeFixture.read(ref, "w"));
            assertTrue(d <= 1e-4, method + ": fast CPU vs reference " + d);  // §1.10: relative Frobenius 1e-4
        }
    }

    /** base = 0 matrix "w" (rows×cols) and bias; ft_m = a Gaussian τ (seed + m). Returns the τ's. */
    private List<FloatMatrix> writeRandomFamily(int rows, int cols, int models, long seed) throws IOException {
        model("base", FloatMatrix.zeros(rows, cols), new float[] {0, 0});
        List<FloatMatrix> taus = new ArrayList<>();
        for (int m = 1; m <= models; m++) {
            FloatMatrix tau = SvdTestMatrices.gaussian(rows, cols, seed + m);
            taus.add(tau);
            model("ft" + m, tau, new float[] {m, -m});
        }
        return taus;
    }
}

package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DTypeConversion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The invariants of spec §14 on random models (fixed seed, printed on failure via the message).
 * Tensor sizes are awkward on purpose: 1, 2, 31, 997 elements.
 */
class MergePropertiesTest {

    static final long SEED = 20261123L;
    static final String[] NAMES = {"a.one", "b.two", "c.prime", "d.big"};
    static final int[] SIZES = {1, 2, 31, 997};

    @TempDir
    Path dir;
    MergeFixture fx;

    @BeforeEach
    void family() throws IOException {
        fx = new MergeFixture(dir);
        SplittableRandom r = new SplittableRandom(SEED);
        float[][] base = new float[NAMES.length][];
        for (int t = 0; t < NAMES.length; t++) {
            base[t] = new float[SIZES[t]];
            for (int i = 0; i < SIZES[t]; i++) base[t][i] = (float) (r.nextGaussian() * 0.02);
        }
        for (int m = 0; m <= 3; m++) {
            List<Object> nv = new ArrayList<>();
            for (int t = 0; t < NAMES.length; t++) {
                float[] v = base[t].clone();
                if (m > 0) for (int i = 0; i < v.length; i++) v[i] += (float) (r.nextGaussian() * 0.01);
                nv.add(NAMES[t]);
                nv.add(v);
            }
            fx.model(m == 0 ? "base" : "ft" + m, nv.toArray());
        }
    }

    private static String gta(String method, String models, String params) {
        return "merge_method: " + method + "\nbase_model: base\nmodels:\n" + models
                + (params.isEmpty() ? "" : "parameters: {" + params + "}\n");
    }

    private static String model(String name, String params) {
        return "  - {model: " + name + ", parameters: {" + params + "}}\n";
    }

    private void assertSameOutputs(Path a, Path b, String what) throws IOException {
        for (String n : NAMES) {
            float[] x = MergeFixture.read(a, n), y = MergeFixture.read(b, n);
            for (int i = 0; i < x.length; i++) {
                assertTrue(x[i] == y[i], what + ": tensor " + n + "[" + i + "]: " + x[i] + " vs " + y[i] + " (seed " + SEED + ")");
            }
        }
    }

    private void assertClose(Path a, Path b, double rel, String what) throws IOException {
        for (String n : NAMES) {
            float[] x = MergeFixture.read(a, n), y = MergeFixture.read(b, n);
            for (int i = 0; i < x.length; i++) {
                // Rounding happens at the scale of the inputs (|θ| ≈ 0.02–0.1), not of a result that
                // may have cancelled to nearly zero: a few float32 ulps at 0.1 is about 3e-8.
                double tol = rel * Math.max(Math.abs(x[i]), Math.abs(y[i])) + 3e-8;  // §14: "rounding"; §1.10 relative per element plus a few ulps at 0.1
                assertTrue(Math.abs(x[i] - y[i]) <= tol, what + ": tensor " + n + "[" + i + "]: " + x[i] + " vs " + y[i]);
            }
        }
    }

    @Test
    void tiesWithOneModelAtDensityOneIsTaskArithmetic() throws IOException {
        Path ties = fx.merge(gta("ties", model("ft1", "weight: 0.7"), "lambda: 0.9"));
        Path ta = fx.merge(gta("task_arithmetic", model("ft1", "weight: 0.7"), "lambda: 0.9, normalize: true"));
        assertSameOutputs(ties, ta, "§14.2");
    }

    @Test
    void dareAtDensityOneIsTaskArithmeticAndTies() throws IOException {
        String three = model("ft1", "weight: 0.5") + model("ft2", "weight: 0.3") + model("ft3", "weight: 0.2");
        Path dare = fx.merge(gta("dare_linear", three, "density: 1.0"));
        Path ta = fx.merge(gta("task_arithmetic", three, ""));
        assertSameOutputs(dare, ta, "§14.3 dare_linear");
        Path dareTies = fx.merge(gta("dare_ties", three, "density: 1.0, normalize: true"));
        Path ties = fx.merge(gta("ties", three, "density: 1.0"));
        assertSameOutputs(dareTies, ties, "§14.3 dare_ties");
    }

    @Test
    void breadcrumbsWithGammaZeroIsTheMagnitudeTrim() throws IOException {
        String two = model("ft1", "weight: 1.0") + model("ft2", "weight: 1.0");
        Path bc = fx.merge(gta("breadcrumbs_ties", two, "density: 0.35, gamma: 0.0"));
        Path ties = fx.merge(gta("ties", two, "density: 0.35, normalize: false"));
        assertSameOutputs(bc, ties, "§14.4");
    }

    @Test
    void lambdaZeroReturnsTheBase() throws IOException {
        String two = model("ft1", "weight: 1.0, density: 0.5") + model("ft2", "weight: 2.0, density: 0.5");
        Path out = fx.merge(gta("ties", two, "lambda: 0.0"));
        assertSameOutputs(out, dir.resolve("base"), "§14.5");
    }

    @Test
    void aWeightZeroModelIsLikeRemovingIt() throws IOException {
        Path with = fx.merge(gta("ties", model("ft1", "weight: 1.0, density: 0.4") + model("ft2", "weight: 0.0, density: 0.4")
                + model("ft3", "weight: 0.6, density: 0.4"), ""));
        Path without = fx.merge(gta("ties", model("ft1", "weight: 1.0, density: 0.4") + model("ft3", "weight: 0.6, density: 0.4"), ""));
        assertSameOutputs(with, without, "§14.8");
    }

    @Test
    void scalingAllWeightsLeavesNormalizedMergesUnchanged() throws IOException {
        Path one = fx.merge(gta("ties", model("ft1", "weight: 0.5, density: 0.5") + model("ft2", "weight: 0.25, density: 0.5"), ""));
        Path twice = fx.merge(gta("ties", model("ft1", "weight: 1.0, density: 0.5") + model("ft2", "weight: 0.5, density: 0.5"), ""));
        assertSameOutputs(one, twice, "§14.9 (power-of-two scale is exact)");
        Path thrice = fx.merge(gta("ties", model("ft1", "weight: 1.5, density: 0.5") + model("ft2", "weight: 0.75, density: 0.5"), ""));
        assertClose(one, thrice, 1e-6, "§14.9");
    }

    @Test
    void permutingModelsChangesOnlyRounding() throws IOException {
        Path a = fx.merge(gta("ties", model("ft1", "weight: 1.0, density: 0.5") + model("ft2", "weight: 0.7, density: 0.5")
                + model("ft3", "weight: 0.4, density: 0.5"), ""));
        Path b = fx.merge(gta("ties", model("ft3", "weight: 0.4, density: 0.5") + model("ft1", "weight: 1.0, density: 0.5")
                + model("ft2", "weight: 0.7, density: 0.5"), ""));
        assertClose(a, b, 1e-6, "§14.7");
    }

    @Test
    void l1RescalePreservesTheL1NormOfTheTaskVector() throws IOException {
        Path out = fx.merge(gta("ties", model("ft1", "weight: 1.0, density: 0.3"), "rescale: true, normalize: false"));
        for (int t = 0; t < NAMES.length; t++) {
            if (SIZES[t] < 4) continue;
            float[] o = MergeFixture.read(out, NAMES[t]);
            float[] b = MergeFixture.read(dir.resolve("base"), NAMES[t]);
            float[] f = MergeFixture.read(dir.resolve("ft1"), NAMES[t]);
            double before = 0, after = 0;
            for (int i = 0; i < o.length; i++) {
                before += Math.abs(f[i] - b[i]);
                after += Math.abs(o[i] - b[i]);
            }
            assertEquals(before, after, before * 1e-4, "§14.11 " + NAMES[t]);
        }
    }

    @Test
    void inverseDensityDareIsUnbiasedOverSeeds() throws IOException {
        int seeds = 60;
        float[] ta = MergeFixture.read(fx.merge(gta("task_arithmetic", model("ft1", "weight: 1.0"), "")), "d.big");
        float[] base = MergeFixture.read(dir.resolve("base"), "d.big");
        double[] mean = new double[ta.length];
        for (int s = 0; s < seeds; s++) {
            Path o = fx.merge(gta("dare_linear", model("ft1", "weight: 1.0, density: 0.5"),
                    "random_seed: " + s + ", rescale_mode: inverse_density"));
            float[] v = MergeFixture.read(o, "d.big");
            for (int i = 0; i < v.length; i++) mean[i] += (v[i] - base[i]) / (double) seeds;
        }
        // Aggregate over the tensor: Σ mean ≈ Σ δ, and per element the keep rate is about 1/2.
        double expected = 0, got = 0;
        for (int i = 0; i < ta.length; i++) {
            expected += ta[i] - base[i];
            got += mean[i];
        }
        double scale = 0;
        for (int i = 0; i < ta.length; i++) scale += Math.abs(ta[i] - base[i]);
        assertEquals(expected, got, 0.1 * scale, "§14.11 inverse_density unbiased");
    }

    @Test
    void bf16OutputIsTheRneConversionOfTheFloat32Result() throws IOException {
        String two = model("ft1", "weight: 1.0, density: 0.5") + model("ft2", "weight: 0.6, density: 0.5");
        Path f32 = fx.merge(gta("ties", two, "") + "out_dtype: float32\n");
        Path bf16 = fx.merge(gta("ties", two, "") + "out_dtype: bfloat16\n");
        for (String n : NAMES) {
            float[] x = MergeFixture.read(f32, n), y = MergeFixture.read(bf16, n);
            for (int i = 0; i < x.length; i++) {
                assertEquals(DTypeConversion.bf16ToFloat(DTypeConversion.floatToBf16(x[i])), y[i], "§14.16 " + n + "[" + i + "]");
            }
        }
    }

    @Test
    void identicalInputsAndConfigGiveBitIdenticalFiles() throws IOException {
        String cfg = gta("dare_ties", model("ft1", "weight: 1.0, density: 0.5") + model("ft2", "weight: 0.5, density: 0.7"),
                "random_seed: 5");
        Path a = fx.merge(cfg), b = fx.merge(cfg);
        assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
    }

    @Test
    void linearOfIdenticalModelsReturnsTheModel() throws IOException {
        Path copy = Files.createDirectories(dir.resolve("ft1-copy"));
        Files.copy(dir.resolve("ft1/model.safetensors"), copy.resolve("model.safetensors"));
        Path out = fx.merge("""
                merge_method: linear
                models:
                  - {model: ft1, parameters: {weight: 0.3}}
                  - {model: ft1-copy, parameters: {weight: 0.7}}
                """);
        assertClose(out, dir.resolve("ft1"), 1e-6, "§14.6");
    }
}

package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The interpolation and geometric methods of §12 on models small enough to compute by hand, the
 * properties of §14 and the edge cases of §15. Expected values are written out from the spec's
 * formulas, never from the code under test.
 */
class InterpolationMergeTest {

    @TempDir
    Path dir;
    MergeFixture fx;

    static final float R = (float) Math.sqrt(0.5); // sin(π/4) = cos(π/4)

    @BeforeEach
    void setUp() {
        fx = new MergeFixture(dir);
    }

    private static void assertClose(float[] expected, float[] actual, double tol) {
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double scale = Math.max(1e-6, Math.abs(expected[i]));
            if (!(Math.abs(expected[i] - actual[i]) <= tol * scale)) {
                throw new AssertionError("element " + i + ": expected " + expected[i] + " got " + actual[i]
                        + "\nexpected " + java.util.Arrays.toString(expected) + "\nactual   " + java.util.Arrays.toString(actual));
            }
        }
    }

    // ---- slerp ----

    @Test
    void slerpOfOrthogonalUnitVectorsAtHalf() throws IOException {
        fx.model("base", "w", new float[] {1, 0});
        fx.model("ft", "w", new float[] {0, 1});
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: 0.5}\nmodels:\n  - model: base\n  - model: ft\n");
        // θ = π/2: s0 = s1 = sin(π/4)/sin(π/2).
        assertClose(new float[] {R, R}, MergeFixture.read(out, "w"), 1e-7);
    }

    @Test
    void slerpScalesTheCoefficientsNotTheDirections() throws IOException {
        // v0 = (3, 0), v1 = (0, 2): d = 0, θ = π/2; t = 1/3: s0 = sin(π/3), s1 = sin(π/6).
        fx.model("base", "w", new float[] {3, 0});
        fx.model("ft", "w", new float[] {0, 2});
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: 0.3333333333333333}\nmodels:\n  - model: ft\n");
        assertClose(new float[] {(float) (3 * Math.sin(Math.PI / 3)), (float) (2 * Math.sin(Math.PI / 6))},
                MergeFixture.read(out, "w"), 1e-6);
    }

    @Test
    void slerpAtZeroAndOneReturnsTheEndpointsExactly() throws IOException {
        float[] a = {0.3f, -1.25f, 2f, 0.0625f, -7f};
        float[] b = {-0.5f, 0.75f, 1.5f, 3f, 0.125f};
        fx.model("base", "w", a);
        fx.model("ft", "w", b);
        String yaml = "merge_method: slerp\nbase_model: base\nparameters: {t: %s}\nmodels:\n  - model: ft\n";
        assertArrayEquals(a, MergeFixture.read(fx.merge(yaml.formatted("0.0")), "w"));
        assertArrayEquals(b, MergeFixture.read(fx.merge(yaml.formatted("1.0")), "w"));
    }

    @Test
    void slerpOfNearlyColinearVectorsIsTheLerp() throws IOException {
        // d = 1 > 0.9995: (1 − t)·v0 + t·v1 with float32 coefficients.
        fx.model("base", "w", new float[] {1, 2, 3});
        fx.model("ft", "w", new float[] {2, 4, 6});
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: 0.25}\nmodels:\n  - model: ft\n");
        assertArrayEquals(new float[] {1.25f, 2.5f, 3.75f}, MergeFixture.read(out, "w"));
    }

    @Test
    void slerpTakesTFromAGradientPerLayer() throws IOException {
        fx.model("base", "model.layers.0.w", new float[] {1, 0}, "model.layers.1.w", new float[] {1, 0});
        fx.model("ft", "model.layers.0.w", new float[] {0, 1}, "model.layers.1.w", new float[] {0, 1});
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: [0, 1]}\nmodels:\n  - model: ft\n");
        assertArrayEquals(new float[] {1, 0}, MergeFixture.read(out, "model.layers.0.w"));
        assertArrayEquals(new float[] {0, 1}, MergeFixture.read(out, "model.layers.1.w"));
    }

    @Test
    void slerpOfABaseOnlyConfigCopiesTheBase() throws IOException {
        fx.model("base", "w", new float[] {1, 2});
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: 0.5}\nmodels:\n  - model: base\n");
        assertArrayEquals(new float[] {1, 2}, MergeFixture.read(out, "w"));
    }

    @Test
    void slerpWithAZeroVectorUsesItUnnormalized() throws IOException {
        // ‖v0‖ = 0 ≤ 1e-8: not normalized, d = 0, θ = π/2: out = sin(tπ/2)·v1.
        fx.model("base", "w", new float[] {0, 0});
        fx.model("ft", "w", new float[] {2, 4});
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: 0.5}\nmodels:\n  - model: ft\n");
        assertClose(new float[] {2 * R, 4 * R}, MergeFixture.read(out, "w"), 1e-7);
    }

    @Test
    void slerpCropsEmbeddingsToTheCommonShape() throws IOException {
        String e = "model.embed_tokens.weight";
        fx.model("base", DType.F32, Map.of(e, new long[] {2, 2}), e, new float[] {1, 0, 1, 0});
        fx.model("ft", DType.F32, Map.of(e, new long[] {3, 2}), e, new float[] {1, 0, 1, 0, 9, 9});
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: 0.5}\nmodels:\n  - model: ft\n");
        assertArrayEquals(new long[] {2, 2}, MergeFixture.info(out, e).shape());
        assertArrayEquals(new float[] {1, 0, 1, 0}, MergeFixture.read(out, e), "identical after the crop");
    }

    @Test
    void slerpWithTwoOtherModelsIsRefused() throws IOException {
        var ex = assertThrows(dev.amalgam.config.ConfigException.class, () -> dev.amalgam.config.MergeConfig.parse(
                "merge_method: slerp\nbase_model: b\nparameters: {t: 0.5}\nmodels:\n  - model: x\n  - model: y\n", dir, "t.yaml"));
        assertTrue(ex.getMessage().contains("at most 1 other model; 2 are listed"), ex.getMessage());
    }

    @Test
    void slerpIgnoresAPerModelWeightWithAWarning() throws IOException {
        var config = dev.amalgam.config.MergeConfig.parse(
                "merge_method: slerp\nbase_model: b\nparameters: {t: 0.5}\nmodels:\n  - model: b\n  - model: x\n    parameters: {weight: 0.3}\n",
                dir, "t.yaml");
        assertTrue(config.warnings().stream().anyMatch(w -> w.contains("models[1].parameters.weight") && w.contains("no effect")),
                config.warnings().toString());
    }

    // ---- nuslerp ----

    @Test
    void nuslerpTakesTFromTheWeights() throws IOException {
        fx.model("a", "w", new float[] {1, 0});
        fx.model("b", "w", new float[] {0, 1});
        // t = 3/(1 + 3) = 0.75: sin(π/8), sin(3π/8).
        Path out = fx.merge("merge_method: nuslerp\nmodels:\n  - {model: a, parameters: {weight: 1}}\n  - {model: b, parameters: {weight: 3}}\n");
        assertClose(new float[] {(float) Math.sin(Math.PI / 8), (float) Math.sin(3 * Math.PI / 8)}, MergeFixture.read(out, "w"), 1e-6);
    }

    @Test
    void nuslerpWithABaseWorksOnTaskVectors() throws IOException {
        fx.model("base", "w", new float[] {1, 1});
        fx.model("a", "w", new float[] {2, 1});
        fx.model("b", "w", new float[] {1, 2});
        Path out = fx.merge("merge_method: nuslerp\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 1}}\n"
                + "  - {model: b, parameters: {weight: 1}}\n");
        assertClose(new float[] {1 + R, 1 + R}, MergeFixture.read(out, "w"), 1e-6);
    }

    @Test
    void nuslerpRowWiseAndColumnWise() throws IOException {
        // Rows of a: (1, 0) and (0, 1); rows of b: (0, 1) and (0, 2). Row 0 is orthogonal, row 1 colinear.
        long[] shape = {2, 2};
        fx.model("a", DType.F32, Map.of("w", shape), "w", new float[] {1, 0, 0, 1});
        fx.model("b", DType.F32, Map.of("w", shape), "w", new float[] {0, 1, 0, 2});
        String yaml = "merge_method: nuslerp\nparameters: {nuslerp_flatten: false%s}\nmodels:\n  - {model: a, parameters: {weight: 1}}\n"
                + "  - {model: b, parameters: {weight: 1}}\n";
        // Rows: row 0 slerp (R, R); row 1 colinear → lerp (0, 1.5).
        assertClose(new float[] {R, R, 0, 1.5f}, MergeFixture.read(fx.merge(yaml.formatted("")), "w"), 1e-6);
        // Columns (row_wise): column 0 of a = (1, 0), of b = (0, 0) → c = 0 (b's norm clamps to 1e-7), θ = π/2:
        // (R·1, 0). Column 1: a = (0, 1), b = (1, 2): cos = 2/√5.
        float[] cols = MergeFixture.read(fx.merge(yaml.formatted(", nuslerp_row_wise: true")), "w");
        double theta = Math.acos(2 / Math.sqrt(5));
        double c = Math.sin(0.5 * theta) / Math.sin(theta);
        assertClose(new float[] {R, (float) c, 0, (float) (3 * c)}, cols, 1e-6);
    }

    @Test
    void nuslerpWithAZeroWeightSumUsesHalf() throws IOException {
        fx.model("a", "w", new float[] {1, 0});
        fx.model("b", "w", new float[] {0, 1});
        Path out = fx.merge("merge_method: nuslerp\nmodels:\n  - {model: a, parameters: {weight: 1}}\n  - {model: b, parameters: {weight: -1}}\n");
        assertClose(new float[] {R, R}, MergeFixture.read(out, "w"), 1e-7);
    }

    @Test
    void nuslerpOfAllZeroDeltasIsTheBase() throws IOException {
        float[] v = {0.5f, -3f, 7.25f};
        fx.model("base", "w", v);
        fx.model("a", "w", v);
        fx.model("b", "w", v);
        Path out = fx.merge("merge_method: nuslerp\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 1}}\n"
                + "  - {model: b, parameters: {weight: 2}}\n");
        assertClose(v, MergeFixture.read(out, "w"), 3e-7);
    }

    // ---- multislerp ----

    @Test
    void multislerpOfTwoOrthogonalVectors() throws IOException {
        fx.model("a", "w", new float[] {1, 0});
        fx.model("b", "w", new float[] {0, 1});
        // m = (0.5, 0.5), m̂ = (R, R), T = 0, r = m̂·cos(eps): out = r·(0.5·1 + 0.5·1).
        Path out = fx.merge("merge_method: multislerp\nmodels:\n  - {model: a, parameters: {weight: 1}}\n  - {model: b, parameters: {weight: 1}}\n");
        assertClose(new float[] {R, R}, MergeFixture.read(out, "w"), 1e-6);
    }

    @Test
    void multislerpOfAntipodalPairFallsBackToTheLerpAndOfThreeIsAnError() throws IOException {
        fx.model("base", "w", new float[] {1, 1});
        fx.model("a", "w", new float[] {2, 1});
        fx.model("b", "w", new float[] {0, 1});
        fx.model("c", "w", new float[] {1, 1});
        Path out = fx.merge("merge_method: multislerp\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 1}}\n"
                + "  - {model: b, parameters: {weight: 1}}\n");
        // X = (1, 0), (−1, 0): m = 0 → 0.5·X0 + 0.5·X1 + base = base.
        assertClose(new float[] {1, 1}, MergeFixture.read(out, "w"), 1e-7);
        MergeException e = assertThrows(MergeException.class, () -> fx.merge("merge_method: multislerp\nbase_model: base\nmodels:\n"
                + "  - {model: a, parameters: {weight: 1}}\n  - {model: b, parameters: {weight: 1}}\n  - {model: c, parameters: {weight: 1}}\n"));
        assertTrue(e.getMessage().contains("tensor w"), e.getMessage());
    }

    @Test
    void multislerpWithZeroWeightSumIsAnError() throws IOException {
        fx.model("a", "w", new float[] {1, 0});
        fx.model("b", "w", new float[] {0, 1});
        MergeException e = assertThrows(MergeException.class, () -> fx.merge("merge_method: multislerp\nmodels:\n"
                + "  - {model: a, parameters: {weight: 1}}\n  - {model: b, parameters: {weight: -1}}\n"));
        assertTrue(e.getMessage().contains("sum to 0"), e.getMessage());
    }

    @Test
    void multislerpOfOneModelReturnsIt() throws IOException {
        fx.model("base", "w", new float[] {9, 9});
        fx.model("a", "w", new float[] {1, -2});
        Path out = fx.merge("merge_method: multislerp\nbase_model: base\nmodels:\n  - {model: a, parameters: {weight: 0.3}}\n");
        assertArrayEquals(new float[] {1, -2}, MergeFixture.read(out, "w"));
    }

    // ---- karcher ----

    @Test
    void karcherOfTwoOrthogonalVectorsIsTheirMidpoint() throws IOException {
        fx.model("a", "w", new float[] {2, 0});
        fx.model("b", "w", new float[] {0, 4});
        // Unit mean (R, R), scaled by the mean norm 3.
        Path out = fx.merge("merge_method: karcher\nmodels:\n  - model: a\n  - model: b\n");
        assertClose(new float[] {3 * R, 3 * R}, MergeFixture.read(out, "w"), 1e-6);
    }

    @Test
    void karcherOfIdenticalModelsAndOfZeroTensors() throws IOException {
        fx.model("a", "w", new float[] {1, -2, 3}, "z", new float[] {0, 0});
        fx.model("b", "w", new float[] {1, -2, 3}, "z", new float[] {0, 0});
        fx.model("c", "w", new float[] {1, -2, 3}, "z", new float[] {0, 0});
        Path out = fx.merge("merge_method: karcher\nmodels:\n  - model: a\n  - model: b\n  - model: c\n");
        assertClose(new float[] {1, -2, 3}, MergeFixture.read(out, "w"), 1e-6);
        assertArrayEquals(new float[] {0, 0}, MergeFixture.read(out, "z"), "no valid input: zeros");
    }

    @Test
    void karcherOfThreeDirectionsConvergesToTheSphericalMean() throws IOException {
        // e1, e2, e3: by symmetry the Karcher mean is (1, 1, 1)/√3, scale = mean norm 1.
        fx.model("a", "w", new float[] {1, 0, 0});
        fx.model("b", "w", new float[] {0, 1, 0});
        fx.model("c", "w", new float[] {0, 0, 1});
        Path out = fx.merge("merge_method: karcher\nparameters: {max_iter: 50, tol: 1e-9}\nmodels:\n  - model: a\n  - model: b\n  - model: c\n");
        float s = (float) (1 / Math.sqrt(3));
        assertClose(new float[] {s, s, s}, MergeFixture.read(out, "w"), 1e-6);
    }

    // ---- model_stock ----

    @Test
    void modelStockOfOrthogonalTaskVectorsIsTheBase() throws IOException {
        fx.model("base", "w", new float[] {1, 1});
        fx.model("a", "w", new float[] {2, 1});
        fx.model("b", "w", new float[] {1, 2});
        Path out = fx.merge("merge_method: model_stock\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n");
        assertArrayEquals(new float[] {1, 1}, MergeFixture.read(out, "w"), "cos = 0 → t = 0");
    }

    @Test
    void modelStockHandComputed() throws IOException {
        // δ1 = (1, 0), δ2 = (1, 1): cos = 1/√2, t = 2c/(1 + c); out = t·mean + (1 − t)·base.
        fx.model("base", "w", new float[] {0, 0});
        fx.model("a", "w", new float[] {1, 0});
        fx.model("b", "w", new float[] {1, 1});
        Path out = fx.merge("merge_method: model_stock\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n");
        double c = 1 / Math.sqrt(2), t = 2 * c / (1 + c);
        assertClose(new float[] {(float) t, (float) (t * 0.5)}, MergeFixture.read(out, "w"), 1e-6);
    }

    @Test
    void modelStockOfIdenticalFineTunesReturnsThem() throws IOException {
        float[] ft = {1.5f, -2.25f, 0.125f, 3f};
        fx.model("base", "w", new float[] {1, 1, 1, 1});
        fx.model("a", "w", ft);
        fx.model("b", "w", ft);
        fx.model("c", "w", ft);
        Path out = fx.merge("merge_method: model_stock\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n  - model: c\n");
        assertClose(ft, MergeFixture.read(out, "w"), 1e-6);
    }

    @Test
    void modelStockFilterWiseUsesOneRatioPerRow() throws IOException {
        long[] shape = {2, 2};
        fx.model("base", DType.F32, Map.of("w", shape), "w", new float[] {0, 0, 0, 0});
        // Row 0: δ1 = (1, 0), δ2 = (0, 1) → t = 0. Row 1: δ1 = δ2 = (2, 2) → t = 1.
        fx.model("a", DType.F32, Map.of("w", shape), "w", new float[] {1, 0, 2, 2});
        fx.model("b", DType.F32, Map.of("w", shape), "w", new float[] {0, 1, 2, 2});
        Path out = fx.merge("merge_method: model_stock\nbase_model: base\nparameters: {filter_wise: true}\nmodels:\n  - model: a\n  - model: b\n");
        assertArrayEquals(new float[] {0, 0, 2, 2}, MergeFixture.read(out, "w"));
    }

    @Test
    void modelStockOfAllZeroDeltasIsTheBaseAndOpposedDeltasAnError() throws IOException {
        fx.model("base", "w", new float[] {1, 2});
        fx.model("a", "w", new float[] {1, 2});
        fx.model("b", "w", new float[] {1, 2});
        fx.model("c", "w", new float[] {2, 2});
        fx.model("d", "w", new float[] {0, 2});
        assertArrayEquals(new float[] {1, 2}, MergeFixture.read(fx.merge(
                "merge_method: model_stock\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n"), "w"));
        MergeException e = assertThrows(MergeException.class, () -> fx.merge(
                "merge_method: model_stock\nbase_model: base\nmodels:\n  - model: c\n  - model: d\n"));
        assertTrue(e.getMessage().contains("tensor w") && e.getMessage().contains("divides by zero"), e.getMessage());
    }

    @Test
    void modelStockCropsEmbeddingsToTheCommonShape() throws IOException {
        String e = "lm_head.weight";
        fx.model("base", DType.F32, Map.of(e, new long[] {2, 1}), e, new float[] {0, 0});
        fx.model("a", DType.F32, Map.of(e, new long[] {3, 1}), e, new float[] {1, 0, 5});
        fx.model("b", DType.F32, Map.of(e, new long[] {2, 1}), e, new float[] {1, 0});
        Path out = fx.merge("merge_method: model_stock\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n");
        assertArrayEquals(new long[] {2, 1}, MergeFixture.info(out, e).shape());
        assertArrayEquals(new float[] {1, 0}, MergeFixture.read(out, e));
    }

    @Test
    void modelStockNeedsTwoModelsBesidesTheBase() {
        var ex = assertThrows(dev.amalgam.config.ConfigException.class, () -> dev.amalgam.config.MergeConfig.parse(
                "merge_method: model_stock\nbase_model: b\nmodels:\n  - model: x\n", dir, "t.yaml"));
        assertTrue(ex.getMessage().contains("at least 2 other models; 1 is listed"), ex.getMessage());
    }

    // ---- nearswap ----

    @Test
    void nearswapHandComputed() throws IOException {
        fx.model("base", "w", new float[] {0, 0, 0, 1});
        fx.model("ft", "w", new float[] {0.5f, 2, -0.25f, 1});
        Path out = fx.merge("merge_method: nearswap\nbase_model: base\nparameters: {t: 0.5}\nmodels:\n  - model: ft\n");
        // w = clamp(0.5/|a−b|, 0, 1) = 1, 0.25, 1, 1 (|a−b| = 0 clamps to 1e-6).
        assertArrayEquals(new float[] {0.5f, 0.5f, -0.25f, 1}, MergeFixture.read(out, "w"));
    }

    @Test
    void nearswapAtZeroOrBelowIsTheBase() throws IOException {
        float[] a = {0.3f, -1.25f, 2f};
        fx.model("base", "w", a);
        fx.model("ft", "w", new float[] {5, 6, 7});
        for (String t : new String[] {"0", "-1"}) {
            Path out = fx.merge("merge_method: nearswap\nbase_model: base\nparameters: {t: " + t + "}\nmodels:\n  - model: ft\n");
            assertArrayEquals(a, MergeFixture.read(out, "w"), "t = " + t);
        }
    }

    // ---- ram ----

    @Test
    void ramSumsUniqueChangesAndAveragesSharedOnes() throws IOException {
        fx.model("base", "w", new float[] {0, 0, 0, 0, 1});
        fx.model("a", "w", new float[] {1, 1, 0, 1e-6f, 1.5f});
        fx.model("b", "w", new float[] {3, 0, 0, 0.5f, 0.5f});
        Path out = fx.merge("merge_method: ram\nbase_model: base\nmodels:\n  - model: a\n  - model: b\n");
        // e0: both → (1 + 3)/2; e1: only a; e2: none; e3: a's 1e-6 ≤ ε, only b; e4: (0.5 − 0.5)/2.
        assertArrayEquals(new float[] {2, 1, 0, 0.5f, 1}, MergeFixture.read(out, "w"));
    }

    @Test
    void ramplusScalesUniqueChangesByTheOverlapRatio() throws IOException {
        fx.model("base", "w", new float[] {0, 0, 0, 0});
        fx.model("a", "w", new float[] {1, 1, 1, 0});
        fx.model("b", "w", new float[] {1, 0, 0, 2});
        Path out = fx.merge("merge_method: ramplus_tl\nbase_model: base\nparameters: {r: 0.5, alpha: 1.0}\nmodels:\n  - model: a\n  - model: b\n");
        // a: shared 1, unique 2 → ρ = 0.5, λ = 1 + 0.5·0.5 = 1.25. b: shared 1, unique 1 → ρ = 1, λ = 1.5.
        assertArrayEquals(new float[] {1, 1.25f, 1.25f, 3}, MergeFixture.read(out, "w"));
        // Defaults r = 0.1, α = 0.2; b: unique 0 → ρ = shared/ε, clamped to α.
        fx.model("c", "w", new float[] {1, 0, 0, 0});
        Path d = fx.merge("merge_method: ramplus_tl\nbase_model: base\nmodels:\n  - model: a\n  - model: c\n");
        assertArrayEquals(new float[] {1, 0.5f * 1.02f / 0.5f, 1.02f, 0}, MergeFixture.read(d, "w"));
    }

    // ---- arcee_fusion ----

    @Test
    void arceeFusionKeepsOnlyTheOutlyingImportantChanges() throws IOException {
        float[] base = new float[20];
        float[] ft = new float[20];
        for (int i = 0; i < 20; i++) {
            base[i] = 0.01f * i;
            ft[i] = base[i] + (i == 7 ? 3f : 0.001f * (i % 3));
        }
        fx.model("base", "w", base);
        fx.model("ft", "w", ft);
        Path out = fx.merge("merge_method: arcee_fusion\nbase_model: base\nmodels:\n  - model: ft\n");
        float[] expected = ArceeFusionOracle.fuse(base, ft);
        assertArrayEquals(expected, MergeFixture.read(out, "w"));
        // One row, so importance ∝ |δ|: only the big change is an outlier (above median + 1.5·IQR).
        for (int i = 0; i < 20; i++) assertEquals(i == 7 ? ft[i] : base[i], expected[i], 1e-7, "element " + i);
    }

    /** mergekit's arcee_fusion written out independently (sorted quantiles, per-row KL in double). */
    static final class ArceeFusionOracle {
        static float[] fuse(float[] b, float[] x) {
            int n = b.length;
            double[] p = softmax(x), q = softmax(b);
            double kl = 0;
            for (int i = 0; i < n; i++) {
                double pi = p[i] + 1e-8, qi = q[i] + 1e-8;
                kl += pi * Math.log(pi / qi);
            }
            float[] imp = new float[n];
            for (int i = 0; i < n; i++) imp[i] = Math.abs(x[i] - b[i]) * (float) kl;
            float[] sorted = imp.clone();
            java.util.Arrays.sort(sorted);
            float median = sorted[(int) (0.5 * (n - 1))], q1 = sorted[(int) (0.25 * (n - 1))], q3 = sorted[(int) (0.75 * (n - 1))];
            float threshold = median + 1.5f * (q3 - q1);
            float[] out = new float[n];
            for (int i = 0; i < n; i++) out[i] = b[i] + (x[i] - b[i]) * (imp[i] >= threshold ? 1f : 0f);
            return out;
        }

        static double[] softmax(float[] v) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (float f : v) max = Math.max(max, f);
            double[] e = new double[v.length];
            for (int i = 0; i < v.length; i++) sum += e[i] = Math.exp(v[i] - max);
            for (int i = 0; i < v.length; i++) e[i] /= sum;
            return e;
        }
    }
}

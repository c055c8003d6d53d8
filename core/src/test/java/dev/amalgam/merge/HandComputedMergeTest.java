package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.amalgam.random.PhiloxOracle;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole merges (config → plan → reference kernels → output file) on models small enough to
 * compute by hand. Values are multiples of 1/8 so every float32 step is exact.
 */
class HandComputedMergeTest {

    @TempDir
    Path dir;
    MergeFixture fx;

    static final float[] BASE = {1, 1, 1, 1, 1};
    // δ1 = [0.5, -0.25, 0.125, 0, -0.375], δ2 = [0.25, 0.25, -0.25, 0.125, -0.125]
    static final float[] FT1 = {1.5f, 0.75f, 1.125f, 1f, 0.625f};
    static final float[] FT2 = {1.25f, 1.25f, 0.75f, 1.125f, 0.875f};

    @BeforeEach
    void models() throws IOException {
        fx = new MergeFixture(dir);
        fx.model("base", "w", BASE);
        fx.model("ft1", "w", FT1);
        fx.model("ft2", "w", FT2);
    }

    @Test
    void tiesTrimsElectsAndDividesByAgreeingWeights() throws IOException {
        Path out = fx.merge("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.6}}
                  - {model: ft2, parameters: {weight: 1.0, density: 0.6}}
                """);
        // k = (int)(0.6·5) = 3. δ̂1 = [.5, -.25, 0, 0, -.375]; δ̂2 = [.25, .25, -.25, 0, 0] (three
        // equal magnitudes .25 at 0,1,2 win over .125 at 3,4).
        // e0: both +, (.5+.25)/2 = .375. e1: sum 0 elects +, only ft2 agrees: .25/1.
        // e2: -, ft2: -.25. e3: nothing agrees → base. e4: -, ft1: -.375.
        assertArrayEquals(new float[] {1.375f, 1.25f, 0.75f, 1f, 0.625f}, MergeFixture.read(out, "w"));
    }

    @Test
    void tiesTieRuleKeepsLowerIndicesAtTheThreshold() throws IOException {
        fx.model("ft3", "w", new float[] {1.25f, 0.75f, 1.25f, 0.75f, 1.125f});
        Path out = fx.merge("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft3, parameters: {weight: 1.0, density: 0.4}}
                """);
        // |δ| = [.25, .25, .25, .25, .125], k = 2: the two lowest indices among the ties.
        assertArrayEquals(new float[] {1.25f, 0.75f, 1f, 1f, 1f}, MergeFixture.read(out, "w"));
    }

    @Test
    void tiesCountElectionAndLambda() throws IOException {
        fx.model("ft3", "w", new float[] {0.5f, 1.5f, 1.125f, 1f, 1.5f});
        Path out = fx.merge("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                  - {model: ft2, parameters: {weight: 1.0}}
                  - {model: ft3, parameters: {weight: 1.0}}
                parameters: {consensus_method: count, lambda: 2.0}
                """);
        // δ3 = [-.5, .5, .125, 0, .5]. Count election, no trim:
        // e0: +,+,- → +: (.5+.25)/2 = .375, ×2 = .75.  e1: -,+,+ → +: (.25+.5)/2 = .375 → .75.
        // e2: +,-,+ → +: (.125+.125)/2 = .125 → .25.  e3: 0,+,0 → C=1 → +: .125/1 → .25.
        // e4: -,-,+ → -: (-.375-.125)/2 = -.25 → -.5.
        assertArrayEquals(new float[] {1.75f, 1.75f, 1.25f, 1.25f, 0.5f}, MergeFixture.read(out, "w"));
    }

    @Test
    void taskArithmeticWeightsAndLambda() throws IOException {
        Path out = fx.merge("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                  - {model: ft2, parameters: {weight: 2.0}}
                parameters: {lambda: 0.5}
                """);
        // 1 + 0.5·(δ1 + 2·δ2)
        assertArrayEquals(new float[] {1.5f, 1.125f, 0.8125f, 1.125f, 0.6875f}, MergeFixture.read(out, "w"));
    }

    @Test
    void taskArithmeticNormalizeDividesByAllWeights() throws IOException {
        Path out = fx.merge("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                  - {model: ft2, parameters: {weight: 3.0}}
                parameters: {normalize: true}
                """);
        // 1 + (δ1 + 3·δ2)/4
        assertArrayEquals(new float[] {1.3125f, 1.125f, 0.84375f, 1.09375f, 0.8125f}, MergeFixture.read(out, "w"));
    }

    @Test
    void linearNormalizesByTheWeightSum() throws IOException {
        Path out = fx.merge("""
                merge_method: linear
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                  - {model: ft2, parameters: {weight: 3.0}}
                """);
        assertArrayEquals(new float[] {1.3125f, 1.125f, 0.84375f, 1.09375f, 0.8125f}, MergeFixture.read(out, "w"));
    }

    @Test
    void linearAddsAnUnlistedBaseWithTheTopLevelWeight() throws IOException {
        Path out = fx.merge("""
                merge_method: linear
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                parameters: {weight: 1.0}
                """);
        // (ft1 + base)/2
        assertArrayEquals(new float[] {1.25f, 0.875f, 1.0625f, 1f, 0.8125f}, MergeFixture.read(out, "w"));
    }

    @Test
    void breadcrumbsDropsTheLargestAndTheSmallest() throws IOException {
        float[] base = new float[10];
        float[] ft = new float[10];
        float[] deltas = {0.5f, -0.0625f, 0.375f, 0.125f, -0.4375f, 0.25f, 0.03125f, -0.3125f, 0.1875f, -0.0078125f};
        for (int i = 0; i < 10; i++) {
            base[i] = 2;
            ft[i] = 2 + deltas[i];
        }
        fx.model("b10", "w", base);
        fx.model("f10", "w", ft);
        Path out = fx.merge("""
                merge_method: breadcrumbs
                base_model: b10
                models:
                  - {model: f10, parameters: {weight: 1.0, density: 0.5, gamma: 0.1}}
                """);
        // target 5, n_top 1: ranks by |δ|: .5(0) .4375(4) .375(2) .3125(7) .25(5) .1875(8) ...
        // drop rank 0 (index 0), keep ranks 1..5: indices 4, 2, 7, 5, 8.
        float[] expected = base.clone();
        for (int i : new int[] {4, 2, 7, 5, 8}) expected[i] = 2 + deltas[i];
        assertArrayEquals(expected, MergeFixture.read(out, "w"));
    }

    @Test
    void breadcrumbsOnSmallTensorsKeepsTheTopInsteadOfZeroing() throws IOException {
        Path out = fx.merge("""
                merge_method: breadcrumbs
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.4}}
                """);
        // n = 5 < 1/gamma: n_top = 0, keep the 2 largest (mergekit zeroes the whole delta here).
        assertArrayEquals(new float[] {1.5f, 1f, 1f, 1f, 0.625f}, MergeFixture.read(out, "w"));
    }

    @Test
    void dareKeepsExactlyThePhiloxDrawsBelowTheDensity() throws IOException {
        Path out = fx.merge("""
                merge_method: dare_linear
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.5}}
                  - {model: ft2, parameters: {weight: 1.0, density: 0.5}}
                parameters: {random_seed: 42, rescale_mode: inverse_density}
                """);
        float[][] deltas = {
                {0.5f, -0.25f, 0.125f, 0f, -0.375f},
                {0.25f, 0.25f, -0.25f, 0.125f, -0.125f}};
        // Masks from the tests' own Philox (PhiloxOracle, §1.9), not from the production BernoulliMask.
        float[] expected = new float[5];
        for (int i = 0; i < 5; i++) {
            float mixed = 0f;
            for (int m = 0; m < 2; m++) {
                float kept = PhiloxOracle.keep(42, m, "w", i, 0.5) ? (float) (deltas[m][i] / 0.5) : 0f;
                mixed += 1f * kept;
            }
            expected[i] = 1f + mixed;
        }
        assertArrayEquals(expected, MergeFixture.read(out, "w"));
    }

    @Test
    void dareKeysEachMaskByTheModelIndexNotTheTaskPosition() throws IOException {
        // The base listed between the fine-tunes: ft-b is task 1 but model index 2 (§1.9: m = position in models:).
        int n = 24;
        float[] base = new float[n], a = new float[n], b = new float[n];
        for (int i = 0; i < n; i++) {
            base[i] = 1f;
            a[i] = 1f + (i + 1) / 8f;
            b[i] = 1f - (i + 1) / 16f;
        }
        fx.model("base-k", "w", base);
        fx.model("ft-a", "w", a);
        fx.model("ft-b", "w", b);
        Path out = fx.merge("""
                merge_method: dare_linear
                base_model: base-k
                models:
                  - {model: ft-a, parameters: {weight: 1.0, density: 0.5}}
                  - {model: base-k}
                  - {model: ft-b, parameters: {weight: 1.0, density: 0.5}}
                parameters: {random_seed: 7, rescale_mode: inverse_density}
                """);
        boolean[] maskA = PhiloxOracle.mask(7, 0, "w", n, 0.5);
        boolean[] maskB = PhiloxOracle.mask(7, 2, "w", n, 0.5);
        assertFalse(java.util.Arrays.equals(maskB, PhiloxOracle.mask(7, 1, "w", n, 0.5)),
                "the test needs index 2 and position 1 to draw different masks");
        float[] expected = new float[n];
        for (int i = 0; i < n; i++) {
            float va = maskA[i] ? (float) ((a[i] - base[i]) / 0.5) : 0f;
            float vb = maskB[i] ? (float) ((b[i] - base[i]) / 0.5) : 0f;
            expected[i] = base[i] + (va + vb);
        }
        assertArrayEquals(expected, MergeFixture.read(out, "w"));
    }

    /**
     * §1.9's l1 cut-off through whole merges, by hand, on both CPU backends: δ over a zero base is [x, y, 0, 0],
     * the trim keeps x alone, so A = x + y and B = x; the kept value is rescaled by A/B only if A, B ≥ 1e-7.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"reference", "cpu"})
    void l1RescaleCutOffAtTheExactBoundaries(String backend) throws IOException {
        float[] zero = new float[4];
        fx.model("b0", "a", zero, "b", zero, "c", zero, "d", zero);
        fx.model("f0",
                "a", new float[] {0x1p-25f, 0x1p-26f, 0, 0},                 // A ≈ 4.5e-8: both below
                "b", new float[] {0x1p-24f, 0x1p-25f, 0, 0},                 // A ≈ 8.9e-8: just below
                "c", new float[] {0x1p-24f, 0x1p-25f + 0x1p-26f, 0, 0},      // A ≈ 1.04e-7 ≥ 1e-7, B ≈ 6e-8 below
                "d", new float[] {0x1p-23f, 0x1p-24f, 0, 0});                // A ≈ 1.8e-7, B ≈ 1.2e-7: rescaled ×1.5
        Path out = dir.resolve("l1-" + backend);
        fx.run("""
                merge_method: ties
                base_model: b0
                models:
                  - {model: f0, parameters: {weight: 1.0, density: 0.25}}
                parameters: {rescale: true, rescale_mode: l1}
                """, out, backend);
        assertArrayEquals(new float[] {0x1p-25f, 0, 0, 0}, MergeFixture.read(out, "a"));
        assertArrayEquals(new float[] {0x1p-24f, 0, 0, 0}, MergeFixture.read(out, "b"));
        assertArrayEquals(new float[] {0x1p-24f, 0, 0, 0}, MergeFixture.read(out, "c"));
        assertArrayEquals(new float[] {1.5f * 0x1p-23f, 0, 0, 0}, MergeFixture.read(out, "d"));
    }

    @Test
    void modelScopeSelectsOverTheWholeModelAndSpendsTheTieBudgetInNameOrder() throws IOException {
        fx.model("mb", "a.weight", new float[] {1, 1, 1}, "b.weight", new float[] {1, 1, 1});
        // δ: a = [.5, .125, .125], b = [.25, .25, .25]; k = (int)(0.5·6) = 3 over a ++ b:
        // .5 (a0), then the .25 ties in flat order: b0, b1.
        fx.model("mf", "a.weight", new float[] {1.5f, 1.125f, 0.875f}, "b.weight", new float[] {1.25f, 0.75f, 1.25f});
        Path out = fx.merge("""
                merge_method: ties
                base_model: mb
                models:
                  - {model: mf, parameters: {weight: 1.0, density: 0.5}}
                parameters: {density_scope: model}
                """);
        assertArrayEquals(new float[] {1.5f, 1f, 1f}, MergeFixture.read(out, "a.weight"));
        assertArrayEquals(new float[] {1.25f, 0.75f, 1f}, MergeFixture.read(out, "b.weight"));
    }

    @Test
    void layerGradientWeightsFollowLayerDepth() throws IOException {
        fx.model("lb", "model.layers.0.w", new float[] {0}, "model.layers.1.w", new float[] {0},
                "model.layers.2.w", new float[] {0}, "model.norm.weight", new float[] {0});
        fx.model("lf", "model.layers.0.w", new float[] {1}, "model.layers.1.w", new float[] {1},
                "model.layers.2.w", new float[] {1}, "model.norm.weight", new float[] {1});
        Path out = fx.merge("""
                merge_method: task_arithmetic
                base_model: lb
                models:
                  - {model: lf, parameters: {weight: [0.0, 1.0]}}
                """);
        // t = 0, 0.5, 1 for the layers; outside layers t = 0.
        assertEquals(0f, MergeFixture.read(out, "model.layers.0.w")[0]);
        assertEquals(0.5f, MergeFixture.read(out, "model.layers.1.w")[0]);
        assertEquals(1f, MergeFixture.read(out, "model.layers.2.w")[0]);
        assertEquals(0f, MergeFixture.read(out, "model.norm.weight")[0]);
    }

    @Test
    void filteredDensityFallsThroughToTheTopLevel() throws IOException {
        fx.model("fb", "mlp.w", new float[] {1, 1, 1, 1}, "attn.w", new float[] {1, 1, 1, 1});
        fx.model("ff", "mlp.w", new float[] {1.5f, 1.25f, 1.125f, 0.875f}, "attn.w", new float[] {1.5f, 1.25f, 1.125f, 0.875f});
        Path out = fx.merge("""
                merge_method: ties
                base_model: fb
                models:
                  - model: ff
                    parameters:
                      weight: 1.0
                      density: [{filter: mlp, value: 0.25}]
                parameters: {density: 0.5}
                """);
        assertArrayEquals(new float[] {1.5f, 1f, 1f, 1f}, MergeFixture.read(out, "mlp.w"));
        assertArrayEquals(new float[] {1.5f, 1.25f, 1f, 1f}, MergeFixture.read(out, "attn.w"));
    }

    @Test
    void outputDtypeFallsBackToTheBaseStorageDtype() throws IOException {
        fx.model("hb", DType.BF16, Map.of(), "w", BASE);
        fx.model("hf", DType.F16, Map.of(), "w", FT1);
        Path out = fx.merge("""
                merge_method: task_arithmetic
                base_model: hb
                models: [{model: hf, parameters: {weight: 1.0}}]
                """);
        assertEquals(DType.BF16, MergeFixture.info(out, "w").dtype());
        Path out2 = fx.merge("""
                merge_method: task_arithmetic
                base_model: hb
                models: [{model: hf, parameters: {weight: 1.0}}]
                dtype: float16
                out_dtype: float32
                """);
        assertEquals(DType.F32, MergeFixture.info(out2, "w").dtype());
        assertArrayEquals(FT1, MergeFixture.read(out2, "w"));
    }

    @Test
    void negativeWeightsFlipContributionsAndCancellingDivisorsStayUndivided() throws IOException {
        Path out = fx.merge("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                  - {model: ft2, parameters: {weight: -1.0}}
                """);
        // v1 = δ1, v2 = −δ2 = [-.25, -.25, .25, -.125, .125].
        // e0: S=.25 → +, v1 agrees: .5/1. e1: S=-.5 → −, both agree, D = 1 + (−1) = 0 → 1: −.5.
        // e2: both agree, D = 0 → 1: .375. e3: only v2 agrees, D = −1: −.125/−1 = .125. e4: v1: −.375.
        assertArrayEquals(new float[] {1.5f, 0.5f, 1.375f, 1.125f, 0.625f}, MergeFixture.read(out, "w"));
    }

    @Test
    void tokenizerFilesComeFromTheTokenizerSourceAndTheRestFromTheBase() throws IOException {
        java.nio.file.Files.writeString(dir.resolve("base/config.json"), "{\"from\": \"base\"}");
        java.nio.file.Files.writeString(dir.resolve("base/tokenizer.json"), "{\"tok\": \"base\"}");
        java.nio.file.Files.writeString(dir.resolve("ft2/config.json"), "{\"from\": \"ft2\"}");
        java.nio.file.Files.writeString(dir.resolve("ft2/tokenizer.json"), "{\"tok\": \"ft2\"}");
        java.nio.file.Files.writeString(dir.resolve("ft2/special_tokens_map.json"), "{}");
        Path out = fx.merge("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                  - {model: ft2, parameters: {weight: 1.0}}
                tokenizer_source: ft2
                """);
        assertEquals("{\"from\": \"base\"}", java.nio.file.Files.readString(out.resolve("config.json")));
        assertEquals("{\"tok\": \"ft2\"}", java.nio.file.Files.readString(out.resolve("tokenizer.json")));
        assertEquals("{}", java.nio.file.Files.readString(out.resolve("special_tokens_map.json")));
    }
}

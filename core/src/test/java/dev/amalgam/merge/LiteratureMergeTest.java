package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.config.ConfigException;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DELLA, SCE, TALL-mask consensus and LiNeS through whole merges: reference and fast CPU write
 * the same bits; §14 properties 1, 5, 15; §15 edge cases; config errors.
 */
class LiteratureMergeTest {

    @TempDir
    Path dir;

    static final Map<String, long[]> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("model.embed_tokens.weight", new long[] {61, 24});
        SHAPES.put("model.layers.0.self_attn.q_proj.weight", new long[] {24, 24});
        SHAPES.put("model.layers.0.mlp.up_proj.weight", new long[] {67, 24});
        SHAPES.put("model.layers.0.input_layernorm.weight", new long[] {24});
        SHAPES.put("model.layers.1.mlp.down_proj.weight", new long[] {24, 67});
        SHAPES.put("model.layers.1.scalar", new long[] {});
        SHAPES.put("model.layers.1.conv", new long[] {3, 5, 7});
        SHAPES.put("model.layers.1.column", new long[] {9, 1});
        SHAPES.put("lm_head.weight", new long[] {61, 24});
        SHAPES.put("model.big", new long[] {70_001});
    }

    private MergeFixture family(int models, DType dtype, long seed) throws IOException {
        MergeFixture fx = new MergeFixture(dir);
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, float[]> base = new LinkedHashMap<>();
        for (var e : SHAPES.entrySet()) {
            int n = 1;
            for (long d : e.getValue()) n *= (int) d;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * 0.05);
            base.put(e.getKey(), v);
        }
        SafetensorsTestFiles.writeModel(fx.dir.resolve("base"), base, SHAPES, dtype);
        for (int m = 1; m <= models; m++) {
            Map<String, float[]> ft = new LinkedHashMap<>();
            for (var e : base.entrySet()) {
                float[] v = e.getValue().clone();
                for (int i = 0; i < v.length; i++) if (rnd.nextInt(4) != 0) v[i] += (float) (rnd.nextGaussian() * 0.01 * m);
                ft.put(e.getKey(), v);
            }
            SafetensorsTestFiles.writeModel(fx.dir.resolve("ft" + m), ft, SHAPES, dtype);
        }
        return fx;
    }

    static final String THREE = "models:\n  - {model: ft1, parameters: {weight: 0.6, density: 0.5}}\n"
            + "  - {model: ft2, parameters: {weight: 0.9, density: 0.3}}\n  - {model: ft3, parameters: {weight: -0.2, density: 0.7}}\n";

    static final String[] CONFIGS = {
            "merge_method: della\nbase_model: base\nparameters: {epsilon: 0.2, random_seed: 7}\n" + THREE,
            "merge_method: della_linear\nbase_model: base\nparameters: {epsilon: 0.1, rescale_mode: inverse_probability}\n" + THREE,
            "merge_method: della\nbase_model: base\nparameters: {epsilon: 0.2, lambda: 1.0, lines: {alpha: 0.6, beta: 0.4}}\n" + THREE,
            "merge_method: sce\nbase_model: base\nparameters: {select_topk: 0.3}\nmodels:\n  - model: ft1\n  - model: ft2\n  - model: ft3\n",
            "merge_method: sce\nbase_model: base\nmodels:\n  - model: ft1\n  - model: ft2\n",
            "merge_method: consensus_ta\nbase_model: base\nparameters: {lambda_tall: 0.5, consensus_k: 2, alpha: 0.8}\n"
                    + "models:\n  - {model: ft1, parameters: {weight: 1.0}}\n  - {model: ft2}\n  - {model: ft3, parameters: {lambda_tall: 0.3}}\n",
            "merge_method: consensus_ties\nbase_model: base\nparameters: {consensus_k: 1}\nmodels:\n  - model: ft1\n  - model: ft2\n  - model: ft3\n",
            "merge_method: consensus_ties\nbase_model: base\nparameters: {consensus_k: 2, rescale: true, density: 0.4, normalize: true}\n"
                    + "models:\n  - model: ft1\n  - model: ft2\n  - model: ft3\n",
    };

    @ParameterizedTest(name = "config {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7})
    void referenceAndFastCpuWriteTheSameBits(int config) throws IOException {
        MergeFixture fx = family(3, config % 2 == 0 ? DType.BF16 : DType.F32, 300 + config);
        Path ref = dir.resolve("ref"), cpu = dir.resolve("cpu");
        fx.run(CONFIGS[config] + "dtype: float32\n", ref, "reference");
        fx.run(CONFIGS[config] + "dtype: float32\n", cpu, "cpu");
        assertSameFiles(ref, cpu, CONFIGS[config]);
    }

    static void assertSameFiles(Path a, Path b, String context) throws IOException {
        try (ModelFolder x = ModelFolder.open(a); ModelFolder y = ModelFolder.open(b)) {
            for (TensorInfo t : x.tensors()) {
                assertArrayEquals(SafetensorsTestFiles.bytes(x.tensor(t.name())), SafetensorsTestFiles.bytes(y.tensor(t.name())),
                        context.lines().findFirst().orElseThrow() + ": " + t.name());
            }
        }
    }

    @Test
    void consensusKZeroEqualsTaskArithmeticAndTiesTimesAlpha() throws IOException {
        // §14 property 15, bit for bit.
        MergeFixture fx = family(3, DType.F32, 11);
        String models = "models:\n  - {model: ft1, parameters: {weight: 0.5}}\n  - {model: ft2, parameters: {weight: 1.5}}\n  - {model: ft3}\n";
        for (String backend : new String[] {"reference", "cpu"}) {
            Path a = dir.resolve("cta-" + backend), b = dir.resolve("ta-" + backend);
            fx.run("merge_method: consensus_ta\nbase_model: base\nparameters: {consensus_k: 0, alpha: 0.7}\n" + models, a, backend);
            fx.run("merge_method: task_arithmetic\nbase_model: base\nparameters: {lambda: 0.7}\n"
                    + models.replace("{model: ft3}", "{model: ft3, parameters: {weight: 1.0}}"), b, backend);
            assertSameFiles(a, b, "consensus_ta k=0 vs task_arithmetic " + backend);
            Path c = dir.resolve("ctie-" + backend), d = dir.resolve("tie-" + backend);
            fx.run("merge_method: consensus_ties\nbase_model: base\nparameters: {consensus_k: 0, alpha: 1.3}\n" + models, c, backend);
            fx.run("merge_method: ties\nbase_model: base\nparameters: {lambda: 1.3, density: 0.2, normalize: false}\n"
                    + models.replace("{model: ft3}", "{model: ft3, parameters: {weight: 1.0}}"), d, backend);
            assertSameFiles(c, d, "consensus_ties k=0 vs ties " + backend);
        }
    }

    @Test
    void consensusKAboveTheModelCountReturnsTheBase() throws IOException {
        MergeFixture fx = family(2, DType.F32, 12);
        Path out = dir.resolve("o");
        fx.run("merge_method: consensus_ties\nbase_model: base\nparameters: {consensus_k: 3}\nmodels:\n  - model: ft1\n  - model: ft2\n", out, "cpu");
        for (String t : SHAPES.keySet()) {
            assertArrayEquals(MergeFixture.read(dir.resolve("base"), t), MergeFixture.read(out, t), 0f, t);
        }
    }

    @Test
    void tallMasksFollowTheFormula() throws IOException {
        // Independent computation of §10 for consensus_ta on one tensor.
        MergeFixture fx = family(3, DType.F32, 13);
        Path out = dir.resolve("o");
        fx.run("merge_method: consensus_ta\nbase_model: base\nparameters: {consensus_k: 2, alpha: 0.9}\nmodels:\n"
                + "  - {model: ft1, parameters: {lambda_tall: 0.2}}\n  - model: ft2\n  - {model: ft3, parameters: {weight: 2, lambda_tall: 0.6}}\n",
                out, "cpu");
        String name = "model.layers.0.mlp.up_proj.weight";
        float[] b = MergeFixture.read(dir.resolve("base"), name);
        float[][] x = new float[3][];
        for (int m = 0; m < 3; m++) x[m] = MergeFixture.read(dir.resolve("ft" + (m + 1)), name);
        float[] w = {1f, 1f, 2f}, lam = {0.2f, 0.4f, 0.6f};
        float[] got = MergeFixture.read(out, name);
        int kept = 0;
        for (int i = 0; i < b.length; i++) {
            float tau = 0f;
            for (int m = 0; m < 3; m++) tau += w[m] * (x[m][i] - b[i]);
            int votes = 0;
            for (int m = 0; m < 3; m++) {
                float d = x[m][i] - b[i];
                if (Math.abs(d) > lam[m] * Math.abs(tau - d)) votes++;
            }
            float expected = votes >= 2 ? b[i] + 0.9f * tau : b[i];
            if (votes >= 2) kept++;
            assertEquals(expected, got[i], 0f, "element " + i);
        }
        assertTrue(kept > 0 && kept < b.length, "masks neither empty nor full: " + kept);
    }

    @Test
    void dellaAtDensityOneIsTiesAtDensityOne() throws IOException {
        // §14 property 1 and 3 (della with density 1 draws nothing).
        MergeFixture fx = family(2, DType.F32, 14);
        String models = "models:\n  - {model: ft1, parameters: {weight: 0.5}}\n  - {model: ft2, parameters: {weight: 1.5}}\n";
        Path a = dir.resolve("a"), b = dir.resolve("b");
        fx.run("merge_method: della\nbase_model: base\nparameters: {density: 1.0, rescale: false}\n" + models, a, "cpu");
        fx.run("merge_method: ties\nbase_model: base\n" + models, b, "cpu");
        assertSameFiles(a, b, "della density 1 vs ties");
    }

    @Test
    void dellaWindowOutsideTheUnitIntervalIsAnErrorNamingModelAndTensor() throws IOException {
        MergeFixture fx = family(1, DType.F32, 15);
        MergeException e = assertThrows(MergeException.class, () -> fx.run("merge_method: della\nbase_model: base\n"
                + "models:\n  - {model: ft1, parameters: {weight: 1, density: 0.9, epsilon: 0.1}}\n", dir.resolve("o")));
        assertTrue(e.getMessage().contains("ft1") && e.getMessage().contains("tensor ") && e.getMessage().contains("epsilon"), e.getMessage());
    }

    @Test
    void dellaDensityZeroReturnsTheBaseWithAWarning() throws IOException {
        MergeFixture fx = family(1, DType.F32, 16);
        Path out = dir.resolve("o");
        MergeReport r = fx.run("merge_method: della_linear\nbase_model: base\n"
                + "models:\n  - {model: ft1, parameters: {weight: 1, density: 0.0}}\n", out, "cpu");
        for (String t : SHAPES.keySet()) assertArrayEquals(MergeFixture.read(dir.resolve("base"), t), MergeFixture.read(out, t), 0f, t);
        assertTrue(r.warnings().stream().anyMatch(w -> w.contains("drops every element")), r.warnings().toString());
    }

    @Test
    void linesScalesEachLayerByItsDepth() throws IOException {
        // ties with lines {alpha: 0.5, beta: 0.5} = ties with λ = 0.5 on layer 0 (t = 0) and on
        // non-layer tensors, λ = 1.0 on layer 1 (t = 1), bit for bit.
        MergeFixture fx = family(2, DType.F32, 17);
        String models = "models:\n  - {model: ft1, parameters: {weight: 0.5, density: 0.5}}\n  - {model: ft2, parameters: {weight: 1.5, density: 0.5}}\n";
        Path lines = dir.resolve("l"), half = dir.resolve("h"), one = dir.resolve("one");
        fx.run("merge_method: ties\nbase_model: base\nparameters: {lines: {alpha: 0.5, beta: 0.5}}\n" + models, lines, "cpu");
        fx.run("merge_method: ties\nbase_model: base\nparameters: {lambda: 0.5}\n" + models, half, "cpu");
        fx.run("merge_method: ties\nbase_model: base\nparameters: {lambda: 1.0}\n" + models, one, "cpu");
        for (String t : SHAPES.keySet()) {
            Path expected = t.contains("layers.1.") ? one : half;
            assertArrayEquals(MergeFixture.read(expected, t), MergeFixture.read(lines, t), 0f, t);
        }
    }

    @Test
    void oldConsensusNamesAndSceWeightsAreRejected() throws IOException {
        MergeFixture fx = family(2, DType.F32, 18);
        ConfigException k = assertThrows(ConfigException.class, () -> fx.run(
                "merge_method: consensus_ta\nbase_model: base\nparameters: {k: 2}\nmodels:\n  - model: ft1\n  - model: ft2\n", dir.resolve("a")));
        assertTrue(k.getMessage().contains("consensus_k"), k.getMessage());
        ConfigException lambda = assertThrows(ConfigException.class, () -> fx.run(
                "merge_method: consensus_ties\nbase_model: base\nmodels:\n  - {model: ft1, parameters: {lambda: 0.5}}\n  - model: ft2\n",
                dir.resolve("b")));
        assertTrue(lambda.getMessage().contains("lambda_tall"), lambda.getMessage());
        // sce ignores `weight` as mergekit does (its tests set it), with a warning naming it.
        MergeReport w = fx.run("merge_method: sce\nbase_model: base\nmodels:\n  - {model: ft1, parameters: {weight: 0.5}}\n  - model: ft2\n",
                dir.resolve("c"));
        assertTrue(w.warnings().stream().anyMatch(x -> x.contains("weight")), w.warnings().toString());
    }

    @Test
    void sceSelectTopkZeroReturnsTheBase() throws IOException {
        MergeFixture fx = family(2, DType.F32, 19);
        Path out = dir.resolve("o");
        MergeReport r = fx.run("merge_method: sce\nbase_model: base\nparameters: {select_topk: 0}\nmodels:\n  - model: ft1\n  - model: ft2\n", out, "cpu");
        for (String t : SHAPES.keySet()) assertArrayEquals(MergeFixture.read(dir.resolve("base"), t), MergeFixture.read(out, t), 0f, t);
        assertEquals(true, r.warnings().stream().anyMatch(x -> x.contains("select_topk")));
    }
}

package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
 * Every method of §12, arcee_fusion and the RAM family merged with the reference and with the
 * fast CPU backend: the output files are identical bit for bit (the coefficients come from
 * bit-identical float64 reductions, the passes are bit-identical float32).
 */
class InterpolationBackendParityTest {

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
        SHAPES.put("lm_head.weight", new long[] {61, 24});
        SHAPES.put("model.big", new long[] {70_001});
    }

    private void family(MergeFixture fx, int models, DType dtype, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, float[]> base = new LinkedHashMap<>();
        for (var e : SHAPES.entrySet()) {
            int n = 1;
            for (long d : e.getValue()) n *= (int) d;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * 0.05);
            base.put(e.getKey(), v);
        }
        write(fx, "base", base, dtype);
        for (int m = 1; m <= models; m++) {
            Map<String, float[]> ft = new LinkedHashMap<>();
            for (var e : base.entrySet()) {
                float[] v = e.getValue().clone();
                for (int i = 0; i < v.length; i++) if (rnd.nextInt(4) != 0) v[i] += (float) (rnd.nextGaussian() * 0.01 * m);
                ft.put(e.getKey(), v);
            }
            write(fx, "ft" + m, ft, dtype);
        }
    }

    private static void write(MergeFixture fx, String name, Map<String, float[]> values, DType dtype) throws IOException {
        SafetensorsTestFiles.writeModel(fx.dir.resolve(name), values, SHAPES, dtype);
    }

    static final String[] CONFIGS = {
            "merge_method: slerp\nbase_model: base\nparameters: {t: [0.2, 0.7]}\nmodels:\n  - model: ft1\n",
            "merge_method: nuslerp\nbase_model: base\nmodels:\n  - {model: ft1, parameters: {weight: 0.4}}\n  - {model: ft2, parameters: {weight: 0.6}}\n",
            "merge_method: nuslerp\nparameters: {nuslerp_flatten: false}\nmodels:\n  - {model: ft1, parameters: {weight: 1}}\n  - {model: ft2, parameters: {weight: 2}}\n",
            "merge_method: nuslerp\nparameters: {nuslerp_flatten: false, nuslerp_row_wise: true}\nmodels:\n  - {model: ft1, parameters: {weight: 1}}\n  - {model: ft2, parameters: {weight: 2}}\n",
            "merge_method: multislerp\nbase_model: base\nmodels:\n  - {model: ft1, parameters: {weight: 1}}\n  - {model: ft2, parameters: {weight: 2}}\n  - {model: ft3, parameters: {weight: 0.5}}\n",
            "merge_method: karcher\nmodels:\n  - model: ft1\n  - model: ft2\n  - model: ft3\n",
            "merge_method: model_stock\nbase_model: base\nmodels:\n  - model: ft1\n  - model: ft2\n  - model: ft3\n",
            "merge_method: model_stock\nbase_model: base\nparameters: {filter_wise: true}\nmodels:\n  - model: ft1\n  - model: ft2\n  - model: ft3\n",
            "merge_method: nearswap\nbase_model: base\nparameters: {t: 0.004}\nmodels:\n  - model: ft1\n",
            "merge_method: ram\nbase_model: base\nmodels:\n  - model: ft1\n  - model: ft2\n  - model: ft3\n",
            "merge_method: ramplus_tl\nbase_model: base\nmodels:\n  - model: ft1\n  - model: ft2\n",
            "merge_method: arcee_fusion\nbase_model: base\nmodels:\n  - model: ft1\n",
    };

    @ParameterizedTest(name = "config {0}")
    @ValueSource(ints = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
    void referenceAndFastCpuWriteTheSameBits(int config) throws IOException {
        MergeFixture fx = new MergeFixture(dir);
        family(fx, 3, config % 2 == 0 ? DType.BF16 : DType.F32, 100 + config);
        Path ref = dir.resolve("ref"), cpu = dir.resolve("cpu");
        fx.run(CONFIGS[config] + "dtype: float32\n", ref, "reference");
        fx.run(CONFIGS[config] + "dtype: float32\n", cpu, "cpu");
        try (ModelFolder a = ModelFolder.open(ref); ModelFolder b = ModelFolder.open(cpu)) {
            for (TensorInfo t : a.tensors()) {
                assertArrayEquals(SafetensorsTestFiles.bytes(a.tensor(t.name())), SafetensorsTestFiles.bytes(b.tensor(t.name())),
                        CONFIGS[config].lines().findFirst().orElseThrow() + ": " + t.name());
            }
        }
    }

    @Test
    void bfloat16OutputIsTheRoundedFloat32Result() throws IOException {
        MergeFixture fx = new MergeFixture(dir);
        family(fx, 3, DType.BF16, 7);
        Path f32 = dir.resolve("f32"), bf16 = dir.resolve("bf16");
        String yaml = CONFIGS[6];
        fx.run(yaml + "dtype: float32\n", f32, "cpu");
        fx.run(yaml + "dtype: bfloat16\n", bf16, "cpu");
        try (ModelFolder a = ModelFolder.open(f32); ModelFolder b = ModelFolder.open(bf16)) {
            for (TensorInfo t : a.tensors()) {
                float[] wide = SafetensorsTestFiles.readFloats(a.tensor(t.name()));
                float[] narrow = SafetensorsTestFiles.readFloats(b.tensor(t.name()));
                for (int i = 0; i < wide.length; i++) {
                    narrow[i] = dev.amalgam.tensor.DTypeConversion.bf16ToFloat(dev.amalgam.tensor.DTypeConversion.floatToBf16(wide[i])) - narrow[i];
                }
                assertArrayEquals(new float[wide.length], narrow, t.name());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"linear", "ties", "slerp", "model_stock"})
    void largeCroppedEmbeddingsMergeOnTheFastBackend(String method) throws IOException {
        // A crop copies the embedding into scratch memory that the fast kernels read from several threads.
        MergeFixture fx = new MergeFixture(dir);
        String e = "model.embed_tokens.weight";
        SplittableRandom rnd = new SplittableRandom(3);
        for (String m : new String[] {"base", "ft1", "ft2"}) {
            int rows = m.equals("base") ? 1000 : 1003;
            float[] v = new float[rows * 96];
            for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
            SafetensorsTestFiles.writeModel(fx.dir.resolve(m), Map.of(e, v), Map.of(e, new long[] {rows, 96}), DType.F32);
        }
        String yaml = switch (method) {
            case "linear" -> "merge_method: linear\nmodels:\n  - {model: base, parameters: {weight: 1}}\n  - {model: ft1, parameters: {weight: 1}}\n";
            case "ties" -> "merge_method: ties\nbase_model: base\nmodels:\n  - {model: ft1, parameters: {weight: 1, density: 0.5}}\n";
            case "slerp" -> "merge_method: slerp\nbase_model: base\nparameters: {t: 0.5}\nmodels:\n  - model: ft1\n";
            default -> "merge_method: model_stock\nbase_model: base\nmodels:\n  - model: ft1\n  - model: ft2\n";
        };
        Path ref = dir.resolve("ref"), cpu = dir.resolve("cpu");
        fx.run(yaml, ref, "reference");
        fx.run(yaml, cpu, "cpu");
        try (ModelFolder a = ModelFolder.open(ref); ModelFolder b = ModelFolder.open(cpu)) {
            assertArrayEquals(new long[] {1000, 96}, a.info(e).shape());
            assertArrayEquals(SafetensorsTestFiles.bytes(a.tensor(e)), SafetensorsTestFiles.bytes(b.tensor(e)), method);
        }
    }
}

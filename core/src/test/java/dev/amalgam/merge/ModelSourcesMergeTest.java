package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.source.torch.TorchCheckpoint;
import dev.amalgam.source.torch.TorchZipWriter;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Merges whose inputs are PyTorch checkpoints and LoRA adapters (spec §16.4). */
class ModelSourcesMergeTest {

    @TempDir
    Path tmp;

    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    private Path model(MergeFixture f, String name, long seed, DType dtype) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> v = new LinkedHashMap<>();
        v.put("model.embed_tokens.weight", random(r, 11 * 6));
        v.put("model.layers.0.self_attn.q_proj.weight", random(r, 6 * 6));
        v.put("model.layers.0.mlp.up_proj.weight", random(r, 9 * 6));
        v.put("model.layers.1.self_attn.q_proj.weight", random(r, 6 * 6));
        v.put("model.norm.weight", random(r, 6));
        return SafetensorsTestFiles.writeModel(f.dir.resolve(name), v, Map.of("model.embed_tokens.weight", new long[]{11, 6},
                "model.layers.0.self_attn.q_proj.weight", new long[]{6, 6}, "model.layers.0.mlp.up_proj.weight", new long[]{9, 6},
                "model.layers.1.self_attn.q_proj.weight", new long[]{6, 6}), dtype);
    }

    /** The safetensors folder re-saved as pytorch_model.bin (config.json copied). */
    private static Path torchTwin(Path st, Path dir) throws IOException {
        try (ModelFolder m = ModelFolder.open(st)) {
            List<Tensor> ts = new ArrayList<>();
            for (var i : m.tensors()) ts.add(m.tensor(i.name()));
            TorchZipWriter.write(dir.resolve(TorchCheckpoint.SINGLE_FILE_NAME), ts);
        }
        return dir;
    }

    @Test
    void aBinInputMergesBitIdenticallyToItsSafetensorsTwin() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        for (DType d : List.of(DType.BF16, DType.F32)) {
            model(f, "a-" + d, 1, d);
            model(f, "b-" + d, 2, d);
            model(f, "c-" + d, 3, d);
            torchTwin(f.dir.resolve("b-" + d), f.dir.resolve("bt-" + d));
            torchTwin(f.dir.resolve("c-" + d), f.dir.resolve("ct-" + d));
            String yaml = "merge_method: ties\nbase_model: a-%s\nparameters: {density: 0.6}\nmodels:\n"
                    + "  - model: %s-%s\n    parameters: {weight: 0.7}\n  - model: %s-%s\n    parameters: {weight: 0.4}\n";
            Path st = f.merge(String.format(yaml, d, "b", d, "c", d));
            Path pt = f.merge(String.format(yaml, d, "bt", d, "ct", d));
            try (ModelFolder x = ModelFolder.open(st); ModelFolder y = ModelFolder.open(pt)) {
                assertEquals(x.tensors(), y.tensors());
                for (var i : x.tensors()) {
                    assertArrayEquals(SafetensorsTestFiles.bytes(x.tensor(i.name())), SafetensorsTestFiles.bytes(y.tensor(i.name())));
                }
            }
        }
    }

    /** Writes a PEFT adapter for q_proj and up_proj of layer 0 (and optionally a bad extra module). */
    private static Path adapter(Path dir, String config, Map<String, float[]> values, Map<String, long[]> shapes) throws IOException {
        SafetensorsTestFiles.writeModel(dir, values, shapes, DType.F32);
        Files.move(dir.resolve("model.safetensors"), dir.resolve("adapter_model.safetensors"));
        Files.writeString(dir.resolve("adapter_config.json"), config);
        return dir;
    }

    @Test
    void aLoraInputIsWPlusScaledBA() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        Path base = model(f, "base", 7, DType.F32);
        SplittableRandom r = new SplittableRandom(9);
        int rank = 3;
        float[] qa = random(r, rank * 6), qb = random(r, 6 * rank), ua = random(r, 5 * 6), ub = random(r, 9 * 5);
        Map<String, float[]> v = new LinkedHashMap<>();
        String p = "base_model.model.model.layers.0.";
        v.put(p + "self_attn.q_proj.lora_A.weight", qa);
        v.put(p + "self_attn.q_proj.lora_B.weight", qb);
        v.put(p + "mlp.up_proj.lora_A.weight", ua);
        v.put(p + "mlp.up_proj.lora_B.weight", ub);
        adapter(f.dir.resolve("lora"), "{\"peft_type\":\"LORA\",\"r\":3,\"lora_alpha\":6,\"rank_pattern\":{\"up_proj\":5},"
                        + "\"alpha_pattern\":{\"mlp.up_proj\":2.5},\"use_rslora\":false}",
                v, Map.of(p + "self_attn.q_proj.lora_A.weight", new long[]{3, 6}, p + "self_attn.q_proj.lora_B.weight", new long[]{6, 3},
                        p + "mlp.up_proj.lora_A.weight", new long[]{5, 6}, p + "mlp.up_proj.lora_B.weight", new long[]{9, 5}));
        List<String> adapterFiles = listing(f.dir.resolve("lora"));
        List<String> baseFiles = listing(base);
        Path out = f.merge("merge_method: linear\nmodels:\n  - model: base+lora\n    parameters: {weight: 1.0}\n");
        float[] q = MergeFixture.read(base, "model.layers.0.self_attn.q_proj.weight");
        float[] u = MergeFixture.read(base, "model.layers.0.mlp.up_proj.weight");
        assertArrayEquals(expected(q, qb, qa, 6, 3, 6, 6f / 3), MergeFixture.read(out, "model.layers.0.self_attn.q_proj.weight"), 1e-5f);
        assertArrayEquals(expected(u, ub, ua, 9, 5, 6, 2.5f / 5), MergeFixture.read(out, "model.layers.0.mlp.up_proj.weight"), 1e-5f);
        assertArrayEquals(MergeFixture.read(base, "model.layers.1.self_attn.q_proj.weight"),
                MergeFixture.read(out, "model.layers.1.self_attn.q_proj.weight"));
        // The inputs are untouched and no merged copy is written next to them.
        assertArrayEquals(q, MergeFixture.read(base, "model.layers.0.self_attn.q_proj.weight"));
        assertEquals(adapterFiles, listing(f.dir.resolve("lora")));
        assertEquals(baseFiles, listing(base));
    }

    private static List<String> listing(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** W + s·B·A in double, the test's own oracle. */
    static float[] expected(float[] w, float[] b, float[] a, int out, int rank, int in, double s) {
        float[] e = new float[w.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int k = 0; k < rank; k++) acc += (double) b[o * rank + k] * a[k * in + i];
                e[o * in + i] = (float) (w[o * in + i] + s * acc);
            }
        }
        return e;
    }

    /** A BF16 base: the adapted weight is computed in float32 and rounded once, to the base's dtype, at the output. */
    @Test
    void aLoraInputKeepsItsBaseDtypeAndRoundsOnce() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        Path base = model(f, "base16", 8, DType.BF16);
        SplittableRandom r = new SplittableRandom(10);
        float[] a = random(r, 4 * 6), b = random(r, 6 * 4);
        String p = "base_model.model.model.layers.1.self_attn.q_proj.";
        adapter(f.dir.resolve("lora16"), "{\"peft_type\":\"LORA\",\"r\":4,\"lora_alpha\":2,\"use_rslora\":true}",
                Map.of(p + "lora_A.weight", a, p + "lora_B.weight", b),
                Map.of(p + "lora_A.weight", new long[]{4, 6}, p + "lora_B.weight", new long[]{6, 4}));
        Path out = f.merge("merge_method: linear\nmodels:\n  - model: base16+lora16\n    parameters: {weight: 1.0}\n");
        String name = "model.layers.1.self_attn.q_proj.weight";
        assertEquals(DType.BF16, MergeFixture.info(out, name).dtype());
        float[] w = MergeFixture.read(base, name);
        float[] exact = new float[w.length];
        dev.amalgam.source.lora.LoraProduct.reference(w, b, a, 6, 4, 6, (float) (2 / Math.sqrt(4)), exact);
        float[] got = MergeFixture.read(out, name);
        for (int i = 0; i < w.length; i++) {
            assertEquals(dev.amalgam.tensor.DTypeConversion.bf16ToFloat(dev.amalgam.tensor.DTypeConversion.floatToBf16(exact[i])),
                    got[i], "element " + i);
        }
        assertArrayEquals(expected(w, b, a, 6, 4, 6, 1.0), exact, 1e-5f);
    }

    @Test
    void badAdaptersEndInOneLineErrors() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        model(f, "base", 7, DType.F32);
        SplittableRandom r = new SplittableRandom(1);
        String p = "base_model.model.model.layers.0.self_attn.";
        adapter(f.dir.resolve("nomatch"), "{\"peft_type\":\"LORA\",\"r\":2,\"lora_alpha\":4}",
                Map.of(p + "k_proj.lora_A.weight", random(r, 12), p + "k_proj.lora_B.weight", random(r, 12)),
                Map.of(p + "k_proj.lora_A.weight", new long[]{2, 6}, p + "k_proj.lora_B.weight", new long[]{6, 2}));
        assertError(f, "base+nomatch", "adapter module model.layers.0.self_attn.k_proj has no matching weight");
        adapter(f.dir.resolve("fifo"), "{\"peft_type\":\"LORA\",\"r\":2,\"lora_alpha\":4,\"fan_in_fan_out\":true}",
                Map.of("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", random(r, 12),
                        "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight", random(r, 18)),
                Map.of("base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", new long[]{2, 6},
                        "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight", new long[]{9, 2}));
        assertError(f, "base+fifo", "fan_in_fan_out");
        adapter(f.dir.resolve("ia3"), "{\"peft_type\":\"IA3\"}", Map.of("x", random(r, 2)), Map.of());
        assertError(f, "base+ia3", "peft_type IA3 is not supported");
    }

    private static void assertError(MergeFixture f, String model, String part) {
        Exception e = assertThrows(Exception.class,
                () -> f.merge("merge_method: linear\nmodels:\n  - model: " + model + "\n    parameters: {weight: 1.0}\n"));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertTrue(e.getMessage().contains(model.substring(model.indexOf('+') + 1)), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}

package dev.amalgam.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LoRA extraction: reconstruction of known low-rank deltas, rank selection, PEFT layout. */
class LoraExtractionTest {

    @TempDir
    Path dir;

    @BeforeEach
    void reference() {
        System.setProperty("amalgam.backend", "reference");
    }

    @AfterEach
    void clear() {
        System.clearProperty("amalgam.backend");
    }

    static final String Q = "model.layers.0.self_attn.q_proj.weight";
    static final String UP = "model.layers.0.mlp.up_proj.weight";
    static final String EMBED = "model.embed_tokens.weight";
    static final String NORM = "model.layers.0.input_layernorm.weight";

    /** base: random weights; ft: base + δ_q (rank 3), δ_up (σ = 10, 5, 0.001), δ_embed (rank 2), norm changed. */
    private Map<String, FloatMatrix> writeModels() throws IOException {
        Map<String, FloatMatrix> base = new LinkedHashMap<>();
        base.put(Q, SvdTestMatrices.gaussian(12, 12, 1));
        base.put(UP, SvdTestMatrices.gaussian(20, 12, 2));
        base.put(EMBED, SvdTestMatrices.gaussian(30, 12, 3));
        Map<String, FloatMatrix> delta = new LinkedHashMap<>();
        delta.put(Q, SvdTestMatrices.lowRank(12, 12, 3, 10));
        delta.put(UP, SvdTestMatrices.withSingularValues(20, 12, new double[] {10, 5, 0.001}, 20));
        delta.put(EMBED, SvdTestMatrices.lowRank(30, 12, 2, 30));
        write("base", base, new float[] {1, 1, 1});
        Map<String, FloatMatrix> ft = new LinkedHashMap<>();
        for (var e : base.entrySet()) {
            float[] d = e.getValue().data().clone();
            for (int i = 0; i < d.length; i++) d[i] += delta.get(e.getKey()).data()[i];
            ft.put(e.getKey(), new FloatMatrix(e.getValue().rows(), e.getValue().cols(), d));
        }
        write("ft", ft, new float[] {1, 2, 1});
        return delta;
    }

    private void write(String name, Map<String, FloatMatrix> weights, float[] norm) throws IOException {
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (var e : weights.entrySet()) {
            values.put(e.getKey(), e.getValue().data());
            shapes.put(e.getKey(), new long[] {e.getValue().rows(), e.getValue().cols()});
        }
        values.put(NORM, norm);
        SafetensorsTestFiles.writeModel(dir.resolve(name), values, shapes, DType.F32);
    }

    private LoraExtraction.Report extract(String out, OptionalInt rank, OptionalDouble threshold, boolean embeddings) throws IOException {
        return LoraExtraction.run(new LoraExtraction.Options(dir.resolve("base"), dir.resolve("ft"), dir.resolve(out), rank,
                threshold, embeddings, null, "org/base-model", Device.CPU, false));
    }

    private static FloatMatrix read(Path adapter, String name) throws IOException {
        try (ModelFolder f = ModelFolder.open(adapter.resolve(LoraExtraction.ADAPTER_FILE))) {
            var info = f.info(name);
            return new FloatMatrix((int) info.dim(0), (int) info.dim(1), SafetensorsTestFiles.readFloats(f.tensor(name)));
        }
    }

    private static double relativeError(FloatMatrix x, FloatMatrix ref) {
        double e = 0, n = 0;
        for (int i = 0; i < x.data().length; i++) {
            e += Math.pow(x.data()[i] - (double) ref.data()[i], 2);
            n += Math.pow(ref.data()[i], 2);
        }
        return Math.sqrt(e / n);
    }

    @Test
    void lowRankDeltasAreReconstructedExactlyAndWrittenInThePeftLayout() throws IOException {
        Map<String, FloatMatrix> delta = writeModels();
        LoraExtraction.Report report = extract("adapter", OptionalInt.of(3), OptionalDouble.empty(), false);
        Path out = dir.resolve("adapter");
        assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));
        assertFalse(Files.exists(out.resolve("model.safetensors")));

        FloatMatrix a = read(out, "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
        FloatMatrix b = read(out, "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight");
        assertEquals(3, a.rows());
        assertEquals(12, a.cols());
        assertEquals(12, b.rows());
        assertEquals(3, b.cols());
        double err = relativeError(ReferenceSvdKernels.INSTANCE.multiply(b, a), delta.get(Q));
        assertTrue(err < 1e-5, "rank-3 delta reconstructed with relative error " + err);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        // √S on both sides: the factors have equal row/column norms.
        for (int l = 0; l < 3; l++) {
            double an = 0, bn = 0;
            for (int j = 0; j < 12; j++) an += a.get(l, j) * a.get(l, j);
            for (int i = 0; i < 12; i++) bn += b.get(i, l) * b.get(i, l);
            assertEquals(an, bn, 1e-4 * an, "‖A row " + l + "‖ = ‖B column " + l + "‖ = √σ");  // §1.10: SVD results within 1e-4
        }
        assertEquals(List.of("model.layers.0.mlp.up_proj", "model.layers.0.self_attn.q_proj"),
                report.modules().stream().map(LoraExtraction.Module::module).sorted().toList());
        assertTrue(report.skipped().stream().anyMatch(s -> s.startsWith(EMBED)), report.skipped().toString());
        assertTrue(report.skipped().stream().anyMatch(s -> s.startsWith(NORM) && s.contains("differs")), report.skipped().toString());

        JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertEquals("LORA", config.get("peft_type").asText());
        assertEquals(3, config.get("r").asInt());
        assertEquals(3, config.get("lora_alpha").asInt());
        assertEquals("org/base-model", config.get("base_model_name_or_path").asText());
        assertFalse(config.get("fan_in_fan_out").asBoolean());
        assertEquals("none", config.get("bias").asText());
        assertEquals("CAUSAL_LM", config.get("task_type").asText());
        assertEquals(2, config.get("target_modules").size());
        assertEquals(0, config.get("rank_pattern").size());
    }

    @Test
    void thresholdSelectsTheRankPerModule() throws IOException {
        Map<String, FloatMatrix> delta = writeModels();
        // up_proj: σ = 10, 5, 0.001 → threshold 0.01·10 = 0.1 keeps 2; q_proj's three generic σ are all kept.
        LoraExtraction.Report report = extract("t", OptionalInt.empty(), OptionalDouble.of(0.01), false);
        Map<String, Integer> ranks = new LinkedHashMap<>();
        for (var m : report.modules()) ranks.put(m.module(), m.rank());
        assertEquals(2, ranks.get("model.layers.0.mlp.up_proj"));
        assertEquals(3, ranks.get("model.layers.0.self_attn.q_proj"));
        var up = report.modules().stream().filter(m -> m.module().endsWith("up_proj")).findFirst().orElseThrow();
        assertEquals(125.0 / (125.0 + 1e-6), up.retained(), 1e-6);  // §1.3: double arithmetic, rounding only
        Path out = dir.resolve("t");
        FloatMatrix a = read(out, "base_model.model.model.layers.0.mlp.up_proj.lora_A.weight");
        FloatMatrix b = read(out, "base_model.model.model.layers.0.mlp.up_proj.lora_B.weight");
        assertTrue(relativeError(ReferenceSvdKernels.INSTANCE.multiply(b, a), delta.get(UP)) < 1e-3);  // §1.10 SVD tolerance (relative Frobenius 1e-4); BF16 storage of the factors
        JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        // Two modules with ranks 2 and 3: one becomes r, the other a rank_pattern/alpha_pattern entry.
        assertEquals(1, config.get("rank_pattern").size());
        assertEquals(config.get("rank_pattern"), config.get("alpha_pattern"));
        // --rank caps the threshold's choice.
        LoraExtraction.Report capped = extract("t1", OptionalInt.of(1), OptionalDouble.of(0.01), false);
        assertTrue(capped.modules().stream().allMatch(m -> m.rank() == 1));
    }

    @Test
    void embeddingsUseThePeftEmbeddingLayoutWhenIncluded() throws IOException {
        Map<String, FloatMatrix> delta = writeModels();
        extract("e", OptionalInt.of(2), OptionalDouble.empty(), true);
        Path out = dir.resolve("e");
        FloatMatrix a = read(out, "base_model.model.model.embed_tokens.lora_embedding_A");
        FloatMatrix b = read(out, "base_model.model.model.embed_tokens.lora_embedding_B");
        assertEquals(2, a.rows());
        assertEquals(30, a.cols());
        assertEquals(12, b.rows());
        // PEFT: Δweight = (B·A)ᵀ.
        FloatMatrix ba = ReferenceSvdKernels.INSTANCE.multiply(b, a).transpose();
        assertTrue(relativeError(ba, delta.get(EMBED)) < 1e-5);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
    }

    @Test
    void badOptionsAndIdenticalModelsAreErrors() throws IOException {
        writeModels();
        assertThrows(IllegalArgumentException.class, () -> extract("x", OptionalInt.empty(), OptionalDouble.empty(), false));
        assertThrows(IllegalArgumentException.class, () -> extract("x", OptionalInt.of(0), OptionalDouble.empty(), false));
        assertThrows(IllegalArgumentException.class, () -> extract("x", OptionalInt.empty(), OptionalDouble.of(1.5), false));
        IOException e = assertThrows(IOException.class, () -> LoraExtraction.run(new LoraExtraction.Options(dir.resolve("base"),
                dir.resolve("base"), dir.resolve("same"), OptionalInt.of(2), OptionalDouble.empty(), false, null, null, Device.CPU, false)));
        assertTrue(e.getMessage().contains("nothing to extract"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("same")));
    }
}

package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code amalgam extract-lora} on the bundled family: PEFT layout, shapes, and B·A close to the rank-R truncation. */
class ExtractLoraCliTest {

    @TempDir
    static Path work;
    static Path examples;

    @BeforeAll
    static void copyExamples() throws IOException {
        examples = ExampleFiles.copyTo(work.resolve("examples"));
    }

    @Test
    void writesAPeftAdapterWhoseProductApproximatesTheDelta() throws IOException {
        Path out = work.resolve("adapter");
        Path base = examples.resolve("family/base"), ft = examples.resolve("family/ft-1");
        Cli.Result r = Cli.run("extract-lora", base, ft, out, "--rank", "8", "--dtype", "float32");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(Files.isRegularFile(out.resolve("adapter_model.safetensors")));

        JsonNode config = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
        assertEquals("LORA", config.get("peft_type").asText());
        assertEquals(8, config.get("r").asInt());
        assertTrue(config.get("target_modules").toString().contains("q_proj"), config.toString());

        String module = "model.layers.0.self_attn.q_proj";
        try (ModelFolder adapter = ModelFolder.open(out); ModelFolder b = ModelFolder.open(base); ModelFolder f = ModelFolder.open(ft)) {
            TensorInfo a = adapter.info("base_model.model." + module + ".lora_A.weight");
            TensorInfo bb = adapter.info("base_model.model." + module + ".lora_B.weight");
            assertEquals(8, a.dim(0));
            assertEquals(64, a.dim(1));
            assertEquals(64, bb.dim(0));
            assertEquals(8, bb.dim(1));
            assertTrue(adapter.tensors().stream().noneMatch(t -> t.name().contains("embed_tokens") || t.name().contains("lm_head")),
                    "embeddings are skipped by default");

            float[] la = SafetensorsTestFiles.readFloats(adapter.tensor(a.name()));
            float[] lb = SafetensorsTestFiles.readFloats(adapter.tensor(bb.name()));
            float[] w0 = SafetensorsTestFiles.readFloats(b.tensor(module + ".weight"));
            float[] w1 = SafetensorsTestFiles.readFloats(f.tensor(module + ".weight"));
            // ‖δ − B·A‖ < ‖δ‖ (a rank-8 truncation of a 64×64 delta removes a real share of it), and
            // B·A is nonzero: an adapter of zeros or of the wrong orientation fails one of the two.
            double err = 0, norm = 0, prod = 0;
            for (int i = 0; i < 64; i++) {
                for (int j = 0; j < 64; j++) {
                    double ba = 0;
                    for (int k = 0; k < 8; k++) ba += lb[i * 8 + k] * (double) la[k * 64 + j];
                    double d = w1[i * 64 + j] - (double) w0[i * 64 + j];
                    err += (d - ba) * (d - ba);
                    norm += d * d;
                    prod += ba * ba;
                }
            }
            assertTrue(prod > 0.05 * norm, "B·A carries part of the delta: " + prod + " vs " + norm);
            assertTrue(err < 0.95 * norm, "B·A approximates the delta: " + err + " vs " + norm);
            // A truncated SVD is an orthogonal projection: ‖δ − B·A‖² = ‖δ‖² − ‖B·A‖² (Eckart–Young).
            assertEquals(norm - prod, err, 1e-3 * norm, "B·A is the rank-8 truncated SVD of the delta");  // §1.10 SVD tolerance (relative Frobenius 1e-4); float32 factors of a BF16 delta
        }
    }
}

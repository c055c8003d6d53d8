package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code slices:} (spec §16.1–16.3) on hand-made models whose values say where they came from. */
class SliceMergeTest {

    @TempDir
    Path dir;
    MergeFixture fx;

    @BeforeEach
    void models() throws IOException {
        fx = new MergeFixture(dir);
        // Model a: layer i's tensor = 100 + i; b: 200 + i; embeddings and head say which model.
        for (String m : List.of("a", "b")) {
            float tag = m.equals("a") ? 100 : 200;
            List<Object> nv = new ArrayList<>(List.of("model.embed_tokens.weight", new float[] {tag, tag},
                    "model.norm.weight", new float[] {tag + 50}, "lm_head.weight", new float[] {tag + 60, tag + 60}));
            for (int i = 0; i < 4; i++) {
                nv.add("model.layers." + i + ".mlp.w");
                nv.add(new float[] {tag + i, tag + i});
                nv.add("model.layers." + i + ".self_attn.w");
                nv.add(new float[] {tag + i});
            }
            fx.model(m, nv.toArray());
            Files.writeString(dir.resolve(m).resolve("config.json"), """
                    {"num_hidden_layers": 4, "layer_types": ["%s0", "%s1", "%s2", "%s3"], "torch_dtype": "float32"}
                    """.formatted(m, m, m, m));
        }
    }

    @Test
    void passthroughStacksLayersRenumberedWithPreFromTheFirstSliceAndPostFromTheLast() throws IOException {
        Path out = fx.merge("""
                slices:
                  - sources: [{model: a, layer_range: [0, 3]}]
                  - sources: [{model: b, layer_range: [1, 4]}]
                merge_method: passthrough
                """);
        assertArrayEquals(new float[] {100, 100}, MergeFixture.read(out, "model.embed_tokens.weight"));
        assertArrayEquals(new float[] {250}, MergeFixture.read(out, "model.norm.weight"));
        assertArrayEquals(new float[] {260, 260}, MergeFixture.read(out, "lm_head.weight"));
        float[] expected = {100, 101, 102, 201, 202, 203};
        for (int o = 0; o < 6; o++) {
            assertArrayEquals(new float[] {expected[o], expected[o]}, MergeFixture.read(out, "model.layers." + o + ".mlp.w"), "layer " + o);
        }
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(6, cfg.get("num_hidden_layers").intValue());
        assertEquals("[\"a0\",\"a1\",\"a2\",\"b1\",\"b2\",\"b3\"]", cfg.get("layer_types").toString(), "per-layer list rebuilt");
        assertEquals("float32", cfg.get("torch_dtype").textValue());
    }

    @Test
    void parameterLookupIsSourceThenSliceThenTopLevelAndGradientsRunWithinTheSlice() throws IOException {
        // Slice 0: a layers 0-1 and b layers 2-3, linear without normalize.
        // a: weight from the source (gradient [0, 1] over the slice: 0 at k=0, 1 at k=1);
        // b: weight from the slice (2) for mlp, else the top level (3) for self_attn.
        Path out = fx.merge("""
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 2]
                        parameters: {weight: [0, 1]}
                      - model: b
                        layer_range: [2, 4]
                    parameters:
                      weight: [{filter: mlp, value: 2}]
                merge_method: linear
                parameters: {weight: 3, normalize: false}
                """);
        // layer 0: 0·100 + 2·202 = 404; layer 1: 1·101 + 2·203 = 507 (mlp)
        assertArrayEquals(new float[] {404, 404}, MergeFixture.read(out, "model.layers.0.mlp.w"));
        assertArrayEquals(new float[] {507, 507}, MergeFixture.read(out, "model.layers.1.mlp.w"));
        // self_attn: b falls through the slice's filtered list to the top-level 3: 0·100 + 3·202, 1·101 + 3·203
        assertArrayEquals(new float[] {606}, MergeFixture.read(out, "model.layers.0.self_attn.w"));
        assertArrayEquals(new float[] {710}, MergeFixture.read(out, "model.layers.1.self_attn.w"));
        // embeddings: pre tensors at t = 0: a's weight 0, b's 2 (mlp filter does not match) -> 3
        assertArrayEquals(new float[] {600, 600}, MergeFixture.read(out, "model.embed_tokens.weight"));
    }

    @Test
    void perModelFiltersMatchTheInputTensorNameGlobalOnesTheOutputName() throws IOException {
        // b's layer 3 feeds output layer 1: a per-model filter on "layers.3." matches it there.
        Path out = fx.merge("""
                slices:
                  - sources:
                      - model: a
                        layer_range: [0, 2]
                      - model: b
                        layer_range: [2, 4]
                        parameters:
                          weight: [{filter: "layers.3.", value: 1}, {value: 0}]
                merge_method: linear
                parameters: {weight: 0, normalize: [{filter: "layers.1.", value: false}, {value: true}]}
                """.replace("weight: 0, normalize", "weight: 1, normalize"));
        // output layer 1 (global filter on the output name: normalize false): 1·101 + 1·203 = 304
        assertArrayEquals(new float[] {304, 304}, MergeFixture.read(out, "model.layers.1.mlp.w"));
        // output layer 0: b's input is layer 2, no match -> 0; normalized: 100·1 / 1 = 100
        assertArrayEquals(new float[] {100, 100}, MergeFixture.read(out, "model.layers.0.mlp.w"));
    }

    @Test
    void aSliceBaseModelMustBeOneOfItsSourcesAndRangesMustFit() {
        MergeException e = assertThrows(MergeException.class, () -> fx.merge("""
                slices:
                  - sources: [{model: a, layer_range: [0, 5]}]
                merge_method: passthrough
                """));
        assertTrue(e.getMessage().contains("slices[0].sources[0].layer_range: [0, 5) is outside model a, which has 4 layers"),
                e.getMessage());
    }

    @Test
    void dryRunPrintsTheOutputLayerMap() {
        MergeConfig c = MergeConfig.parse("""
                slices:
                  - sources: [{model: a, layer_range: [2, 4]}, {model: b, layer_range: [0, 2]}]
                merge_method: linear
                parameters: {weight: 1}
                """, dir, "t.yaml");
        try (MergeJob.Opened o = MergeJob.open(c)) {
            String d = o.describe();
            assertTrue(d.contains("output layers: 2"), d);
            assertTrue(d.contains("layer 0 <- slices[0]: a:2, b:0"), d);
            assertTrue(d.contains("layer 1 <- slices[0]: a:3, b:1"), d);
        }
    }

    @Test
    void gapsAndTwoStacksAreErrors() throws IOException {
        fx.model("gap", "model.layers.0.w", new float[] {1}, "model.layers.2.w", new float[] {1});
        fx.model("two", "model.layers.0.w", new float[] {1}, "vision.blocks.0.w", new float[] {1});
        String s = "slices:\n  - sources: [{model: %s, layer_range: [0, 1]}]\nmerge_method: passthrough\n";
        assertTrue(assertThrows(MergeException.class, () -> fx.merge(s.formatted("gap"))).getMessage()
                .contains("layer 1 of `model.layers.N.` is missing"));
        assertTrue(assertThrows(MergeException.class, () -> fx.merge(s.formatted("two"))).getMessage()
                .contains("two numbered layer stacks"));
    }

    @Test
    void gpt2NamesUseTheirOwnLayerCountKey() throws IOException {
        fx.model("g", DType.F32, Map.of(), "transformer.wte.weight", new float[] {1}, "transformer.h.0.attn.w", new float[] {2},
                "transformer.h.1.attn.w", new float[] {3}, "transformer.ln_f.weight", new float[] {4});
        Files.writeString(dir.resolve("g/config.json"), "{\"n_layer\": 2, \"model_type\": \"gpt2\"}");
        Path out = fx.merge("""
                slices:
                  - sources: [{model: g, layer_range: [0, 2]}]
                  - sources: [{model: g, layer_range: [0, 2]}]
                merge_method: passthrough
                dtype: float16
                """);
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(4, cfg.get("n_layer").intValue());
        assertFalse(cfg.has("num_hidden_layers"));
        assertEquals("float16", cfg.get("torch_dtype").textValue());
        assertArrayEquals(new float[] {2}, MergeFixture.read(out, "transformer.h.2.attn.w"));
        assertEquals(DType.F16, MergeFixture.info(out, "transformer.h.3.attn.w").dtype());
    }
}

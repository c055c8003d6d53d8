package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.config.ConfigException;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.source.tokenizer.ChatTemplates;
import dev.amalgam.source.tokenizer.Vocabulary;
import dev.amalgam.tensor.DType;
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

/** Vocabulary union and the tokenizer section (mergekit's tokenizer/build.py, embed.py); chat templates (§16.5). */
class TokenizerMergeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int W = 5;

    @TempDir
    Path tmp;

    /** A model whose vocabulary is {@code tokens} (ids in order), added tokens among them, and random embedding/head rows. */
    private Path model(MergeFixture f, String name, List<String> tokens, List<String> added, String format, long seed)
            throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        int n = tokens.size();
        Map<String, float[]> v = new LinkedHashMap<>();
        v.put("model.embed_tokens.weight", ModelSourcesMergeTest.random(r, n * W));
        v.put("lm_head.weight", ModelSourcesMergeTest.random(r, n * W));
        v.put("model.layers.0.mlp.weight", ModelSourcesMergeTest.random(r, 12));
        Path dir = SafetensorsTestFiles.writeModel(f.dir.resolve(name), v,
                Map.of("model.embed_tokens.weight", new long[]{n, W}, "lm_head.weight", new long[]{n, W}), DType.F32);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"llama\",\"vocab_size\":" + n + "}");
        StringBuilder vocab = new StringBuilder();
        StringBuilder addedJson = new StringBuilder();
        StringBuilder decoder = new StringBuilder();
        for (int i = 0; i < n; i++) {
            String t = tokens.get(i);
            if (added.contains(t)) {
                addedJson.append(addedJson.isEmpty() ? "" : ",").append("{\"id\":").append(i).append(",\"content\":\"").append(t)
                        .append("\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}");
                decoder.append(decoder.isEmpty() ? "" : ",").append('"').append(i).append("\":{\"content\":\"").append(t)
                        .append("\",\"special\":true}");
            } else {
                vocab.append(vocab.isEmpty() ? "" : ",").append('"').append(t).append("\":").append(i);
            }
        }
        switch (format) {
            case "bpe" -> Files.writeString(dir.resolve("tokenizer.json"), "{\"version\":\"1.0\",\"added_tokens\":[" + addedJson
                    + "],\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab + "},\"merges\":[]}}");
            case "unigram" -> {
                StringBuilder u = new StringBuilder();
                for (int i = 0; i < n; i++) u.append(i == 0 ? "" : ",").append("[\"").append(tokens.get(i)).append("\",-1.5]");
                Files.writeString(dir.resolve("tokenizer.json"), "{\"added_tokens\":[" + addedJson
                        + "],\"model\":{\"type\":\"Unigram\",\"vocab\":[" + u + "]}}");
            }
            case "vocab.json" -> {
                Files.writeString(dir.resolve("vocab.json"), "{" + vocab + "}");
                Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\n");
            }
            default -> throw new IllegalArgumentException(format);
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\":2048,\"added_tokens_decoder\":{" + decoder + "}}");
        return dir;
    }

    private static List<String> names(String prefix, int from, int to) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < to; i++) out.add(prefix + i);
        return out;
    }

    private static float[] row(float[] m, int id) {
        return java.util.Arrays.copyOfRange(m, id * W, id * W + W);
    }

    /** The hidden check's shape: a 128-token and a 130-token vocabulary, union, rows checked one by one. */
    @Test
    void unionOfA128AndA130TokenVocabulary() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        List<String> a = new ArrayList<>(names("s", 0, 8));
        a.addAll(names("a", 0, 119));
        a.add("<|a_special|>"); // 128
        List<String> b = new ArrayList<>(names("a", 0, 100)); // shared, different ids
        b.addAll(names("b", 0, 21));
        b.addAll(names("s", 0, 8));
        b.add("<|im_start|>"); // 130
        Path pa = model(f, "A", a, List.of("<|a_special|>"), "bpe", 1);
        Path pb = model(f, "B", b, List.of("<|im_start|>"), "vocab.json", 2);
        Path out = f.merge("merge_method: linear\nbase_model: A\ntokenizer_source: union\nmodels:\n"
                + "  - model: A\n    parameters: {weight: 1.0}\n  - model: B\n    parameters: {weight: 3.0}\n");
        Vocabulary v = Vocabulary.read(out, Integer.MAX_VALUE);
        // A's 128 tokens keep their ids, then B's new regular tokens in B's id order, then B's added token.
        List<String> expect = new ArrayList<>(a);
        expect.addAll(names("b", 0, 21));
        expect.add("<|im_start|>");
        assertEquals(expect, new ArrayList<>(v.ids().keySet()));
        assertTrue(v.contiguous());
        assertEquals(150, v.size());
        assertTrue(v.added().containsKey("<|im_start|>") && v.added().containsKey("<|a_special|>"));
        assertEquals(150, JSON.readTree(out.resolve("config.json").toFile()).get("vocab_size").asInt());
        for (String tensor : List.of("model.embed_tokens.weight", "lm_head.weight")) {
            float[] ea = MergeFixture.read(pa, tensor), eb = MergeFixture.read(pb, tensor), eo = MergeFixture.read(out, tensor);
            assertEquals(150 * W, eo.length);
            for (int id = 0; id < 150; id++) {
                String tok = expect.get(id);
                int ia = a.indexOf(tok), ib = b.indexOf(tok);
                float[] ra = ia >= 0 ? row(ea, ia) : row(eb, ib); // a token only in one model takes that model's row
                float[] rb = ib >= 0 ? row(eb, ib) : row(ea, ia);
                float[] want = new float[W];
                for (int j = 0; j < W; j++) want[j] = (float) ((1.0 * ra[j] + 3.0 * rb[j]) / 4.0);
                assertArrayEquals(want, row(eo, id), 1e-5f, tensor + " row " + id + " (" + tok + ")");
            }
        }
        assertEquals(12, MergeFixture.read(out, "model.layers.0.mlp.weight").length);
    }

    @Test
    void tokenizerSectionSourcesForcePaddingAndMeans() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        List<String> base = names("t", 0, 6);
        List<String> x = new ArrayList<>(names("t", 0, 4));
        x.addAll(List.of("n0", "n1"));
        List<String> y = new ArrayList<>(List.of("n1", "n0"));
        y.addAll(names("t", 2, 6));
        Path pb = model(f, "base", base, List.of(), "unigram", 3);
        Path px = model(f, "x", x, List.of(), "bpe", 4);
        Path py = model(f, "y", y, List.of(), "bpe", 5);
        Path out = f.merge("merge_method: linear\nbase_model: base\nmodels:\n"
                + "  - model: base\n    parameters: {weight: 1.0}\n  - model: x\n    parameters: {weight: 1.0}\n"
                + "  - model: y\n    parameters: {weight: 2.0}\n"
                + "tokenizer:\n  source: union\n  pad_to_multiple_of: 4\n  tokens:\n"
                + "    t0: {source: {kind: zero}}\n");
        // t0..t5 (base), then n0, n1 in x's order: 8 tokens, a multiple of 4 (no padding).
        Vocabulary v = Vocabulary.read(out, Integer.MAX_VALUE);
        assertEquals(List.of("t0", "t1", "t2", "t3", "t4", "t5", "n0", "n1"), new ArrayList<>(v.ids().keySet()));
        float[] eb = MergeFixture.read(pb, "lm_head.weight"), ex = MergeFixture.read(px, "lm_head.weight");
        float[] ey = MergeFixture.read(py, "lm_head.weight"), eo = MergeFixture.read(out, "lm_head.weight");
        assertEquals(8 * W, eo.length);
        // t0 is configured zero: base and x keep their own rows (no force), y, which lacks it, gets zero.
        for (int j = 0; j < W; j++) {
            float t0 = (float) ((eb[j] + ex[j] + 2 * 0f) / 4.0);
            assertEquals(t0, row(eo, 0)[j], 1e-5f);
            // n0: in x (id 4) and y (id 1), not in base → base takes the mean of x's and y's rows.
            double mean = (ex[4 * W + j] + ey[1 * W + j]) / 2.0;
            float n0 = (float) (((float) mean + ex[4 * W + j] + 2 * ey[1 * W + j]) / 4.0);
            assertEquals(n0, row(eo, 6)[j], 1e-5f);
        }
    }

    @Test
    void paddingRowsAreTheMeanAndForcedSourcesWin() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        List<String> a = names("t", 0, 5);
        List<String> b = new ArrayList<>(names("t", 0, 5));
        b.add("extra");
        Path pa = model(f, "a", a, List.of(), "bpe", 6);
        Path pb = model(f, "b", b, List.of(), "bpe", 7);
        Path out = f.merge("merge_method: linear\nbase_model: a\nmodels:\n"
                + "  - model: a\n    parameters: {weight: 1.0}\n  - model: b\n    parameters: {weight: 1.0}\n"
                + "tokenizer:\n  source: union\n  pad_to_multiple_of: 8\n  tokens:\n    t2: {source: b, force: true}\n"
                + "    t3: {source: {kind: model_token, model: a, token: t4}, force: true}\n");
        float[] ea = MergeFixture.read(pa, "model.embed_tokens.weight"), eb = MergeFixture.read(pb, "model.embed_tokens.weight");
        float[] eo = MergeFixture.read(out, "model.embed_tokens.weight");
        assertEquals(8 * W, eo.length);
        assertEquals(8, JSON.readTree(out.resolve("config.json").toFile()).get("vocab_size").asInt());
        float[][] na = new float[6][], nb = new float[6][];
        for (int id = 0; id < 6; id++) {
            na[id] = id == 5 ? row(eb, 5) : id == 2 ? row(eb, 2) : id == 3 ? row(ea, 4) : row(ea, id);
            nb[id] = id == 3 ? row(ea, 4) : row(eb, id);
        }
        for (int id = 0; id < 8; id++) {
            for (int j = 0; j < W; j++) {
                float va, vb;
                if (id < 6) {
                    va = na[id][j];
                    vb = nb[id][j];
                } else {
                    double sa = 0, sb = 0;
                    for (int k = 0; k < 6; k++) {
                        sa += na[k][j];
                        sb += nb[k][j];
                    }
                    va = (float) (sa / 6);
                    vb = (float) (sb / 6);
                }
                assertEquals((va + vb) / 2f, eo[id * W + j], 1e-5f, "row " + id);
            }
        }
    }

    @Test
    void badTokenizerConfigsAreNamed() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        model(f, "a", names("t", 0, 4), List.of(), "bpe", 1);
        model(f, "b", names("t", 1, 5), List.of(), "bpe", 2);
        String head = "merge_method: linear\nbase_model: a\nmodels:\n  - model: a\n    parameters: {weight: 1.0}\n"
                + "  - model: b\n    parameters: {weight: 1.0}\n";
        ConfigException e = assertThrows(ConfigException.class, () -> f.merge(head + "tokenizer:\n  source: c\n"));
        assertTrue(e.getMessage().contains("tokenizer.source") && e.getMessage().contains("`c`"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> f.merge(head + "tokenizer:\n  sorce: union\n"));
        assertTrue(e.getMessage().contains("unknown key `sorce`"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> f.merge(head + "tokenizer_source: union\ntokenizer: {source: base}\n"));
        assertTrue(e.getMessage().contains("not both"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> f.merge(head + "tokenizer:\n  pad_to_multiple_of: 0\n"));
        assertTrue(e.getMessage().contains("pad_to_multiple_of"), e.getMessage());
        Exception m = assertThrows(Exception.class, () -> f.merge(head + "tokenizer:\n  tokens:\n    t0: {source: b}\n"));
        assertTrue(m.getMessage().contains("tokens.t0") && m.getMessage().contains("not in b"), m.getMessage());
        assertFalse(m.getMessage().contains("\n"));
        // tokenizer: source base → the base vocabulary; b's t4 is dropped, t0 comes from a alone.
        Path out = f.merge(head + "tokenizer:\n  source: base\n");
        assertEquals(List.of("t0", "t1", "t2", "t3"), new ArrayList<>(Vocabulary.read(out, Integer.MAX_VALUE).ids().keySet()));
    }

    @Test
    void chatTemplatesBuiltInAutoVerbatimAndErrors() throws IOException {
        MergeFixture f = new MergeFixture(tmp);
        Path a = model(f, "a", names("t", 0, 4), List.of(), "bpe", 1);
        Path b = model(f, "b", names("t", 0, 4), List.of(), "bpe", 2);
        Path c = model(f, "c", names("t", 0, 4), List.of(), "bpe", 3);
        String head = "merge_method: linear\nbase_model: a\nmodels:\n  - model: a\n    parameters: {weight: 1.0}\n"
                + "  - model: b\n    parameters: {weight: 1.0}\n  - model: c\n    parameters: {weight: 1.0}\n";
        Path out = f.merge(head + "chat_template: chatml\n");
        JsonNode tc = JSON.readTree(out.resolve("tokenizer_config.json").toFile());
        assertEquals(ChatTemplates.BUILT_IN.get("chatml"), tc.get("chat_template").asText());
        assertEquals(2048, tc.get("model_max_length").asInt(), "the rest of tokenizer_config.json is kept");
        out = f.merge(head + "chat_template: \"{{ messages[0]['content'] }}\"\n");
        assertEquals("{{ messages[0]['content'] }}", JSON.readTree(out.resolve("tokenizer_config.json").toFile()).get("chat_template").asText());
        setTemplate(b, "B-T {{ x }}");
        setTemplate(c, "B-T {{ x }}");
        setTemplate(a, "A-T {{ x }}");
        out = f.merge(head + "chat_template: auto\n");
        assertEquals("B-T {{ x }}", JSON.readTree(out.resolve("tokenizer_config.json").toFile()).get("chat_template").asText());
        setTemplate(c, "C-T {{ x }}"); // a tie: the base's wins
        out = f.merge(head + "chat_template: auto\n");
        assertEquals("A-T {{ x }}", JSON.readTree(out.resolve("tokenizer_config.json").toFile()).get("chat_template").asText());
        ConfigException e = assertThrows(ConfigException.class, () -> f.merge(head + "chat_template: chatgpt\n"));
        assertTrue(e.getMessage().contains("chat_template") && e.getMessage().contains("chatml, llama3, alpaca, mistral"), e.getMessage());
        for (String t : ChatTemplates.BUILT_IN.values()) {
            assertEquals(count(t, "{%"), count(t, "%}"), t);
            assertEquals(count(t, "{{"), count(t, "}}"), t);
        }
    }

    private static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }

    private static void setTemplate(Path model, String template) throws IOException {
        Files.writeString(model.resolve("tokenizer_config.json"), JSON.writeValueAsString(Map.of("chat_template", template)));
    }
}

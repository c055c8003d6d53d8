package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.amalgam.config.MethodRegistry;
import dev.amalgam.config.MethodSpec;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.synth.SyntheticFamily;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * mergekit-style configs (written after mergekit's {@code examples/} and the configs its
 * {@code tests/} build) run through {@code amalgam merge} on a generated 40-layer family of tiny
 * tensors. Each file's header says what must happen:
 * <pre>
 * # expect: merge | error: FRAGMENT   (error: exit 1, one line naming the problem, no output)
 * # requires: METHOD                  (skipped while METHOD is planned)
 * # layers: N                         (output layers; config.json's num_hidden_layers)
 * # dtype: bfloat16|float16|float32   (every output tensor and torch_dtype; default the family's bfloat16)
 * # map: OUT=MODEL:LAYER ...          (output layer OUT is exactly that input layer: copies)
 * # ends: PRE_MODEL POST_MODEL        (embeddings from the first slice's model, head/norm from the last's)
 * # zero: FRAGMENT                    (tensors whose name has it are all zero; the others are not)
 * # warn: FRAGMENT                    (a warning containing it is printed)
 * </pre>
 * Structure is checked in full: every layer tensor of every output layer and the pre/post
 * tensors, dtypes, config.json, mergekit_config.yml and the README.md model card.
 */
class MergekitCorpusTest {

    private static final int LAYERS = 40;
    private static final List<String> LAYER_RESTS = List.of("input_layernorm.weight", "mlp.down_proj.weight",
            "mlp.gate_proj.weight", "mlp.up_proj.weight", "post_attention_layernorm.weight", "self_attn.k_proj.weight",
            "self_attn.o_proj.weight", "self_attn.q_proj.weight", "self_attn.v_proj.weight");
    private static final List<String> PRE = List.of("model.embed_tokens.weight");
    private static final List<String> POST = List.of("lm_head.weight", "model.norm.weight");

    @TempDir
    static Path work;

    @BeforeAll
    static void family() throws IOException {
        SyntheticFamily.write(work.resolve("family"),
                new SyntheticFamily.Spec(LAYERS, 8, 12, 16, 3, DType.BF16, 11, 1L << 20));
    }

    static Stream<String> corpus() throws IOException, URISyntaxException {
        Path dir = Path.of(MergekitCorpusTest.class.getResource("/mergekit-corpus").toURI());
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml")).sorted().toList().stream();
        }
    }

    /** The header of a corpus file. */
    record Expect(String error, List<String> requires, int layers, DType dtype, Map<Integer, String> map,
                  List<String> ends, String zero, List<String> warn) {

        static Expect parse(String yaml) {
            String error = null, zero = null;
            int layers = LAYERS;
            DType dtype = DType.BF16;
            List<String> requires = new ArrayList<>(), ends = List.of(), warn = new ArrayList<>();
            Map<Integer, String> map = new HashMap<>();
            for (String line : yaml.lines().toList()) {
                if (!line.startsWith("# ")) continue;
                String l = line.substring(2);
                int colon = l.indexOf(':');
                if (colon < 0) continue;
                String key = l.substring(0, colon), value = l.substring(colon + 1).strip();
                switch (key) {
                    case "expect" -> error = value.startsWith("error:") ? value.substring("error:".length()).strip() : null;
                    case "requires" -> requires.add(value);
                    case "layers" -> layers = Integer.parseInt(value);
                    case "dtype" -> dtype = DType.fromConfigName(value);
                    case "map" -> {
                        for (String m : value.split("\\s+")) {
                            map.put(Integer.parseInt(m.substring(0, m.indexOf('='))), m.substring(m.indexOf('=') + 1));
                        }
                    }
                    case "ends" -> ends = List.of(value.split("\\s+"));
                    case "zero" -> zero = value;
                    case "warn" -> warn.add(value);
                    default -> {
                    }
                }
            }
            return new Expect(error, requires, layers, dtype, map, ends, zero, warn);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("corpus")
    void runsLikeMergekit(String file) throws Exception {
        String yaml = new String(MergekitCorpusTest.class.getResourceAsStream("/mergekit-corpus/" + file).readAllBytes());
        Expect e = Expect.parse(yaml);
        for (String m : e.requires()) {
            assumeTrue(MethodRegistry.find(m).map(MethodSpec::implemented).orElse(false), m + " is not implemented yet");
        }
        Path config = Files.writeString(work.resolve(file), yaml);
        Path out = work.resolve("out-" + file.replace(".yml", ""));
        Cli.Result r = Cli.run("merge", config, out);
        if (e.error() != null) {
            assertEquals(1, r.exitCode(), r.all());
            assertEquals(1, r.errLines().stream().filter(l -> !l.startsWith("WARNING")).count(), "one line: " + r.all());
            assertTrue(r.err().startsWith("amalgam: "), r.all());
            assertTrue(r.err().contains(e.error()), "expected `" + e.error() + "`: " + r.all());
            assertFalse(Files.exists(out), "a refused merge leaves no output");
            return;
        }
        assertEquals(0, r.exitCode(), r.all());
        for (String w : e.warn()) assertTrue(r.out().contains(w), "expected a warning with `" + w + "`: " + r.all());
        checkStructure(out, e);
        checkMetadata(out, e);
        checkMap(out, e);
        if (e.zero() != null) checkZero(out, e.zero());
    }

    private static void checkStructure(Path out, Expect e) throws IOException {
        try (ModelFolder f = ModelFolder.open(out)) {
            List<String> expected = new ArrayList<>(PRE);
            expected.addAll(POST);
            for (int o = 0; o < e.layers(); o++) for (String rest : LAYER_RESTS) expected.add("model.layers." + o + "." + rest);
            List<String> names = f.tensors().stream().map(TensorInfo::name).sorted().toList();
            assertEquals(expected.stream().sorted().toList(), names, "output tensors");
            for (TensorInfo t : f.tensors()) assertEquals(e.dtype(), t.dtype(), t.name());
        }
    }

    private static void checkMetadata(Path out, Expect e) throws IOException {
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals(e.layers(), cfg.get("num_hidden_layers").intValue(), "config.json num_hidden_layers");
        assertEquals(e.dtype().configName(), cfg.get("torch_dtype").textValue(), "config.json torch_dtype");
        JsonNode asRun = new YAMLMapper().readTree(out.resolve("mergekit_config.yml").toFile());
        assertTrue(asRun.has("merge_method"), "mergekit_config.yml holds the config as run");
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.startsWith("---\nbase_model:\n- "), card);
        for (String tag : List.of("- merge\n", "- mergekit\n", "- amalgam\n", "library_name: transformers\n")) {
            assertTrue(card.contains(tag), "model card lacks " + tag.strip());
        }
        assertTrue(card.contains("`" + asRun.get("merge_method").textValue() + "` merge method"), card);
        assertTrue(card.contains("```yaml\n"), card);
    }

    private static void checkMap(Path out, Expect e) throws IOException {
        if (e.map().isEmpty() && e.ends().isEmpty()) return;
        try (ModelFolder f = ModelFolder.open(out)) {
            for (Map.Entry<Integer, String> m : e.map().entrySet()) {
                String src = m.getValue();
                Path model = work.resolve(src.substring(0, src.lastIndexOf(':')));
                int layer = Integer.parseInt(src.substring(src.lastIndexOf(':') + 1));
                try (ModelFolder in = ModelFolder.open(model)) {
                    for (String rest : LAYER_RESTS) {
                        assertSameValues(in.tensor("model.layers." + layer + "." + rest),
                                f.tensor("model.layers." + m.getKey() + "." + rest), "output layer " + m.getKey() + " = " + src);
                    }
                }
            }
            if (!e.ends().isEmpty()) {
                try (ModelFolder pre = ModelFolder.open(work.resolve(e.ends().get(0)));
                     ModelFolder post = ModelFolder.open(work.resolve(e.ends().get(1)))) {
                    for (String n : PRE) assertSameValues(pre.tensor(n), f.tensor(n), n + " from the first slice");
                    for (String n : POST) assertSameValues(post.tensor(n), f.tensor(n), n + " from the last slice");
                }
            }
        }
    }

    /** Copies: the same values (exactly when the dtype is kept, else within the output dtype's rounding). */
    private static void assertSameValues(Tensor in, Tensor out, String what) {
        assertEquals(in.elementCount(), out.elementCount(), what);
        double tol = in.dtype() == out.dtype() ? 0 : out.dtype() == DType.F32 ? 0 : 1.0 / 1024;
        for (long i = 0; i < in.elementCount(); i++) {
            float a = in.getFloat(i), b = out.getFloat(i);
            if (Math.abs(a - b) > tol * Math.abs(a)) {
                throw new AssertionError(what + ": element " + i + " is " + b + ", expected " + a);
            }
        }
    }

    private static void checkZero(Path out, String fragment) throws IOException {
        try (ModelFolder f = ModelFolder.open(out)) {
            int zeroed = 0;
            for (TensorInfo t : f.tensors()) {
                Tensor x = f.tensor(t.name());
                boolean allZero = true;
                for (long i = 0; i < x.elementCount() && allZero; i++) allZero = x.getFloat(i) == 0f;
                if (t.name().contains(fragment)) {
                    assertTrue(allZero, t.name() + " should be zero");
                    zeroed++;
                } else {
                    assertFalse(allZero, t.name() + " should not be zero");
                }
            }
            assertTrue(zeroed > 0, "no tensor matched " + fragment);
        }
    }
}

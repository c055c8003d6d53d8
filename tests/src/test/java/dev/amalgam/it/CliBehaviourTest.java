package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What the {@code amalgam} command line promises in the README, run in-process on the bundled examples. */
class CliBehaviourTest {

    /** The bundled family: 39 BF16 tensors, 239,168 elements per checkpoint, largest tensor 320×64. */
    private static final int TENSORS = 39;
    private static final long ELEMENTS = 239_168;
    private static final long LARGEST = 320 * 64;

    @TempDir
    static Path work;
    static Path examples;

    @BeforeAll
    static void copyExamples() throws IOException {
        examples = ExampleFiles.copyTo(work.resolve("examples"));
    }

    private static Path out(String name) {
        return work.resolve(name);
    }

    private static Path config(String name, String yaml) throws IOException {
        return Files.writeString(examples.resolve(name), yaml);
    }

    @Test
    void theBundledFamilyIsWhatTheseTestsAssume() throws IOException {
        try (ModelFolder base = ModelFolder.open(examples.resolve("family/base"))) {
            assertEquals(TENSORS, base.tensors().size());
            assertEquals(ELEMENTS, base.tensors().stream().mapToLong(TensorInfo::elementCount).sum());
            assertEquals(LARGEST, base.tensors().stream().mapToLong(TensorInfo::elementCount).max().orElseThrow());
        }
    }

    @Test
    void mergeExitsZeroAndTheSummaryNamesTheBackend() {
        Path out = out("summary");
        Cli.Result r = Cli.run("merge", examples.resolve("ties.yaml"), out);
        assertEquals(0, r.exitCode(), r.all());
        List<String> providers = KernelBackends.providers().stream().map(KernelProvider::name).toList();
        Matcher first = Pattern.compile("merged ties with (\\S+) into (.+)").matcher(r.outLines().getFirst());
        assertTrue(first.matches(), r.all());
        assertTrue(providers.contains(first.group(1)), first.group(1) + " not in " + providers);
        assertEquals(out.toString(), first.group(2));
        assertTrue(r.outLines().contains("  tensors:   39 (39 merged, 0 copied)"), r.all());
        String backendLine = r.outLines().stream().filter(l -> l.startsWith("  backend:   ")).findFirst().orElseThrow();
        assertTrue(backendLine.matches("  backend:   " + Pattern.quote(first.group(1)) + " \\(.+\\)"), backendLine);
        assertTrue(r.outLines().stream().anyMatch(l -> l.matches("  kept:      30\\.0% of task-vector entries; sign conflicts: [1-9]\\d*")),
                "ties at density 0.3 keeps 30% and has conflicts: " + r.all());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    }

    @Test
    void reportWritesOneJsonEntryPerTensor() throws IOException {
        Path report = out("report.json");
        Cli.Result r = Cli.run("merge", examples.resolve("ties.yaml"), out("reported"), "--report", report);
        assertEquals(0, r.exitCode(), r.all());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.toFile());
        assertEquals("ties", json.get("method").asText());
        assertEquals(TENSORS, json.get("tensors").size());
        var first = json.get("tensors").get(0);
        assertEquals("lm_head.weight", first.get("name").asText());
        assertEquals("merged", first.get("action").asText());
        assertEquals(0.3, first.get("keptDensity").asDouble(), 1e-9);
        assertTrue(first.get("signConflicts").asLong() > 0);
    }

    @Test
    void aForcedBackendIsNamedWithTheReason() {
        Cli.Result r = Cli.runWithBackend("reference", "merge", examples.resolve("linear.yaml"), out("forced"));
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("  backend:   reference (forced by -Damalgam.backend=reference"), r.all());
    }

    @Test
    void dryRunPrintsThePlanAndWritesNothing() throws IOException {
        List<String> before = OutputFolders.entries(work);
        Path out = out("dry");
        Cli.Result r = Cli.run("merge", examples.resolve("ties.yaml"), out, "--dry-run");
        assertEquals(0, r.exitCode(), r.all());
        List<String> lines = r.outLines();
        assertEquals("merge_method: ties", lines.getFirst());
        assertTrue(lines.contains("  base  [-] family/base (" + examples.resolve("family/base") + ")"), r.all());
        assertTrue(lines.contains("  model [2] family/ft-3 (" + examples.resolve("family/ft-3") + ")"), r.all());
        assertTrue(lines.contains("tensors: 39 (39 merged, 0 copied)"), r.all());
        // output: 239,168 BF16 elements = 478,336 B; scratch: 4 B × 3 task models × 20,480 (the 320×64 embedding)
        assertEquals(478_336, 2 * ELEMENTS);
        assertEquals(245_760, 4 * 3 * LARGEST);
        assertTrue(lines.contains("output size: 467.1 KiB"), r.all());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("expected peak memory: 240.0 KiB off-heap scratch")), r.all());
        assertEquals("dry run: config and headers are valid; nothing was written", lines.getLast());
        assertFalse(Files.exists(out));
        assertEquals(before, OutputFolders.entries(work), "no temp folder, no output");
    }

    @Test
    void dryRunReadsHeadersAndFailsOnAMissingModel() throws IOException {
        Path cfg = config("missing-model.yaml", """
                merge_method: task_arithmetic
                base_model: family/base
                models:
                  - model: family/ft-9
                    parameters: {weight: 1.0}
                """);
        Cli.Result r = Cli.run("merge", cfg, out("dry-missing"), "--dry-run");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("family/ft-9"), r.all());
        assertFalse(Files.exists(out("dry-missing")));
    }

    @Test
    void inspectListsTensorsDtypesShapesAndTheShardMap() {
        Path base = examples.resolve("family/base");
        Cli.Result r = Cli.run("inspect", base);
        assertEquals(0, r.exitCode(), r.all());
        List<String> lines = r.outLines();
        assertEquals("checkpoint: " + base + " (single_file)", lines.getFirst());
        assertTrue(lines.get(1).matches("name\\s+dtype\\s+shape\\s+bytes\\s+shard"), lines.get(1));
        assertLine(lines, "lm_head\\.weight\\s+BF16\\s+\\[320, 64\\]\\s+40960\\s+model\\.safetensors");
        assertLine(lines, "model\\.layers\\.2\\.mlp\\.down_proj\\.weight\\s+BF16\\s+\\[64, 172\\]\\s+22016\\s+model\\.safetensors");
        assertLine(lines, "model\\.norm\\.weight\\s+BF16\\s+\\[64\\]\\s+128\\s+model\\.safetensors");
        assertTrue(lines.contains("  model.safetensors  39 tensors  467.1 KiB"), r.all());
        assertTrue(lines.contains("elements by dtype: BF16=239168"), r.all());
        assertEquals("total: 39 tensors, 467.1 KiB", lines.getLast());
        assertEquals(TENSORS + 1, lines.stream().filter(l -> l.contains("model.safetensors")).count(), "one line per tensor + the shard line");
    }

    private static void assertLine(List<String> lines, String regex) {
        assertTrue(lines.stream().anyMatch(l -> l.matches(regex)), "no line matching " + regex + " in\n" + String.join("\n", lines));
    }

    /** Each bad config: its file, the YAML key the message must name, and a phrase of the message. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            unknown-key      | slices                     | unknown key `slices`
            unknown-param    | models[0].parameters.densty | unknown parameter `densty`
            duplicate-model  | models[1].model            | is listed twice
            unknown-method   | merge_method               | unknown merge_method `ties_merging`
            misspelt-entry   | models[0].modle            | unknown key `modle`
            """)
    void configErrorsExitOneWithAOneLineMessageNamingTheKey(String name, String key, String phrase) throws IOException {
        String yaml = switch (name) {
            case "unknown-key" -> "merge_method: ties\nbase_model: family/base\nslices: []\nmodels:\n  - model: family/ft-1\n    parameters: {weight: 1.0}\n";
            case "unknown-param" -> "merge_method: ties\nbase_model: family/base\nmodels:\n  - model: family/ft-1\n    parameters: {weight: 1.0, densty: 0.5}\n";
            case "duplicate-model" -> "merge_method: ties\nbase_model: family/base\nmodels:\n  - model: family/ft-1\n    parameters: {weight: 1.0}\n  - model: family/ft-1\n    parameters: {weight: 0.5}\n";
            case "unknown-method" -> "merge_method: ties_merging\nbase_model: family/base\nmodels:\n  - model: family/ft-1\n    parameters: {weight: 1.0}\n";
            case "misspelt-entry" -> "merge_method: ties\nbase_model: family/base\nmodels:\n  - modle: family/ft-1\n    parameters: {weight: 1.0}\n";
            default -> throw new IllegalArgumentException(name);
        };
        Path cfg = config(name + ".yaml", yaml);
        Path out = out("err-" + name);
        Cli.Result r = Cli.run("merge", cfg, out);
        assertEquals(1, r.exitCode(), r.all());
        assertEquals("", r.out(), r.all());
        List<String> err = r.errLines().stream().filter(l -> !l.isBlank()).toList();
        assertEquals(1, err.size(), "one line: " + r.all());
        String line = err.getFirst();
        assertTrue(line.startsWith("amalgam: " + name + ".yaml: " + key + ": "), line);
        assertTrue(line.contains(phrase), line);
        assertFalse(Files.exists(out));
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        Path cfg = config("verbose.yaml", "merge_method: ties_merging\nbase_model: family/base\nmodels:\n  - model: family/ft-1\n");
        Cli.Result r = Cli.run("merge", cfg, out("verbose"), "--verbose");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("\tat dev.amalgam.config."), r.all());
        assertTrue(r.errLines().getLast().startsWith("amalgam: verbose.yaml: merge_method: unknown merge_method"), r.all());
    }

    @Test
    void badUsageExitsTwo() {
        assertEquals(2, Cli.run("merge", examples.resolve("ties.yaml")).exitCode(), "missing OUTPUT_DIR");
        assertEquals(2, Cli.run("merge", examples.resolve("ties.yaml"), out("usage"), "--frobnicate").exitCode());
        assertEquals(2, Cli.run("merge", examples.resolve("ties.yaml"), out("usage"), "--seed", "seven").exitCode());
        assertFalse(Files.exists(out("usage")));
    }

    /** Bad option values are bad usage too (README: exit code 2), and the message names the option. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            merge           | --device         | gpu0 | --device: unknown device 'gpu0'; valid: auto, cpu, cuda
            merge           | --max-shard-size | abc  | --max-shard-size: 'abc' is not a size
            merge           | --max-shard-size | 0    | --max-shard-size: '0' is out of range
            generate-family | --dtype          | int8 | --dtype: 'int8'; valid: bfloat16, float16, float32
            """)
    void badOptionValuesExitTwoNamingTheOption(String command, String option, String value, String message) {
        Path out = out("bad-option");
        Cli.Result r = command.equals("merge")
                ? Cli.run("merge", examples.resolve("ties.yaml"), out, option, value)
                : Cli.run("generate-family", out, option, value);
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.errLines().getFirst().startsWith(message), r.all());
        assertFalse(Files.exists(out));
    }

    @Test
    void aNonEmptyOutputIsRefusedWithoutForceAndReplacedWithIt() throws IOException {
        Path out = out("existing");
        Files.createDirectories(out);
        Path keep = Files.writeString(out.resolve("keep.txt"), "precious");
        Cli.Result refused = Cli.run("merge", examples.resolve("ties.yaml"), out);
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("--force"), refused.all());
        assertTrue(refused.err().contains(out.toString()), refused.all());
        assertEquals("precious", Files.readString(keep));
        assertEquals(List.of("keep.txt"), OutputFolders.entries(out));
        assertEquals(List.of(), ChildJvm.leftovers(work, "existing"));

        Cli.Result forced = Cli.run("merge", examples.resolve("ties.yaml"), out, "--force");
        assertEquals(0, forced.exitCode(), forced.all());
        assertFalse(Files.exists(keep), "replaced, not merged into");
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
        assertEquals(List.of(), ChildJvm.leftovers(work, "existing"), "the old folder is deleted after the swap");
    }

    @Test
    void anEmptyExistingOutputFolderNeedsNoForce() throws IOException {
        Path out = Files.createDirectories(out("empty"));
        Cli.Result r = Cli.run("merge", examples.resolve("linear.yaml"), out);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors")));
    }

    @Test
    void maxShardSizeWritesSeveralShardsAndAnIndex() throws IOException {
        Path single = out("shard-single");
        Path sharded = out("shard-many");
        assertEquals(0, Cli.run("merge", examples.resolve("ties.yaml"), single).exitCode());
        Cli.Result r = Cli.run("merge", examples.resolve("ties.yaml"), sharded, "--max-shard-size", "100KB");
        assertEquals(0, r.exitCode(), r.all());

        List<String> shards = OutputFolders.entries(sharded).stream().filter(n -> n.endsWith(".safetensors")).toList();
        assertTrue(shards.size() >= 5, "478,336 B in ≤ 100,000 B shards: " + shards);
        int n = shards.size();
        for (int i = 0; i < n; i++) {
            assertEquals(String.format("model-%05d-of-%05d.safetensors", i + 1, n), shards.get(i));
            long data = Files.size(sharded.resolve(shards.get(i)));
            assertTrue(data < 100_000 + 8 + 16_384, shards.get(i) + " is " + data + " bytes");
        }
        JsonNode index = new ObjectMapper().readTree(sharded.resolve("model.safetensors.index.json").toFile());
        assertEquals(2 * ELEMENTS, index.get("metadata").get("total_size").asLong());
        JsonNode map = index.get("weight_map");
        assertEquals(TENSORS, map.size());
        List<String> used = new ArrayList<>();
        map.properties().forEach(e -> {
            assertTrue(shards.contains(e.getValue().asText()), e.toString());
            if (!used.contains(e.getValue().asText())) used.add(e.getValue().asText());
        });
        assertEquals(n, used.size(), "every shard holds a tensor");
        try (ModelFolder f = ModelFolder.open(sharded)) {
            assertEquals(ModelFolder.Layout.INDEXED, f.layout());
        }
        assertTrue(OutputFolders.sameTensorBytes(single, sharded), "sharding changes no tensor");

        Cli.Result inspect = Cli.run("inspect", sharded);
        assertEquals(0, inspect.exitCode(), inspect.all());
        assertTrue(inspect.out().contains("(indexed)"), inspect.all());
        assertLine(inspect.outLines(), "lm_head\\.weight\\s+BF16\\s+\\[320, 64\\]\\s+40960\\s+model-00001-of-0000" + n + "\\.safetensors");
        assertEquals(n, inspect.outLines().stream().filter(l -> l.matches("  model-\\d{5}-of-\\d{5}\\.safetensors  \\d+ tensors  .*")).count());
    }

    @Test
    void nonWeightFilesAreCopiedFromTheBaseAndTheTokenizerSource() throws IOException {
        Path out = out("extras");
        assertEquals(0, Cli.run("merge", examples.resolve("task_arithmetic.yaml"), out).exitCode());
        Path base = examples.resolve("family/base");
        assertEquals(List.of("config.json", "model.safetensors", "tokenizer_config.json"), OutputFolders.entries(out));
        assertArrayEquals(Files.readAllBytes(base.resolve("config.json")), Files.readAllBytes(out.resolve("config.json")));
        assertArrayEquals(Files.readAllBytes(base.resolve("tokenizer_config.json")), Files.readAllBytes(out.resolve("tokenizer_config.json")));

        Path cfg = config("tokenizer-ft2.yaml", """
                merge_method: task_arithmetic
                base_model: family/base
                tokenizer_source: family/ft-2
                models:
                  - model: family/ft-1
                    parameters: {weight: 1.0}
                  - model: family/ft-2
                    parameters: {weight: 1.0}
                """);
        Path out2 = out("extras-tokenizer");
        Cli.Result r = Cli.run("merge", cfg, out2);
        assertEquals(0, r.exitCode(), r.all());
        assertArrayEquals(Files.readAllBytes(base.resolve("config.json")), Files.readAllBytes(out2.resolve("config.json")));
        assertTrue(Files.readString(out2.resolve("tokenizer_config.json")).contains("\"source\": \"ft-2\""));
    }

    @Test
    void seedChangesDareOutputsAndTheSameSeedReproducesIdenticalFiles() throws IOException {
        Path yaml = examples.resolve("dare_linear.yaml");
        Path a = out("seed1-a"), b = out("seed1-b"), c = out("seed2"), d = out("seed-default"), e = out("seed7");
        assertEquals(0, Cli.run("merge", yaml, a, "--seed", "1").exitCode());
        assertEquals(0, Cli.run("merge", yaml, b, "--seed", "1").exitCode());
        assertEquals(0, Cli.run("merge", yaml, c, "--seed", "2").exitCode());
        assertEquals(0, Cli.run("merge", yaml, d).exitCode());
        assertEquals(0, Cli.run("merge", yaml, e, "--seed", "7").exitCode());
        OutputFolders.assertByteIdentical(a, b);
        assertFalse(OutputFolders.sameTensorBytes(a, c), "seed 2 draws other masks");
        OutputFolders.assertByteIdentical(d, e); // the config's random_seed is 7
        assertFalse(OutputFolders.sameTensorBytes(a, d));

        Map<String, OracleMerge.Expected> expected = OracleMerge.expected(OracleConfig.load(yaml), 1L);
        ExampleMergesMatchOracleTest.assertMatches(expected, a, "dare_linear --seed 1");
        Map<String, OracleMerge.Expected> expected2 = OracleMerge.expected(OracleConfig.load(yaml), 2L);
        ExampleMergesMatchOracleTest.assertMatches(expected2, c, "dare_linear --seed 2");
    }

    @Test
    void generateFamilyWritesAMergeableFamily() throws IOException {
        Path dir = out("generated");
        Cli.Result r = Cli.run("generate-family", dir, "--layers", "2", "--hidden", "16", "--intermediate", "24",
                "--vocab", "40", "--fine-tunes", "2", "--dtype", "float16");
        assertEquals(0, r.exitCode(), r.all());
        // per checkpoint: 2 × 40·16 + 16 + 2 × (2·16 + 3·16·24 + 4·16·16) = 1280 + 16 + 2 × 2208 = 5712
        assertTrue(r.out().startsWith("wrote 3 checkpoints of 5712 parameters"), r.all());
        assertEquals(List.of("base", "ft-1", "ft-2"), OutputFolders.entries(dir));
        Cli.Result inspect = Cli.run("inspect", dir.resolve("ft-2"));
        assertEquals(0, inspect.exitCode(), inspect.all());
        assertLine(inspect.outLines(), "model\\.layers\\.1\\.mlp\\.up_proj\\.weight\\s+F16\\s+\\[24, 16\\]\\s+768\\s+model\\.safetensors");
        Path cfg = Files.writeString(dir.resolve("ta.yaml"), """
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: ft-1
                    parameters: {weight: 0.5}
                  - model: ft-2
                    parameters: {weight: 0.5}
                """);
        Path merged = out("generated-merged");
        assertEquals(0, Cli.run("merge", cfg, merged).exitCode());
        ExampleMergesMatchOracleTest.assertMatches(OracleMerge.expected(OracleConfig.load(cfg), null), merged,
                "generated family", false);
    }

    @Test
    void deviceCudaWithoutAUsableGpuIsAnError() throws IOException {
        boolean usableCuda = KernelBackends.providers().stream()
                .anyMatch(p -> p.device() == Device.CUDA && p.availability().usable());
        assumeTrue(!usableCuda, "a usable CUDA backend is present here");
        Path out = out("cuda");
        Cli.Result r = Cli.run("merge", examples.resolve("ties.yaml"), out, "--device", "cuda");
        assertEquals(1, r.exitCode(), r.all());
        List<String> err = r.errLines().stream().filter(l -> !l.isBlank()).toList();
        assertEquals(1, err.size(), r.all());
        assertTrue(err.getFirst().startsWith("amalgam: --device cuda: no usable GPU"), r.all());
        assertTrue(err.getFirst().contains("--device auto or cpu"), r.all());
        assertFalse(Files.exists(out));
        assertEquals(List.of(), ChildJvm.leftovers(work, "cuda"));
    }
}

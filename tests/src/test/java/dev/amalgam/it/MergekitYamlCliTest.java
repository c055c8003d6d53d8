package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.synth.SyntheticFamily;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code amalgam mergekit-yaml CONFIG OUT [options]}: mergekit-yaml's command line (mergekit/options.py). */
class MergekitYamlCliTest {

    @TempDir
    static Path work;
    static Path config;

    @BeforeAll
    static void family() throws IOException {
        SyntheticFamily.write(work.resolve("family"), new SyntheticFamily.Spec(6, 8, 12, 16, 2, DType.BF16, 3, 1L << 20));
        config = Files.writeString(work.resolve("ties.yml"), """
                models:
                  - model: family/ft-1
                    parameters: {weight: 0.5, density: 0.5}
                  - model: family/ft-2
                    parameters: {weight: 0.5, density: 0.5}
                merge_method: ties
                base_model: family/base
                parameters: {int8_mask: true}
                dtype: float16
                """);
    }

    @Test
    void runsWithMergekitsOptionsAndNotesThoseWithoutEffect() throws IOException {
        Path out = work.resolve("out-options");
        Cli.Result r = Cli.run("mergekit-yaml", config, out, "--lazy-unpickle", "--low-cpu-memory", "--no-clone-tensors",
                "--allow-crimes", "--random-seed", "5", "-j", "1", "--copy-tokenizer", "--write-model-card", "-v");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.err().contains("amalgam: note: --lazy-unpickle has no effect"), r.all());
        assertTrue(r.err().contains("amalgam: note: --low-cpu-memory has no effect"), r.all());
        assertTrue(r.err().contains("amalgam: note: --allow-crimes has no effect"), r.all());
        assertTrue(Files.exists(out.resolve("README.md")) && Files.exists(out.resolve("mergekit_config.yml")));
        assertTrue(Files.exists(out.resolve("tokenizer_config.json")));
        assertTrue(r.out().contains("merged ties"), r.all());
    }

    @Test
    void modelCardAndTokenizerCanBeLeftOutAndQuietPrintsNothing() throws IOException {
        Path out = work.resolve("out-bare");
        Cli.Result r = Cli.run("mergekit-yaml", config, out, "--no-write-model-card", "--no-copy-tokenizer", "--quiet");
        assertEquals(0, r.exitCode(), r.all());
        assertEquals("", r.out(), r.all());
        assertFalse(Files.exists(out.resolve("README.md")));
        assertFalse(Files.exists(out.resolve("mergekit_config.yml")));
        assertFalse(Files.exists(out.resolve("tokenizer_config.json")));
        assertTrue(Files.exists(out.resolve("config.json")));
    }

    @Test
    void outShardSizeIsAParameterCount() throws IOException {
        Path out = work.resolve("out-shards");
        // 2k parameters per shard of float16 = 4000 bytes: the tiny family splits into several shards.
        Cli.Result r = Cli.run("mergekit-yaml", config, out, "--out-shard-size", "2k");
        assertEquals(0, r.exitCode(), r.all());
        try (ModelFolder f = ModelFolder.open(out)) {
            assertTrue(f.shards().size() > 1, f.toString());
            for (Path shard : f.shards()) assertTrue(Files.size(shard) < 4000 + 8 * 1024, shard + " " + Files.size(shard));
        }
        Cli.Result bad = Cli.run("mergekit-yaml", config, work.resolve("out-bad"), "--out-shard-size", "5GB");
        assertEquals(2, bad.exitCode(), bad.all());
        assertTrue(bad.err().contains("is not a parameter count"), bad.all());
    }

    @Test
    void replacesAnEarlierOutputButNeverAForeignFolder() throws IOException {
        // mergekit writes into any existing folder; Amalgam replaces only its own earlier output
        // (issue 11: a non-empty folder it did not write may hold a user's models).
        Path out = work.resolve("out-existing");
        assertEquals(0, Cli.run("mergekit-yaml", config, out, "--quiet").exitCode());
        Files.writeString(out.resolve("stale.txt"), "old");
        assertEquals(0, Cli.run("mergekit-yaml", config, out, "--quiet").exitCode());
        assertFalse(Files.exists(out.resolve("stale.txt")), "the earlier output was replaced");

        Path foreign = Files.createDirectories(work.resolve("out-foreign"));
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        Cli.Result r = Cli.run("mergekit-yaml", config, foreign, "--quiet");
        assertEquals(1, r.exitCode(), r.all());
        assertEquals(1, r.errLines().size(), r.all());
        assertEquals("mine", Files.readString(foreign.resolve("notes.txt")), "the foreign folder is untouched");
    }

    @Test
    void trustRemoteCodeIsRefusedWithTheReason() {
        Cli.Result r = Cli.run("mergekit-yaml", config, work.resolve("out-trc"), "--trust-remote-code");
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("--trust-remote-code is refused: Amalgam reads safetensors and config.json only"), r.all());
        assertFalse(Files.exists(work.resolve("out-trc")));
    }

    @Test
    void strictTurnsWarningsIntoErrors() {
        Cli.Result r = Cli.run("mergekit-yaml", config, work.resolve("out-strict"), "--strict");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("int8_mask") && r.err().contains("--strict"), r.all());
        Cli.Result m = Cli.run("merge", config, work.resolve("out-strict2"), "--strict");
        assertEquals(1, m.exitCode(), m.all());
    }

    @Test
    void devicesMapOntoAmalgamsAndUnknownOnesAreUsageErrors() {
        Cli.Result r = Cli.run("mergekit-yaml", config, work.resolve("out-mps"), "--device", "mps");
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("--device: 'mps' is not supported"), r.all());
        assertEquals(0, Cli.run("mergekit-yaml", config, work.resolve("out-cpu"), "--device", "cpu", "--quiet").exitCode());
    }

    @Test
    void multiStageFilesRunEveryStageAndRemoveTheTemporaryIntermediates() throws IOException {
        Path multi = Files.writeString(work.resolve("multi.yml"), """
                name: soup
                merge_method: linear
                models: [{model: family/ft-1}, {model: family/ft-2}]
                parameters: {weight: 0.5}
                ---
                name: final
                merge_method: task_arithmetic
                base_model: family/base
                models: [{model: soup, parameters: {weight: 1.0}}]
                """);
        Path out = work.resolve("out-multi");
        Cli.Result r = Cli.run("merge", multi, out);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(Files.exists(out.resolve("model.safetensors")));
        try (var s = Files.list(work)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".amalgam-stages-")), "intermediates removed");
        }
        Path kept = work.resolve("stages");
        Cli.Result k = Cli.run("merge", multi, work.resolve("out-multi-kept"), "--intermediate-dir", kept);
        assertEquals(0, k.exitCode(), k.all());
        assertTrue(Files.exists(kept.resolve("soup/model.safetensors")), "--intermediate-dir keeps the stages");
        Cli.Result dry = Cli.run("merge", multi, work.resolve("out-multi-dry"), "--dry-run");
        assertEquals(0, dry.exitCode(), dry.all());
        assertTrue(dry.out().contains("2 stages are valid"), dry.all());
        assertFalse(Files.exists(work.resolve("out-multi-dry")));
        // --report: the HTML analyses the final stage (the written model), the JSON lists every stage.
        Path html = work.resolve("multi-report.html");
        Path json = work.resolve("multi-report.json");
        Cli.Result rep = Cli.run("merge", multi, work.resolve("out-multi-report"), "--report", html, "--report", json);
        assertEquals(0, rep.exitCode(), rep.all());
        String page = Files.readString(html);
        assertTrue(page.contains("final stage `final`") && page.contains("task_arithmetic"), "HTML of the final stage");
        var stages = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertEquals(2, stages.size(), "one JSON summary per stage");
    }
}

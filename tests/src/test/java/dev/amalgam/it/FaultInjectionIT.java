package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.synth.SyntheticFamily;
import dev.amalgam.tensor.DType;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11, "no data loss, no JVM crash": every scenario runs the CLI in a child JVM (working
 * directory = the scenario's folder, so an {@code hs_err_pid*.log} would land there) and
 * asserts what the README's "Output layout" promises: a failure exits 1 with one line naming the
 * culprit, the inputs are byte-identical, there is no target and no leftover, and the JVM did
 * not crash; a killed merge is cleaned up, or its half-done replace completed, by the next run,
 * which says so.
 *
 * <p>The family (4 × 4.2M BF16 parameters, 3 shards each) merges in about a second with the
 * fast CPU backend, long enough to damage an input once the merge has started writing.
 */
class FaultInjectionIT {

    @TempDir
    static Path shared;
    static Path family;

    @TempDir
    Path work;

    private static final String TIES = """
            merge_method: ties
            base_model: base
            models:
              - model: ft-1
              - model: ft-2
              - model: ft-3
            parameters: {weight: 1.0, density: 0.3}
            """;

    @BeforeAll
    static void writeFamily() throws IOException {
        family = shared.resolve("family");
        SyntheticFamily.write(family, new SyntheticFamily.Spec(4, 256, 688, 4000, 3, DType.BF16, 7, 4_000_000L));
        Files.writeString(family.resolve("ties.yaml"), TIES);
    }

    /** A fresh copy of the family (config included) in this test's folder. */
    private Path family() throws IOException {
        Path copy = work.resolve("fam");
        try (Stream<Path> s = Files.walk(family)) {
            for (Path p : s.toList()) {
                Path dst = copy.resolve(family.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(dst);
                else Files.copy(p, dst);
            }
        }
        return copy;
    }

    record Run(int exit, String output) {
        /** The lines the CLI printed, without the JVM's incubator warning and progress lines. */
        List<String> lines() {
            return output.lines().filter(l -> !l.isBlank() && !l.startsWith("WARNING: Using incubator modules")
                    && !l.startsWith("[")).toList();
        }
    }

    /** Runs {@code amalgam args} in a child JVM in {@link #work}; {@code shell} prefixes a bash line (e.g. ulimit). */
    private Run run(List<String> jvmOptions, String shell, Object... args) throws Exception {
        Process p = start(jvmOptions, shell, args);
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "child still running after 180 s");
        return new Run(p.exitValue(), log());
    }

    private Process start(List<String> jvmOptions, String shell, Object... args) throws IOException {
        List<String> cmd = ChildJvm.command(jvmOptions, args);
        if (shell != null) {
            List<String> wrapped = new ArrayList<>(List.of("bash", "-c", shell + " && exec \"$0\" \"$@\""));
            wrapped.addAll(cmd);
            cmd = wrapped;
        }
        File log = work.resolve("child.out").toFile();
        return new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log)).start();
    }

    private String log() throws IOException {
        Path log = work.resolve("child.out");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    private Run amalgam(Object... args) throws Exception {
        return run(List.of(), null, args);
    }

    /** SHA-256 of every file under {@code root}, by relative path. */
    static Map<String, String> digests(Path root) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                try (FileChannel ch = FileChannel.open(p)) {
                    ByteBuffer buf = ByteBuffer.allocate(1 << 20);
                    while (ch.read(buf) > 0) {
                        md.update(buf.flip());
                        buf.clear();
                    }
                }
                out.put(root.relativize(p).toString(), HexFormat.of().formatHex(md.digest()));
            }
        }
        return out;
    }

    /** Exit 1, exactly one line, which contains every {@code expected} text; no stack trace, no crash. */
    private String assertOneLineFailure(Run r, String... expected) throws IOException {
        assertEquals(1, r.exit(), r.output());
        List<String> lines = r.lines();
        assertEquals(1, lines.size(), "one line expected:\n" + r.output());
        String line = lines.getFirst();
        assertTrue(line.startsWith("amalgam: "), line);
        for (String e : expected) assertTrue(line.contains(e), "'" + e + "' missing from: " + line);
        assertNoCrash();
        return line;
    }

    private void assertNoCrash() throws IOException {
        try (Stream<Path> s = Files.list(work)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().startsWith("hs_err")).toList(), "JVM crash log");
        }
        assertFalse(log().contains("A fatal error has been detected"), log());
        assertFalse(log().contains("\tat "), "stack trace printed:\n" + log());
    }

    private void assertNoTargetNoLeftovers(Path out) throws IOException {
        assertFalse(Files.exists(out), "target " + out + " exists");
        assertEquals(List.of(), ChildJvm.leftovers(out.getParent(), out.getFileName().toString()), "leftovers");
    }

    // D1 ------------------------------------------------------------------------------------------

    @Test
    void anOutputThatIsAnInputTheConfigFolderOrAnAncestorIsRefusedBeforeAnythingIsRead() throws Exception {
        Path fam = family();
        Path cfg = fam.resolve("ties.yaml");
        Map<String, String> before = digests(fam);
        assertOneLineFailure(amalgam("merge", cfg, fam, "--force"), fam.toString(), "refusing", "it is the folder of the config ties.yaml");
        assertOneLineFailure(amalgam("merge", cfg, fam.resolve("base"), "--force"), "refusing", "it is input model base");
        assertOneLineFailure(amalgam("merge", cfg, work, "--force"), "refusing", "contains input model");
        assertEquals(before, digests(fam), "inputs changed");
        assertEquals(List.of(), ChildJvm.leftovers(work, "fam"));
    }

    @Test
    void forceReplacesOnlyAnEarlierOutputNeverAnyOtherFolder() throws Exception {
        Path fam = family();
        Path foreign = Files.createDirectories(work.resolve("photos"));
        Files.writeString(foreign.resolve("holiday.jpg"), "precious");
        assertOneLineFailure(amalgam("merge", fam.resolve("ties.yaml"), foreign, "--force"), foreign.toString(),
                "refusing to replace it", ".amalgam-output");
        assertEquals("precious", Files.readString(foreign.resolve("holiday.jpg")));
        assertEquals(List.of("holiday.jpg"), OutputFolders.entries(foreign));
        assertEquals(List.of(), ChildJvm.leftovers(work, "photos"));
    }

    // D2 ------------------------------------------------------------------------------------------

    @Test
    void aFullDiskIsReportedUpFrontWithNeededAndFreeSpace() throws Exception {
        assumeTrue(isRoot(), "mounting a tmpfs needs root (CI runs as root)");
        Path fam = family();
        Map<String, String> before = digests(fam);
        Path mount = Files.createDirectories(work.resolve("small"));
        assumeTrue(exec("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mount.toString()) == 0, "mount -t tmpfs failed");
        try {
            Path out = mount.resolve("out");
            assertOneLineFailure(amalgam("merge", fam.resolve("ties.yaml"), out), "not enough disk space", "needs", "free");
            assertNoTargetNoLeftovers(out);
            assertEquals(List.of(), OutputFolders.entries(mount));
        } finally {
            exec("umount", mount.toString());
        }
        assertEquals(before, digests(fam));
    }

    @Test
    void aShardThatCannotBeReservedIsAnIoErrorNotASignal() throws Exception {
        Path fam = family();
        Map<String, String> before = digests(fam);
        Path out = work.resolve("out");
        // ulimit -f is in 1 KiB blocks: 4 MiB shards cannot be reserved under a 1 MiB limit.
        Run r = run(List.of(), "ulimit -f 1024", "merge", fam.resolve("ties.yaml"), out);
        assertOneLineFailure(r, "file too large", "model.safetensors", "file-size limit");
        assertNoTargetNoLeftovers(out);
        assertEquals(before, digests(fam));
    }

    // D3 ------------------------------------------------------------------------------------------

    enum Damage { TRUNCATE, REWRITE_SAME_SIZE, COPY_OVER }

    @Test
    void anInputTruncatedDuringTheMergeFailsItNamingTheFile() throws Exception {
        damageDuringMerge(Damage.TRUNCATE, "its size changed");
    }

    @Test
    void anInputRewrittenInPlaceWithTheSameSizeIsDetected() throws Exception {
        damageDuringMerge(Damage.REWRITE_SAME_SIZE, "it was modified");
    }

    @Test
    void anInputReplacedByCpDuringTheMergeIsDetected() throws Exception {
        damageDuringMerge(Damage.COPY_OVER, "input file changed during the merge");
    }

    private void damageDuringMerge(Damage damage, String expected) throws Exception {
        Path fam = family();
        Path victim = fam.resolve("ft-2");
        Map<String, String> others = digests(fam.resolve("ft-1"));
        Path out = work.resolve("out");
        Process child = start(List.of(), null, "merge", fam.resolve("ties.yaml"), out);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ChildJvm.leftovers(work, "out").isEmpty()) {
                assertTrue(child.isAlive(), "child ended before writing: " + log());
                assertTrue(System.nanoTime() < deadline, "no temporary folder after 60 s");
                Thread.sleep(2);
            }
            List<Path> shards;
            try (Stream<Path> s = Files.list(victim)) {
                shards = s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
            }
            for (Path shard : shards) {
                switch (damage) {
                    case TRUNCATE -> {
                        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.WRITE)) {
                            ch.truncate(ch.size() / 3);
                        }
                    }
                    case REWRITE_SAME_SIZE -> {
                        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.WRITE)) {
                            ByteBuffer junk = ByteBuffer.allocate(64 * 1024);
                            for (int i = 0; i < junk.capacity(); i++) junk.put(i, (byte) (i * 31 + 7));
                            ch.write(junk, ch.size() / 2);
                        }
                    }
                    case COPY_OVER -> // what `cp other shard` does: truncate the same inode, then write
                            Files.copy(fam.resolve("ft-1").resolve(shard.getFileName()), shard, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            assertTrue(child.waitFor(120, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        Run r = new Run(child.exitValue(), log());
        String line = assertOneLineFailure(r, expected, "ft-2" + File.separator + "model-0000");
        assertTrue(line.contains("nothing was written"), line);
        assertNoTargetNoLeftovers(out);
        assertEquals(others, digests(fam.resolve("ft-1")), "an untouched input changed");
    }

    // D4 ------------------------------------------------------------------------------------------

    @Test
    void theLeftoversOfAKilledMergeAreRemovedByTheNextOneWhichSaysSo() throws Exception {
        Path fam = family();
        Path out = work.resolve("out");
        Process child = start(List.of("-Damalgam.backend=reference"), null, "merge", fam.resolve("ties.yaml"), out);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ChildJvm.leftovers(work, "out").isEmpty()) {
                assertTrue(child.isAlive(), "child ended before writing: " + log());
                assertTrue(System.nanoTime() < deadline, "no temporary folder after 60 s");
                Thread.sleep(2);
            }
            Thread.sleep(20);
            assertTrue(child.isAlive(), "the merge finished too quickly to be killed midway");
            child.destroyForcibly(); // SIGKILL
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        List<Path> left = ChildJvm.leftovers(work, "out");
        assertEquals(1, left.size(), left.toString());
        assertTrue(Files.isRegularFile(left.getFirst().resolve(".amalgam-lock")), "temporary folder without a lock file");
        assertFalse(Files.exists(out));

        Run again = amalgam("merge", fam.resolve("ties.yaml"), out);
        assertEquals(0, again.exit(), again.output());
        assertTrue(again.output().contains("amalgam: removed " + left.getFirst()) && again.output().contains("killed merge"),
                again.output());
        assertEquals(List.of(), ChildJvm.leftovers(work, "out"));
        assertTrue(Files.isRegularFile(out.resolve(".amalgam-output")));
        assertFalse(Files.exists(out.resolve(".amalgam-lock")));
    }

    /** A --force replace halted (as by kill -9) at each point of the swap; the next run repairs it. */
    @Test
    void aForcedReplaceKilledAtAnyPointIsCompletedOrUndoneByTheNextRun() throws Exception {
        Path fam = family();
        // Two cheap methods (no selection passes), so that their outputs differ and the runs stay short.
        Path cfg = Files.writeString(fam.resolve("ta.yaml"), """
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: ft-1
                    parameters: {weight: 0.5}
                  - model: ft-3
                    parameters: {weight: 0.5}
                """);
        Path linear = Files.writeString(fam.resolve("linear.yaml"), """
                merge_method: linear
                models:
                  - model: ft-1
                    parameters: {weight: 1.0}
                  - model: ft-2
                    parameters: {weight: 1.0}
                """);
        Path out = work.resolve("out");
        assertEquals(0, amalgam("merge", cfg, out).exit(), log());
        Map<String, byte[]> ties = OutputFolders.files(out);
        Path reference = work.resolve("linear-reference");
        assertEquals(0, amalgam("merge", linear, reference).exit(), log());
        Map<String, byte[]> lin = OutputFolders.files(reference);

        // Halted before the swap: the previous output is intact; the next run removes the new one.
        Run halted = run(List.of("-Damalgam.test.haltAt=before-swap"), null, "merge", linear, out, "--force");
        assertEquals(137, halted.exit(), halted.output());
        assertSameFiles(ties, out);
        Run next = amalgam("merge", cfg, work.resolve("elsewhere"));
        assertEquals(0, next.exit(), next.output());
        assertTrue(next.output().contains("killed merge"), next.output());
        assertEquals(List.of(), ChildJvm.leftovers(work, "out"));
        assertSameFiles(ties, out);

        // Halted between the renames: no target at all, until the next run completes the replace.
        halted = run(List.of("-Damalgam.test.haltAt=between-renames"), null, "merge", linear, out, "--force");
        assertEquals(137, halted.exit(), halted.output());
        assertFalse(Files.exists(out));
        assertEquals(2, ChildJvm.leftovers(work, "out").size());
        next = amalgam("merge", cfg, work.resolve("elsewhere2"));
        assertEquals(0, next.exit(), next.output());
        assertTrue(next.output().contains("completed the replace of " + out), next.output());
        assertEquals(List.of(), ChildJvm.leftovers(work, "out"));
        assertSameFiles(lin, out);

        // Halted after the second rename: the new output is in place; the next run deletes the old one.
        halted = run(List.of("-Damalgam.test.haltAt=after-rename"), null, "merge", cfg, out, "--force");
        assertEquals(137, halted.exit(), halted.output());
        assertSameFiles(ties, out);
        assertEquals(1, ChildJvm.leftovers(work, "out").size());
        next = amalgam("merge", linear, out, "--force");
        assertEquals(0, next.exit(), next.output());
        assertTrue(next.output().contains("already replaced"), next.output());
        assertEquals(List.of(), ChildJvm.leftovers(work, "out"));
        assertSameFiles(lin, out);
        assertFalse(Files.exists(out.resolve(".amalgam-lock")));
        assertNoCrash();
    }

    /** The previous output is restored when its replacement never got complete (no marker). */
    @Test
    void aPreviousOutputMovedAsideWithoutACompleteReplacementIsRestored() throws Exception {
        Path fam = family();
        Path out = work.resolve("out");
        assertEquals(0, amalgam("merge", fam.resolve("ties.yaml"), out).exit(), log());
        Map<String, byte[]> ties = OutputFolders.files(out);
        Path aside = work.resolve(".out.amalgam-old-abc123");
        Files.move(out, aside); // as left by a writer killed between its renames whose temporary folder is gone
        Run next = amalgam("merge", fam.resolve("ties.yaml"), work.resolve("other"));
        assertEquals(0, next.exit(), next.output());
        assertTrue(next.output().contains("restored the previous output " + out), next.output());
        assertSameFiles(ties, out);
        assertEquals(List.of(), ChildJvm.leftovers(work, "out"));
    }

    /** Same files and bytes, apart from a lock file that a halted writer leaves in a just-renamed output. */
    private static void assertSameFiles(Map<String, byte[]> expected, Path folder) throws IOException {
        Map<String, byte[]> actual = new TreeMap<>(OutputFolders.files(folder));
        actual.remove(".amalgam-lock");
        assertEquals(expected.keySet(), actual.keySet(), folder.toString());
        for (String f : expected.keySet()) assertTrue(java.util.Arrays.equals(expected.get(f), actual.get(f)), f + " differs");
    }

    // D5, D6, D8 ----------------------------------------------------------------------------------

    @Test
    void aHeaderNested5000DeepIsOneTypedLine() throws Exception {
        Path fam = family();
        Path base = fam.resolve("base");
        // The nesting sits under a key the parser skips, so only the depth limit can stop it.
        String deep = "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0],\"x\":"
                + "[".repeat(5000) + "]".repeat(5000) + "}}";
        Path bad = Files.createDirectories(work.resolve("deep"));
        writeRawSafetensors(bad.resolve("model.safetensors"), deep.getBytes(StandardCharsets.US_ASCII));
        Files.writeString(fam.resolve("deep.yaml"), TIES.replace("model: ft-3", "model: " + bad));
        Map<String, String> before = digests(base);
        Path out = work.resolve("out");
        assertOneLineFailure(amalgam("merge", fam.resolve("deep.yaml"), out), bad.resolve("model.safetensors").toString(),
                "MALFORMED_JSON", "nesting depth");
        assertNoTargetNoLeftovers(out);
        assertEquals(before, digests(base));
    }

    @Test
    void aSingleFileLinkedFromOutsideTheModelFolderIsRefused() throws Exception {
        Path fam = family();
        Path outside = Files.createDirectories(work.resolve("outside"));
        Path ft3 = fam.resolve("ft-3");
        Path single = Files.createDirectories(work.resolve("linked"));
        // A one-file model whose model.safetensors is a link to a file elsewhere.
        Path target = outside.resolve("weights.safetensors");
        writeRawSafetensors(target, "{}".getBytes(StandardCharsets.US_ASCII));
        Files.createSymbolicLink(single.resolve("model.safetensors"), target);
        Files.writeString(fam.resolve("link.yaml"), TIES.replace("model: ft-3", "model: " + single));
        Path out = work.resolve("out");
        assertOneLineFailure(amalgam("merge", fam.resolve("link.yaml"), out), "outside the model folder", "SHARD_PATH_ESCAPES");
        assertNoTargetNoLeftovers(out);
        assertTrue(Files.isDirectory(ft3));
    }

    @Test
    void runningOutOfHeapIsOneLineWithAHint() throws Exception {
        Path fam = family();
        // 200,000 empty tensors: an 11 MB header whose parsed form does not fit a 24 MB heap.
        StringBuilder h = new StringBuilder("{");
        for (int i = 0; i < 200_000; i++) {
            if (i > 0) h.append(',');
            h.append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}");
        }
        Path many = Files.createDirectories(work.resolve("many"));
        writeRawSafetensors(many.resolve("model.safetensors"), h.append('}').toString().getBytes(StandardCharsets.US_ASCII));
        Files.writeString(fam.resolve("many.yaml"), TIES.replace("model: ft-3", "model: " + many));
        Path out = work.resolve("out");
        Run r = run(List.of("-Xmx24m"), null, "merge", fam.resolve("many.yaml"), out);
        assertOneLineFailure(r, "out of memory", "-Xmx", "AMALGAM_JAVA_OPTS");
        assertNoTargetNoLeftovers(out);
    }

    static void writeRawSafetensors(Path file, byte[] header) throws IOException {
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(len);
            ch.write(ByteBuffer.wrap(header));
        }
    }

    static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return Integer.valueOf(0).equals(uid);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static int exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
    }
}

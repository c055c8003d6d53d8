package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.amalgam.io.ModelFolder;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs every single-file program of {@code examples/java/} as its README command does
 * ({@code java … Name.java}, the JDK's source launcher), on this build's class path; each
 * example checks its own result and exits non-zero if it is wrong.
 */
class JavaExamplesTest {

    @TempDir
    Path tmp;

    private static String run(Path log, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(ExampleFiles.repositoryRoot().toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "example timed out");
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private String example(String name, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ChildJvm.javaBinary(), "--enable-native-access=ALL-UNNAMED",
                "--add-modules", "jdk.incubator.vector", "-cp", ChildJvm.classPath(),
                ExampleFiles.repositoryRoot().resolve("examples/java/" + name + ".java").toString()));
        cmd.addAll(List.of(args));
        return run(tmp.resolve(name + ".log"), cmd);
    }

    @Test
    void atmLoopRunsTenRoundsInMemoryAndTheLossGoesDown() throws Exception {
        String out = example("AtmLoop");
        assertTrue(out.contains("round 10"), out);
        try (var files = Files.list(tmp)) {
            assertEquals(List.of("AtmLoop.log"), files.map(p -> p.getFileName().toString()).toList(), "no files written");
        }
    }

    @Test
    void mergeFolderWritesACheckpoint() throws Exception {
        Path target = tmp.resolve("ties");
        String out = example("MergeFolder", target.toString());
        assertTrue(out.contains("merged 39 tensors"), out);
        try (ModelFolder merged = ModelFolder.open(target)) {
            assertEquals(39, merged.tensors().size());
        }
        assertTrue(Files.exists(target.resolve("config.json")));
    }

    @Test
    void kernelOnMySegmentsKeepsExactlyK() throws Exception {
        String out = example("KernelOnMySegments");
        assertTrue(out.contains("kept 3002 of 10007"), out);
    }

    @Test
    void loraFactorizeRecoversTheRank() throws Exception {
        String out = example("LoraFactorize");
        assertTrue(out.contains("threshold 0.01 of sigma_1 keeps rank 4"), out);
    }

    /** The documented command itself, when the CLI jar of this build is there (it is in {@code mvn verify}). */
    @Test
    void theRunScriptRunsAnExample() throws Exception {
        Path root = ExampleFiles.repositoryRoot();
        Path jar = root.resolve("cli/target/amalgam.jar");
        assumeTrue(Files.isRegularFile(jar), "cli/target/amalgam.jar not built (run mvn package first)");
        assertTrue(new File(root.resolve("examples/java/run").toString()).canExecute());
        ProcessBuilder pb = new ProcessBuilder("bash", "examples/java/run", "KernelOnMySegments");
        pb.environment().put("AMALGAM_NO_BUILD", "1");
        Path log = tmp.resolve("run.log");
        Process p = pb.directory(root.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(log.toFile())).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES));
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("kept 3002 of 10007"), out);
    }
}

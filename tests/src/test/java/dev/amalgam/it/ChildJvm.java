package dev.amalgam.it;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts the {@code amalgam} CLI in a child JVM with this test JVM's binary and class path, for
 * what an in-process run cannot show: a process killed midway, and the memory of a whole
 * process. Output goes to files (a full pipe would stall the child).
 */
final class ChildJvm {

    private ChildJvm() {
    }

    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Surefire runs tests from a manifest-only jar; it keeps the real class path in its own property. */
    static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    /** {@code java <jvmOptions> -cp <test class path> dev.amalgam.cli.AmalgamCommand <args>}. */
    static List<String> command(List<String> jvmOptions, Object... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaBinary());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(classPath());
        cmd.add("dev.amalgam.cli.AmalgamCommand");
        for (Object a : args) cmd.add(a.toString());
        return cmd;
    }

    /** Starts the child with stdout and stderr going to {@code logDir/child.out}. */
    static Process start(Path logDir, List<String> jvmOptions, Object... args) throws IOException {
        Files.createDirectories(logDir);
        File log = logDir.resolve("child.out").toFile();
        return new ProcessBuilder(command(jvmOptions, args)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.to(log)).start();
    }

    static String output(Path logDir) throws IOException {
        Path log = logDir.resolve("child.out");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** The anonymous resident memory of a live process from /proc (Linux), in bytes; -1 if unreadable. */
    static long rssAnonBytes(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("RssAnon:")) {
                    String[] parts = line.substring("RssAnon:".length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024; // always kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1; // the process has just exited
        }
        return -1;
    }

    /** True if /proc/self/status reports RssAnon (Linux ≥ 4.5). */
    static boolean canSampleRssAnon() {
        return rssAnonBytes(ProcessHandle.current().pid()) > 0;
    }

    /** Entries of {@code dir} whose names start with {@code "." + target + ".amalgam-"} (temp or replaced folders). */
    static List<Path> leftovers(Path dir, String target) throws IOException {
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("." + target + ".amalgam-")).toList();
        }
    }
}

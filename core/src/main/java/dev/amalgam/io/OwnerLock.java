package dev.amalgam.io;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The lock file {@value #FILE_NAME} inside an output's temporary folder: which process (pid,
 * host, start time) is writing it. A later writer into the same parent folder uses it to tell the
 * leftovers of a killed merge (owner dead) from a merge still running (owner alive).
 *
 * <p>A process counts as dead only when the lock was written on this host and no process with
 * that pid and start time exists (pids are reused; the start time tells them apart). A lock from
 * another host, or one that cannot be read, is never judged dead: its folder is left alone.
 */
record OwnerLock(long pid, String host, long startMillis) {

    static final String FILE_NAME = ".amalgam-lock";

    /** The lock of the running process. */
    static OwnerLock current() {
        ProcessHandle self = ProcessHandle.current();
        return new OwnerLock(self.pid(), hostName(), startMillis(self));
    }

    private static long startMillis(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return System.getenv().getOrDefault("HOSTNAME", "unknown");
        }
    }

    /** Writes this lock into {@code folder} (durably: a killed process must leave a readable lock). */
    void writeInto(Path folder) throws IOException {
        Path file = folder.resolve(FILE_NAME);
        Files.writeString(file, "pid=" + pid + "\nhost=" + host + "\nstart=" + startMillis + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    }

    /** The lock in {@code folder}, if there is a readable one. */
    static Optional<OwnerLock> readFrom(Path folder) {
        try {
            Map<String, String> kv = new HashMap<>();
            for (String line : Files.readAllLines(folder.resolve(FILE_NAME), StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0) kv.put(line.substring(0, eq), line.substring(eq + 1));
            }
            return Optional.of(new OwnerLock(Long.parseLong(kv.get("pid")), kv.get("host"), Long.parseLong(kv.get("start"))));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** True when this lock's process has certainly ended. */
    boolean ownerIsDead() {
        if (host == null || !host.equals(hostName())) return false;
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) return true;
        long start = startMillis(p.get());
        return startMillis >= 0 && start >= 0 && Math.abs(start - startMillis) > 1000; // pid reused
    }

    @Override
    public String toString() {
        return "pid " + pid + " on " + host;
    }
}

package dev.amalgam.benchmarks;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * The I/O floor of a merge: read every input shard once through a memory mapping (as the merge
 * does) while another thread writes an output of the given size through a mapping and forces
 * it to disk — no arithmetic. Reading and writing overlap, as they do in a merge (the writer
 * flushes finished tensors in the background), so a merge can not beat this on the same disk.
 *
 * <p>Usage: {@code IoFloor OUTPUT_FILE OUTPUT_BYTES INPUT_DIR...}; prints seconds and GB/s.
 */
public final class IoFloor {

    private IoFloor() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: IoFloor OUTPUT_FILE OUTPUT_BYTES INPUT_DIR...");
            System.exit(2);
        }
        Path output = Path.of(args[0]);
        long outputBytes = Long.parseLong(args[1]);
        List<Path> inputs = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            try (Stream<Path> s = Files.list(Path.of(args[i]))) {
                s.filter(p -> p.toString().endsWith(".safetensors")).sorted().forEach(inputs::add);
            }
        }
        long start = System.nanoTime();
        long read = 0, checksum = 0;
        java.util.concurrent.CompletableFuture<Long> write = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(output, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                MemorySegment m = ch.map(FileChannel.MapMode.READ_WRITE, 0, outputBytes, arena);
                long words = outputBytes / 8;
                for (long i = 0; i < words; i++) m.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, i * 0x9E3779B97F4A7C15L);
                m.force();
                ch.force(true);
                return System.nanoTime() - start;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Arena arena = Arena.ofConfined()) {
            for (Path p : inputs) {
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
                    MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
                    long words = m.byteSize() / 8;
                    for (long i = 0; i < words; i++) checksum += m.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                    read += m.byteSize();
                }
            }
            long readNanos = System.nanoTime() - start;
            long writeNanos = write.join();
            double total = (System.nanoTime() - start) / 1e9;
            System.out.printf(Locale.ROOT, "io-floor: read %.2f GB in %.2f s, wrote %.2f GB in %.2f s (overlapped); "
                            + "total %.2f s (%.2f GB/s) [checksum %x]%n", read / 1e9, readNanos / 1e9, outputBytes / 1e9,
                    writeNanos / 1e9, total, (read + outputBytes) / 1e9 / total, checksum);
        } finally {
            Files.deleteIfExists(output);
        }
    }
}

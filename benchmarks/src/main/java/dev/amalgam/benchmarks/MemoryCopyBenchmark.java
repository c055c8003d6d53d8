package dev.amalgam.benchmarks;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The machine's memory-copy bandwidth, the yardstick for the kernels: {@link MemorySegment#copy}
 * of a 256 MiB off-heap buffer, by one thread or split over all cores. Bytes counted as the
 * kernels count them: read once + written once (2 × buffer per copy).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx1g"})
public class MemoryCopyBenchmark {

    @Param({"268435456"})
    public long bytes;

    @Param({"1", "all"})
    public String threads;

    private Arena arena;
    private MemorySegment source;
    private MemorySegment target;
    private int slices;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        source = arena.allocate(bytes, 4096);
        target = arena.allocate(bytes, 4096);
        source.fill((byte) 0x5A);
        target.fill((byte) 0);
        slices = threads.equals("all") ? Runtime.getRuntime().availableProcessors() : 1;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public void copy(Traffic traffic) {
        traffic.bytes += 2 * bytes;
        if (slices == 1) {
            MemorySegment.copy(source, 0, target, 0, bytes);
            return;
        }
        long slice = (bytes / slices + 4095) / 4096 * 4096;
        IntStream.range(0, slices).parallel().forEach(s -> {
            long from = s * slice;
            long len = Math.min(slice, bytes - from);
            if (len > 0) MemorySegment.copy(source, from, target, from, len);
        });
    }
}

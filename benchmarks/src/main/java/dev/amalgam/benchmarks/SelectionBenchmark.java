package dev.amalgam.benchmarks;

import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
 * Exact selection of the 20% largest |δ| of one tensor (the TIES trim threshold). Two sizes
 * 16× apart show whether time grows linearly in n.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class SelectionBenchmark {

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"1048576", "16777216"})
    public long size;

    private Arena arena;
    private KernelBackend kernels;
    private List<DeltaSource> parts;
    private long bytesPerOp;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        kernels = BenchmarkData.open(backend);
        DType type = DType.valueOf(dtype);
        Tensor base = BenchmarkData.base(arena, "w", type, size, 1);
        Tensor model = BenchmarkData.model(arena, "w", type, base, 2);
        parts = List.of(new DeltaSource(base, model));
        bytesPerOp = 2 * BenchmarkData.bytes(base);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public MagnitudeThreshold selectLargest(Traffic traffic) {
        traffic.bytes += bytesPerOp;
        return kernels.selectLargest(parts, (long) (0.2 * size));
    }
}

package dev.amalgam.benchmarks;

import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.ArrayList;
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

/** {@code linear} of T inputs of one tensor, weights 1/T, output in the input dtype. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class LinearBenchmark {

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"2", "4", "8"})
    public int models;

    @Param({"1048576", "16777216"})
    public long size;

    private Arena arena;
    private KernelBackend kernels;
    private LinearPass pass;
    private long bytesPerOp;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        kernels = BenchmarkData.open(backend);
        DType type = DType.valueOf(dtype);
        Tensor first = BenchmarkData.base(arena, "w", type, size, 1);
        List<Tensor> inputs = new ArrayList<>(List.of(first));
        for (int m = 1; m < models; m++) inputs.add(BenchmarkData.model(arena, "w", type, first, 100 + m));
        float[] weights = new float[models];
        java.util.Arrays.fill(weights, 1f / models);
        Tensor out = BenchmarkData.allocate(arena, "w", type, size);
        bytesPerOp = (models + 1L) * BenchmarkData.bytes(out);
        pass = new LinearPass("w", inputs, weights, 1f, out, false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public LinearResult linear(Traffic traffic) {
        traffic.bytes += bytesPerOp;
        return kernels.linear(pass);
    }
}

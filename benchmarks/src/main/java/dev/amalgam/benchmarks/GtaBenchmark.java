package dev.amalgam.benchmarks;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
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

/**
 * The fused task-arithmetic pass of one tensor with the settings of three methods:
 * <ul>
 * <li>{@code ties}: trim to density 0.2 per model, sum election, normalize;
 * <li>{@code dare}: Bernoulli density 0.3, l1 rescale, sum election (dare_ties);
 * <li>{@code breadcrumbs}: band density 0.9, gamma 0.01, no election.
 * </ul>
 * Thresholds are selected in setup (not measured). Output dtype = input dtype.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class GtaBenchmark {

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"ties", "dare", "breadcrumbs"})
    public String method;

    @Param({"F32", "BF16"})
    public String dtype;

    @Param({"2", "4", "8"})
    public int models;

    @Param({"1048576", "16777216"})
    public long size;

    private Arena arena;
    private KernelBackend kernels;
    private GtaPass pass;
    private long bytesPerOp;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        kernels = BenchmarkData.open(backend);
        DType type = DType.valueOf(dtype);
        String name = "model.layers.0.mlp.down_proj.weight";
        Tensor base = BenchmarkData.base(arena, name, type, size, 1);
        List<Tensor> inputs = new ArrayList<>();
        int[] indices = new int[models];
        float[] weights = new float[models];
        Sparsifier[] sparsifiers = new Sparsifier[models];
        bytesPerOp = 2 * BenchmarkData.bytes(base);
        try (KernelBackend selector = BenchmarkData.setupBackend()) {
            for (int m = 0; m < models; m++) {
                Tensor model = BenchmarkData.model(arena, name, type, base, 100 + m);
                inputs.add(model);
                bytesPerOp += BenchmarkData.bytes(model);
                indices[m] = m + 1;
                weights[m] = 0.5f + 0.5f * m / models;
                List<DeltaSource> parts = List.of(new DeltaSource(base, model));
                sparsifiers[m] = switch (method) {
                    case "ties" -> Sparsifier.MagnitudeBand.trim(selector.selectLargest(parts, (long) (0.2 * size)));
                    case "dare" -> new Sparsifier.Bernoulli(0.3);
                    case "breadcrumbs" -> {
                        long target = (long) (0.9 * size), top = (long) (0.01 * size);
                        MagnitudeThreshold keep = selector.selectLargest(parts, top + target);
                        yield new Sparsifier.MagnitudeBand(selector.selectLargest(parts, top), keep);
                    }
                    default -> throw new IllegalArgumentException("method " + method);
                };
            }
        }
        Tensor out = BenchmarkData.allocate(arena, name, type, size);
        RescaleMode rescale = method.equals("dare") ? RescaleMode.L1 : RescaleMode.NONE;
        ConsensusMethod consensus = method.equals("breadcrumbs") ? ConsensusMethod.NONE : ConsensusMethod.SUM;
        boolean normalize = method.equals("ties");
        pass = new GtaPass(name, base, inputs, indices, weights, sparsifiers, rescale, 42, consensus, normalize, 1f, out, false);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public GtaResult gta(Traffic traffic) {
        traffic.bytes += bytesPerOp;
        return kernels.gta(pass);
    }
}

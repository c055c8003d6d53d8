package dev.amalgam.benchmarks;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.DellaPass;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.ScePass;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.kernel.TallPass;
import dev.amalgam.kernel.TauPass;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
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
 * One whole tensor [rows, 4096] of the task-vector methods of the literature against TIES at the
 * same size, selection included (so that the comparison is method against method):
 * <ul>
 * <li>{@code ties}: per model the top-20% selection, then the fused pass (sum election, normalize);
 * <li>{@code della}: the DELLA pass (row ranks, Philox draws, density 0.5 ± 0.15, l1, election) —
 *     the row-ranking kernel family;
 * <li>{@code sce}: the SCE pass with select_topk 0.3 — per-element cross-model statistics;
 * <li>{@code consensus_ta}: τ_MTL and the TALL mask pass.
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx3g"})
public class LiteratureBenchmark {

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"ties", "della", "sce", "consensus_ta"})
    public String method;

    @Param({"BF16"})
    public String dtype;

    @Param({"4"})
    public int models;

    @Param({"1048576", "16777216"})
    public long size;

    private Arena arena;
    private KernelBackend kernels;
    private Tensor base, out, tau;
    private List<Tensor> inputs;
    private int[] indices;
    private float[] weights;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        kernels = BenchmarkData.open(backend);
        DType type = DType.valueOf(dtype);
        String name = "model.layers.0.mlp.down_proj.weight";
        long[] shape = {size / 4096, 4096};
        base = shaped(BenchmarkData.base(arena, name, type, size, 1), shape);
        inputs = new ArrayList<>();
        indices = new int[models];
        weights = new float[models];
        for (int m = 0; m < models; m++) {
            inputs.add(shaped(BenchmarkData.model(arena, name, type, base, 100 + m), shape));
            indices[m] = m + 1;
            weights[m] = 0.5f + 0.5f * m / models;
        }
        out = shaped(BenchmarkData.allocate(arena, name, type, size), shape);
        tau = shaped(BenchmarkData.allocate(arena, name, DType.F32, size), shape);
    }

    private static Tensor shaped(Tensor t, long[] shape) {
        return new Tensor(new TensorInfo(t.name(), t.dtype(), shape), t.data());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public Object merge() {
        String name = base.name();
        switch (method) {
            case "ties" -> {
                Sparsifier[] s = new Sparsifier[models];
                for (int m = 0; m < models; m++) {
                    MagnitudeThreshold th = kernels.selectLargest(List.of(new DeltaSource(base, inputs.get(m))), (long) (0.2 * size));
                    s[m] = Sparsifier.MagnitudeBand.trim(th);
                }
                return kernels.gta(new GtaPass(name, base, inputs, indices, weights, s, RescaleMode.NONE, 42, ConsensusMethod.SUM,
                        true, 1f, out, false));
            }
            case "della" -> {
                double[] d = new double[models], e = new double[models];
                java.util.Arrays.fill(d, 0.5);
                java.util.Arrays.fill(e, 0.15);
                return kernels.della(new DellaPass(name, base, inputs, indices, weights, d, e, DellaPass.Rescale.L1, 42,
                        ConsensusMethod.SUM, true, 1f, out, false));
            }
            case "sce" -> {
                return kernels.sce(new ScePass(name, base, inputs, 0.3, 1f, out, false));
            }
            case "consensus_ta" -> {
                kernels.taskVector(new TauPass(name, base, inputs, weights, new MagnitudeThreshold[models], false,
                        ConsensusMethod.NONE, false, tau));
                float[] lambdas = new float[models];
                java.util.Arrays.fill(lambdas, 0.4f);
                return kernels.tallMasks(new TallPass(name, base, inputs, tau, lambdas, 2, 1f, out, null));
            }
            default -> throw new IllegalArgumentException(method);
        }
    }
}

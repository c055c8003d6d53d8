package dev.amalgam.benchmarks;

import dev.amalgam.kernel.CombinePass;
import dev.amalgam.kernel.GramPass;
import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.NearswapPass;
import dev.amalgam.kernel.RamPass;
import dev.amalgam.kernel.VectorLayout;
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
 * The kernel work of one tensor's merge for the interpolation, geometric and RAM methods, next to
 * {@code linear} on the same inputs (a base and two models): what each merger runs through the
 * backend. slerp, multislerp, karcher: the Gram pass over the inputs, then one linear pass;
 * nuslerp and model_stock: the Gram pass against the base, then the combination (per row for
 * {@code *_rows}); nearswap and ram: their element-wise pass (ramplus_tl adds the overlap count).
 * The few scalar steps between the passes (angles, ratios: microseconds) use stand-in values here.
 * The tensor is a [rows, 4096] matrix so that the per-row variants have realistic rows.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class InterpolationBenchmark {

    @Param({"cpu", "reference"})
    public String backend;

    @Param({"BF16", "F32"})
    public String dtype;

    @Param({"linear", "slerp", "nuslerp", "nuslerp_rows", "multislerp", "karcher", "model_stock", "model_stock_rows",
            "nearswap", "ram", "ramplus_tl"})
    public String method;

    @Param({"16777216"})
    public long size;

    private Arena arena;
    private KernelBackend kernels;
    private Tensor base, a, b, out;
    private VectorLayout whole, rows;
    private long bytesPerOp;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        kernels = BenchmarkData.open(backend);
        DType type = DType.valueOf(dtype);
        long[] shape = {size / 4096, 4096};
        base = matrix(BenchmarkData.base(arena, "w", type, size, 1), shape);
        a = matrix(BenchmarkData.model(arena, "w", type, base, 101), shape);
        b = matrix(BenchmarkData.model(arena, "w", type, base, 102), shape);
        out = matrix(BenchmarkData.allocate(arena, "w", type, size), shape);
        whole = VectorLayout.whole(size);
        rows = VectorLayout.rows(shape);
        int inputs = switch (method) {
            case "slerp", "nearswap" -> 2;
            default -> 3;
        };
        bytesPerOp = (inputs + 1L) * BenchmarkData.bytes(out);
    }

    private static Tensor matrix(Tensor flat, long[] shape) {
        return new Tensor(new TensorInfo(flat.name(), flat.dtype(), shape), flat.data());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        kernels.close();
        arena.close();
    }

    @Benchmark
    public Object mergeOneTensor(Traffic traffic) {
        traffic.bytes += bytesPerOp;
        return switch (method) {
            case "linear" -> kernels.linear(new LinearPass("w", List.of(base, a, b), new float[] {0.4f, 0.3f, 0.3f}, 1f, out, false));
            case "slerp" -> {
                GramResult g = kernels.gram(new GramPass("w", List.of(base, a), null, whole));
                float s = (float) (g.dot(0, 0, 1) / (g.norm(0, 0) * g.norm(0, 1)));
                yield kernels.linear(new LinearPass("w", List.of(base, a), new float[] {1 - 0.5f * s, 0.5f * s}, 1f, out, false));
            }
            case "multislerp", "karcher" -> {
                GramResult g = kernels.gram(new GramPass("w", List.of(base, a, b), null, whole));
                float s = (float) (1 / Math.sqrt(g.squaredNorm(0, 0) + g.dot(0, 1, 2)));
                yield kernels.linear(new LinearPass("w", List.of(base, a, b), new float[] {s, s, s}, 1f, out, false));
            }
            case "nuslerp", "model_stock" -> {
                GramResult g = kernels.gram(new GramPass("w", List.of(a, b), base, whole));
                float s = (float) (g.dot(0, 0, 1) / (g.norm(0, 0) * g.norm(0, 1)));
                yield kernels.linear(new LinearPass("w", List.of(base, a, b), new float[] {1 - s, s / 2, s / 2}, 1f, out, false));
            }
            case "nuslerp_rows", "model_stock_rows" -> {
                GramResult g = kernels.gram(new GramPass("w", List.of(a, b), base, rows));
                float[] c = new float[g.vectors() * 3];
                for (int v = 0; v < g.vectors(); v++) {
                    float s = (float) (g.dot(v, 0, 1) / (g.norm(v, 0) * g.norm(v, 1)));
                    c[v * 3] = 1 - s;
                    c[v * 3 + 1] = s / 2;
                    c[v * 3 + 2] = s / 2;
                }
                yield kernels.combine(new CombinePass("w", List.of(base, a, b), c, rows, out, false));
            }
            case "nearswap" -> kernels.nearswap(new NearswapPass("w", base, a, 0.005f, out, false));
            case "ram" -> kernels.ram(new RamPass("w", base, List.of(a, b), 1e-5f, new float[] {1, 1}, out, false));
            case "ramplus_tl" -> {
                RamPass.Overlap o = kernels.ramOverlap(new RamPass("w", base, List.of(a, b), 1e-5f, new float[] {1, 1}, null, true));
                float[] scale = {1 + 0.1f * Math.min(0.2f, o.shared()[0] / (float) Math.max(1, o.unique()[0])), 1.02f};
                yield kernels.ram(new RamPass("w", base, List.of(a, b), 1e-5f, scale, out, false));
            }
            default -> throw new IllegalArgumentException(method);
        };
    }
}

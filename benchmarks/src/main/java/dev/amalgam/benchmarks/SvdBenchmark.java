package dev.amalgam.benchmarks;

import dev.amalgam.kernel.cpu.FastCpuSvdKernels;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Batched thin-SVD throughput: a batch of 8 Gaussian n×n matrices (seed 1..8) per operation,
 * the double-precision Jacobi reference vs the fast CPU kernels; and the truncated top-n/8
 * path of the fast kernels (TSV-M's per-task SVD).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp … org.openjdk.jmh.Main SvdBenchmark</pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class SvdBenchmark {

    @Param({"64", "128", "256"})
    int n;

    List<FloatMatrix> batch;

    @Setup
    public void setUp() {
        batch = new ArrayList<>();
        for (int b = 1; b <= 8; b++) {
            SplittableRandom r = new SplittableRandom(b);
            float[] d = new float[n * n];
            for (int i = 0; i < d.length; i++) d[i] = (float) r.nextGaussian();
            batch.add(new FloatMatrix(n, n, d));
        }
    }

    @Benchmark
    public List<Svd> referenceBatch() {
        return run(ReferenceSvdKernels.INSTANCE);
    }

    @Benchmark
    public List<Svd> fastCpuBatch() {
        return run(FastCpuSvdKernels.INSTANCE);
    }

    @Benchmark
    public List<Svd> fastCpuTruncatedBatch() {
        return FastCpuSvdKernels.INSTANCE.truncatedBatch(batch, n / 8);
    }

    private List<Svd> run(SvdKernels k) {
        return k.svdBatch(batch);
    }
}

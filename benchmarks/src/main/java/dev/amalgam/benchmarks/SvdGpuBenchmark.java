package dev.amalgam.benchmarks;

import dev.amalgam.cuda.CudaKernelProvider;
import dev.amalgam.cuda.CudaSvdKernels;
import dev.amalgam.cuda.CusolverBatchedSvd;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.merge.SvdMethods;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Batched SVD on the GPU: Amalgam's Jacobi kernels ({@link CudaSvdKernels}) against cuSOLVER's
 * Jacobi (gesvdjBatched up to 32×32, gesvdj per matrix above) on the same batches, both with full
 * singular vectors and host↔device copies included; and TSV-M (§11.1) over a ViT-B/16-shaped
 * layer set: 12 layers × {768×768 ×4, 3072×768, 768×3072} with T = 8 task matrices each.
 *
 * <p>Without a usable GPU every benchmark's setup fails with "skipped: no usable GPU: …" (and
 * {@link #main} prints that and exits 0); without libcusolver the cuSOLVER benchmark fails with
 * the reason. Inputs are Gaussian (fixed seeds) for the SVD batches; the TSV-M task matrices are
 * rank-32 products with a 1e-3 Gaussian floor, like fine-tuning deltas (one layer is generated
 * and decomposed 12 times, to keep the heap small).
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp benchmarks/target/...:... dev.amalgam.bench.SvdGpuBenchmark}
 * or through JMH's own runner with {@code SvdGpuBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx16g"})
public class SvdGpuBenchmark {

    /** The GPU, or why there is none. */
    @State(Scope.Benchmark)
    public static class Gpu {
        CudaSvdKernels kernels;
        Optional<CusolverBatchedSvd> cusolver = Optional.empty();
        final List<String> cusolverMissing = new ArrayList<>();

        @Setup(Level.Trial)
        public void open() {
            CudaKernelProvider provider = new CudaKernelProvider();
            KernelProvider.Availability a = provider.availability();
            if (!a.usable()) throw new IllegalStateException("skipped: no usable GPU: " + a.reason());
            CudaKernelProvider.Probe p = provider.probe();
            kernels = CudaSvdKernels.open(p.cuda(), p.ordinal());
            cusolver = CusolverBatchedSvd.open(p.cuda(), p.ordinal(), cusolverMissing::add);
            System.out.println("# " + a.reason() + "; " + kernels + "; cuSOLVER: "
                    + cusolver.map(CusolverBatchedSvd::soname).orElse(String.join("; ", cusolverMissing)));
        }

        @TearDown(Level.Trial)
        public void close() {
            cusolver.ifPresent(CusolverBatchedSvd::close);
            if (kernels != null) kernels.close();
        }
    }

    /** A batch of Gaussian matrices: ROWSxCOLSxCOUNT. */
    @State(Scope.Benchmark)
    public static class Batch {
        @Param({"32x32x1024", "64x64x256", "128x96x128", "768x768x8", "3072x768x8"})
        public String shape;
        List<FloatMatrix> matrices;

        @Setup(Level.Trial)
        public void generate() {
            String[] f = shape.split("x");
            int rows = Integer.parseInt(f[0]), cols = Integer.parseInt(f[1]), count = Integer.parseInt(f[2]);
            matrices = new ArrayList<>(count);
            Random r = new Random(20_250_101L + rows * 31L + cols);
            for (int i = 0; i < count; i++) {
                FloatMatrix a = FloatMatrix.zeros(rows, cols);
                for (int j = 0; j < a.data().length; j++) a.data()[j] = (float) r.nextGaussian();
                matrices.add(a);
            }
        }
    }

    /** One ViT-B/16 layer: 6 weight shapes × T = 8 task matrices. */
    @State(Scope.Benchmark)
    public static class VitLayer {
        static final int TASKS = 8, LAYERS = 12, RANK = 32;
        static final int[][] SHAPES = {{768, 768}, {768, 768}, {768, 768}, {768, 768}, {3072, 768}, {768, 3072}};
        List<List<FloatMatrix>> weights;

        @Setup(Level.Trial)
        public void generate() {
            Random r = new Random(16_16_16L);
            weights = new ArrayList<>();
            for (int[] s : SHAPES) {
                List<FloatMatrix> tasks = new ArrayList<>(TASKS);
                for (int t = 0; t < TASKS; t++) tasks.add(taskMatrix(s[0], s[1], r));
                weights.add(tasks);
            }
        }

        /** A rank-32 product with a decaying head plus a 1e-3 Gaussian floor. */
        static FloatMatrix taskMatrix(int rows, int cols, Random r) {
            float[] left = new float[rows * RANK], right = new float[RANK * cols];
            for (int i = 0; i < left.length; i++) left[i] = (float) (r.nextGaussian() / Math.sqrt(rows));
            for (int l = 0; l < RANK; l++) {
                float scale = (float) (0.05 * Math.pow(0.85, l));
                for (int j = 0; j < cols; j++) right[l * cols + j] = (float) (r.nextGaussian() * scale);
            }
            FloatMatrix a = FloatMatrix.zeros(rows, cols);
            float[] d = a.data();
            for (int i = 0; i < rows; i++) {
                for (int l = 0; l < RANK; l++) {
                    float f = left[i * RANK + l];
                    for (int j = 0; j < cols; j++) d[i * cols + j] += f * right[l * cols + j];
                }
                for (int j = 0; j < cols; j++) d[i * cols + j] += (float) (1e-3 * r.nextGaussian());
            }
            return a;
        }
    }

    @Benchmark
    public List<Svd> amalgamJacobiBatch(Gpu gpu, Batch batch) {
        return gpu.kernels.svdBatch(batch.matrices);
    }

    @Benchmark
    public List<double[]> cusolverJacobiBatch(Gpu gpu, Batch batch) {
        CusolverBatchedSvd cs = gpu.cusolver.orElseThrow(() -> new IllegalStateException("skipped: " + gpu.cusolverMissing));
        return cs.singularValues(batch.matrices);
    }

    @Benchmark
    @Warmup(iterations = 1)
    @Measurement(iterations = 3)
    @OutputTimeUnit(TimeUnit.SECONDS)
    public void tsvmVitB16(Gpu gpu, VitLayer layer, Blackhole bh) {
        for (int l = 0; l < VitLayer.LAYERS; l++) {
            for (List<FloatMatrix> tasks : layer.weights) bh.consume(SvdMethods.tsvM(gpu.kernels, tasks, w -> { }));
        }
    }

    /** Runs the benchmarks when a GPU is usable; otherwise says why and exits 0. */
    public static void main(String[] args) throws RunnerException {
        KernelProvider.Availability a = new CudaKernelProvider().availability();
        if (!a.usable()) {
            System.out.println("SvdGpuBenchmark skipped: no usable GPU: " + a.reason());
            return;
        }
        new Runner(new OptionsBuilder().include(SvdGpuBenchmark.class.getName() + "\\.").build()).run();
    }
}

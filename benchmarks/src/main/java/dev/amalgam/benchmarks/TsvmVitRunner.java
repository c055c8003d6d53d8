package dev.amalgam.benchmarks;

import dev.amalgam.kernel.cpu.FastCpuSvdKernels;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.kernel.svd.SvdKernels;
import dev.amalgam.merge.SvdMethods;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Whole-process timing of the TSV-M matrix step for a ViT-B/16-shaped layer set: L layers ×
 * {768×768 ×4 (q, k, v, out), 3072×768 (fc1), 768×3072 (fc2)} with T task matrices each (the
 * SVD work of merging T ViT-B/16 fine-tunes; the file I/O of a real merge is excluded). A single
 * run of minutes does not suit JMH, so this prints wall times per matrix shape and in total.
 *
 * <p>Task matrices: dense, full rank, power-law spectrum ({@link #taskMatrix}), from fixed seeds.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp … dev.amalgam.benchmarks.TsvmVitRunner [cpu|reference] [layers] [tasks]</pre>
 */
public final class TsvmVitRunner {

    private TsvmVitRunner() {
    }

    public static void main(String[] args) {
        String backend = args.length > 0 ? args[0] : "cpu";
        int layers = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        int tasks = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        SvdKernels svd = backend.equals("reference") ? ReferenceSvdKernels.INSTANCE : FastCpuSvdKernels.INSTANCE;
        int[][] shapes = {{768, 768}, {768, 768}, {768, 768}, {768, 768}, {3072, 768}, {768, 3072}};
        String[] names = {"attn.q", "attn.k", "attn.v", "attn.out", "mlp.fc1", "mlp.fc2"};
        System.out.printf(Locale.ROOT, "TSV-M, %d layers x %d matrices, T = %d, kernels %s, %d cores%n", layers, shapes.length,
                tasks, svd.name(), Runtime.getRuntime().availableProcessors());
        double[] perShape = new double[shapes.length];
        long total = 0;
        for (int layer = 0; layer < layers; layer++) {
            for (int s = 0; s < shapes.length; s++) {
                List<FloatMatrix> taus = new ArrayList<>(tasks);
                for (int t = 0; t < tasks; t++) taus.add(taskMatrix(shapes[s][0], shapes[s][1], 1000L * layer + 10L * s + t));
                long t0 = System.nanoTime();
                FloatMatrix m = SvdMethods.tsvM(svd, taus, w -> { });
                long dt = System.nanoTime() - t0;
                if (m.rows() != shapes[s][0]) throw new AssertionError();
                total += dt;
                perShape[s] += dt / 1e9;
                System.out.printf(Locale.ROOT, "layer %2d %-8s %4dx%-4d %7.3f s%n", layer, names[s], shapes[s][0], shapes[s][1], dt / 1e9);
            }
        }
        for (int s = 0; s < shapes.length; s++) {
            System.out.printf(Locale.ROOT, "%-8s total %8.2f s (%.3f s per matrix)%n", names[s], perShape[s], perShape[s] / layers);
        }
        System.out.printf(Locale.ROOT, "TOTAL %.2f s for %d matrices%n", total / 1e9, layers * shapes.length);
    }

    /**
     * A dense, full-rank rows×cols task matrix: G1·diag(σ)·G2 with Gaussian factors (r = min(rows,
     * cols) inner columns) and a power-law spectrum σ_i = 0.01/(i+1), seed-reproducible.
     */
    static FloatMatrix taskMatrix(int rows, int cols, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int inner = Math.min(rows, cols);
        float[] left = new float[rows * inner], right = new float[inner * cols];
        for (int i = 0; i < left.length; i++) left[i] = (float) (r.nextGaussian() / Math.sqrt(rows));
        for (int l = 0; l < inner; l++) {
            double sigma = 0.01 / (l + 1);
            for (int j = 0; j < cols; j++) right[l * cols + j] = (float) (sigma * r.nextGaussian() / Math.sqrt(cols));
        }
        return FastCpuSvdKernels.INSTANCE.multiply(new FloatMatrix(rows, inner, left), new FloatMatrix(inner, cols, right));
    }
}

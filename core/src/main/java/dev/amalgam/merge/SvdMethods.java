package dev.amalgam.merge;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The matrix step M of the SVD methods (§11) for one 2-D tensor, given its task matrices
 * τ_1..τ_T; every heavy operation goes through {@link SvdKernels}, so the same code runs on the
 * reference, the fast CPU and (later) the GPU kernels.
 *
 * <p>Implementation notes. Counts follow the spec literally: k = (int)(r·(1.0/T)) for TSV-M and
 * the Math.rint split of Iso-CTS ({@link #isoCtsSplit}). TSV-M leaves r − T·k slots with σ = 0;
 * their polar columns do not affect M (§11.1.3), so only the T·k filled slots are
 * orthogonalized. Singular-value means are in double.
 */
public final class SvdMethods {

    private SvdMethods() {
    }

    /** TSV-M's per-task rank k = (int)(r·(1.0/T)), exactly this form (r = 98, T = 49 gives 1). */
    public static int tsvKeep(int r, int tasks) {
        return (int) (r * (1.0 / tasks));
    }

    /** Iso-CTS's split of the r slots: c common directions, then n_t per task (c + T·n_t = r). */
    public record IsoCtsSplit(int common, int perTask) {
    }

    /** §11.3 step 2: c0 = (int)(r·f) (at most r), ts = rint((r − c0)/T)·T, ts − T if ts > r, c = r − ts. */
    public static IsoCtsSplit isoCtsSplit(int r, int tasks, double fraction) {
        int c0 = (int) Math.min(r, (long) (r * fraction));
        double ts = Math.rint((double) (r - c0) / tasks) * tasks;
        if (ts > r) ts -= tasks;
        int perTaskTotal = (int) ts;
        return new IsoCtsSplit(r - perTaskTotal, perTaskTotal / tasks);
    }

    /** §11.1: M = polar(Û)·diag(ŝ)·polar(V̂h) from the top-k triplets of every τ_m. */
    public static FloatMatrix tsvM(SvdKernels svd, List<FloatMatrix> tasks, Consumer<String> warn) {
        FloatMatrix first = tasks.getFirst();
        int rows = first.rows(), cols = first.cols(), r = first.minDim(), t = tasks.size();
        int k = tsvKeep(r, t);
        if (k == 0) {
            warn.accept("tsv_m keeps k = (int)(" + r + "·(1/" + t + ")) = 0 singular directions per task (r < T); M = 0");
            return FloatMatrix.zeros(rows, cols);
        }
        List<Svd> parts = svd.truncatedBatch(tasks, k);
        int used = t * k;
        FloatMatrix u = FloatMatrix.zeros(rows, used);
        FloatMatrix vh = FloatMatrix.zeros(used, cols);
        double[] s = new double[used];
        for (int m = 0; m < t; m++) place(parts.get(m), k, m * k, u, s, vh);
        List<FloatMatrix> polars = svd.polarBatch(List.of(u, vh)); // independent: one per core
        return scaledProduct(svd, polars.get(0), s, polars.get(1));
    }

    /** §11.2: M = s̄·polar(Σ τ_m), s̄ = mean of the r singular values of Σ τ_m. */
    public static FloatMatrix isoC(SvdKernels svd, List<FloatMatrix> tasks) {
        Svd sum = svd.svd(sum(tasks));
        double mean = mean(sum.s());
        FloatMatrix m = svd.multiply(sum.u(), sum.vh());
        scale(m, (float) mean);
        return m;
    }

    /** §11.3: common subspace of Σ τ_m plus n_t task-specific directions per task, isotropic. */
    public static FloatMatrix isoCts(SvdKernels svd, List<FloatMatrix> tasks, double fraction, Consumer<String> warn) {
        FloatMatrix first = tasks.getFirst();
        int rows = first.rows(), cols = first.cols(), r = first.minDim(), t = tasks.size();
        IsoCtsSplit split = isoCtsSplit(r, t, fraction);
        int c = split.common(), nt = split.perTask();
        Svd total = svd.svd(sum(tasks));
        FloatMatrix u = FloatMatrix.zeros(rows, r);
        FloatMatrix vh = FloatMatrix.zeros(r, cols);
        double[] s = new double[r];
        if (nt > 0) {
            FloatMatrix uc = total.u().columns(0, c);
            List<FloatMatrix> residuals = new ArrayList<>(t);
            for (FloatMatrix tau : tasks) {
                // W_m = τ_m − U_c·(U_cᵀ·τ_m): τ_m without the common left subspace.
                FloatMatrix inCommon = svd.multiply(uc, svd.multiplyTransposed(uc, tau));
                float[] w = tau.data().clone();
                for (int i = 0; i < w.length; i++) w[i] -= inCommon.data()[i];
                residuals.add(new FloatMatrix(rows, cols, w));
            }
            List<Svd> parts = svd.truncatedBatch(residuals, nt);
            for (int m = 0; m < t; m++) place(parts.get(m), nt, m * nt, u, s, vh);
        } else if (t > 1) {
            warn.accept("iso_cts keeps n_t = 0 task-specific directions (r = " + r + ", T = " + t
                    + ", common_space_fraction = " + fraction + "); the result equals iso_c");
        }
        place(total, c, t * nt, u, s, vh);
        float mean = (float) mean(s);
        List<FloatMatrix> polars = svd.polarBatch(List.of(u, vh));
        FloatMatrix m = svd.multiply(polars.get(0), polars.get(1));
        scale(m, mean);
        return m;
    }

    /** Σ τ_m in float32, model order. */
    public static FloatMatrix sum(List<FloatMatrix> tasks) {
        FloatMatrix first = tasks.getFirst();
        float[] acc = first.data().clone();
        for (int m = 1; m < tasks.size(); m++) {
            float[] x = tasks.get(m).data();
            for (int i = 0; i < acc.length; i++) acc[i] += x[i];
        }
        return new FloatMatrix(first.rows(), first.cols(), acc);
    }

    /** Copies the first {@code k} triplets of {@code part} into slots [at, at + k). */
    private static void place(Svd part, int k, int at, FloatMatrix u, double[] s, FloatMatrix vh) {
        FloatMatrix pu = part.u(), pv = part.vh();
        for (int i = 0; i < u.rows(); i++) {
            System.arraycopy(pu.data(), i * pu.cols(), u.data(), i * u.cols() + at, k);
        }
        System.arraycopy(pv.data(), 0, vh.data(), at * vh.cols(), k * vh.cols());
        System.arraycopy(part.s(), 0, s, at, k);
    }

    /** P_U·diag(s)·P_V, scaling the columns of P_U in float32 first. */
    private static FloatMatrix scaledProduct(SvdKernels svd, FloatMatrix pu, double[] s, FloatMatrix pv) {
        float[] d = pu.data();
        int cols = pu.cols();
        for (int i = 0; i < pu.rows(); i++) {
            for (int l = 0; l < cols; l++) d[i * cols + l] *= (float) s[l];
        }
        return svd.multiply(pu, pv);
    }

    private static double mean(double[] s) {
        double sum = 0;
        for (double v : s) sum += v;
        return s.length == 0 ? 0 : sum / s.length;
    }

    private static void scale(FloatMatrix m, float f) {
        float[] d = m.data();
        for (int i = 0; i < d.length; i++) d[i] *= f;
    }
}

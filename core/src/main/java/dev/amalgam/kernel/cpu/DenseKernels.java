package dev.amalgam.kernel.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dense linear algebra for the fast SVD kernels, vectorized with {@code jdk.incubator.vector}:
 * float32 GEMM, double Gram matrices, double row operations.
 *
 * <p>Implementation notes. GEMM keeps a 4-row × 4-vector tile of C in registers and streams a
 * 4·L-column panel of B (L = float lanes of the preferred shape), so each B load feeds four
 * FMAs; rows are split into chunks run on the fork/join pool (inline when already inside it, so
 * batched SVDs that run one matrix per worker do not oversubscribe). FMA is used freely: SVD
 * results are compared with tolerances, never bit for bit (§1.10). The double GEMM (same tile,
 * double lanes) computes Gram matrices XᵀX.
 */
final class DenseKernels {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int FL = F.length();
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final int DL = D.length();

    /** Own daemon pool, so that SVD work never waits behind the common pool's other users. */
    private static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    private DenseKernels() {
    }

    static int parallelism() {
        return POOL.getParallelism();
    }

    /** Runs body(0..count−1) on the pool, or inline when called from one of its workers or for one task. */
    static void parallelFor(int count, IntConsumer body) {
        if (count <= 1 || ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == POOL) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        POOL.invoke(new Range(0, count, body));
    }

    private static final class Range extends RecursiveAction {
        private final int from, to;
        private final IntConsumer body;

        Range(int from, int to, IntConsumer body) {
            this.from = from;
            this.to = to;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(from, mid, body), new Range(mid, to, body));
        }
    }

    /** C (m×n) = A (m×k) · B (k×n), row-major float32. */
    static float[] gemm(float[] a, float[] b, int m, int k, int n) {
        float[] c = new float[m * n];
        int rowChunk = 64;
        int chunks = (m + rowChunk - 1) / rowChunk;
        long work = (long) m * n * k;
        if (work < 1L << 18) {
            gemmRows(a, b, c, 0, m, k, n);
        } else {
            parallelFor(chunks, ch -> gemmRows(a, b, c, ch * rowChunk, Math.min(m, (ch + 1) * rowChunk), k, n));
        }
        return c;
    }

    private static void gemmRows(float[] a, float[] b, float[] c, int r0, int r1, int k, int n) {
        int panel = 4 * FL;
        for (int j0 = 0; j0 < n; j0 += panel) {
            int width = Math.min(panel, n - j0);
            int i = r0;
            if (width == panel) {
                for (; i + 4 <= r1; i += 4) tile4x4(a, b, c, i, j0, k, n);
            }
            for (; i < r1; i++) row(a, b, c, i, j0, width, k, n);
        }
    }

    private static void tile4x4(float[] a, float[] b, float[] c, int i, int j0, int k, int n) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        for (int l = 0; l < k; l++) {
            int bo = l * n + j0;
            FloatVector b0 = FloatVector.fromArray(F, b, bo);
            FloatVector b1 = FloatVector.fromArray(F, b, bo + FL);
            FloatVector b2 = FloatVector.fromArray(F, b, bo + 2 * FL);
            FloatVector b3 = FloatVector.fromArray(F, b, bo + 3 * FL);
            FloatVector x = FloatVector.broadcast(F, a[a0 + l]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(F, a[a1 + l]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(F, a[a2 + l]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(F, a[a3 + l]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
        }
        int o = i * n + j0;
        c00.intoArray(c, o); c01.intoArray(c, o + FL); c02.intoArray(c, o + 2 * FL); c03.intoArray(c, o + 3 * FL);
        o += n;
        c10.intoArray(c, o); c11.intoArray(c, o + FL); c12.intoArray(c, o + 2 * FL); c13.intoArray(c, o + 3 * FL);
        o += n;
        c20.intoArray(c, o); c21.intoArray(c, o + FL); c22.intoArray(c, o + 2 * FL); c23.intoArray(c, o + 3 * FL);
        o += n;
        c30.intoArray(c, o); c31.intoArray(c, o + FL); c32.intoArray(c, o + 2 * FL); c33.intoArray(c, o + 3 * FL);
    }

    /** One row of C over columns [j0, j0 + width), masked at the right edge. */
    private static void row(float[] a, float[] b, float[] c, int i, int j0, int width, int k, int n) {
        for (int j = j0; j < j0 + width; j += FL) {
            VectorMask<Float> mask = F.indexInRange(j, n);
            FloatVector acc = FloatVector.zero(F);
            for (int l = 0; l < k; l++) {
                acc = FloatVector.broadcast(F, a[i * k + l]).fma(FloatVector.fromArray(F, b, l * n + j, mask), acc);
            }
            acc.intoArray(c, i * n + j, mask);
        }
    }

    /** Row-major transpose of an m×n float matrix. */
    static float[] transpose(float[] a, int m, int n) {
        float[] t = new float[a.length];
        int bs = 32;
        for (int i0 = 0; i0 < m; i0 += bs) {
            for (int j0 = 0; j0 < n; j0 += bs) {
                int i1 = Math.min(m, i0 + bs), j1 = Math.min(n, j0 + bs);
                for (int i = i0; i < i1; i++) {
                    for (int j = j0; j < j1; j++) t[j * m + i] = a[i * n + j];
                }
            }
        }
        return t;
    }

    /** G = XᵀX (q×q, double) for X p×q row-major: the double GEMM of Xᵀ and X. */
    static double[][] gram(double[] x, int p, int q) {
        double[] xt = new double[x.length];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < q; j++) xt[j * p + i] = x[i * q + j];
        }
        double[] g = gemm(xt, x, q, p, q);
        double[][] rows = new double[q][];
        for (int i = 0; i < q; i++) rows[i] = java.util.Arrays.copyOfRange(g, i * q, (i + 1) * q);
        // Exactly symmetric (the two halves are summed in the same order, but make it explicit).
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < i; j++) rows[i][j] = rows[j][i];
        }
        return rows;
    }

    /** C (m×n) = A (m×k) · B (k×n), row-major double. */
    static double[] gemm(double[] a, double[] b, int m, int k, int n) {
        double[] c = new double[m * n];
        int rowChunk = 32;
        int chunks = (m + rowChunk - 1) / rowChunk;
        if ((long) m * n * k < 1L << 17) {
            gemmRows(a, b, c, 0, m, k, n);
        } else {
            parallelFor(chunks, ch -> gemmRows(a, b, c, ch * rowChunk, Math.min(m, (ch + 1) * rowChunk), k, n));
        }
        return c;
    }

    private static void gemmRows(double[] a, double[] b, double[] c, int r0, int r1, int k, int n) {
        int panel = 4 * DL;
        for (int j0 = 0; j0 < n; j0 += panel) {
            int width = Math.min(panel, n - j0);
            int i = r0;
            if (width == panel) {
                for (; i + 4 <= r1; i += 4) tile4x4(a, b, c, i, j0, k, n);
            }
            for (; i < r1; i++) row(a, b, c, i, j0, width, k, n);
        }
    }

    private static void tile4x4(double[] a, double[] b, double[] c, int i, int j0, int k, int n) {
        DoubleVector c00 = DoubleVector.zero(D), c01 = c00, c02 = c00, c03 = c00;
        DoubleVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        DoubleVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        DoubleVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        for (int l = 0; l < k; l++) {
            int bo = l * n + j0;
            DoubleVector b0 = DoubleVector.fromArray(D, b, bo);
            DoubleVector b1 = DoubleVector.fromArray(D, b, bo + DL);
            DoubleVector b2 = DoubleVector.fromArray(D, b, bo + 2 * DL);
            DoubleVector b3 = DoubleVector.fromArray(D, b, bo + 3 * DL);
            DoubleVector x = DoubleVector.broadcast(D, a[a0 + l]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = DoubleVector.broadcast(D, a[a1 + l]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = DoubleVector.broadcast(D, a[a2 + l]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = DoubleVector.broadcast(D, a[a3 + l]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
        }
        int o = i * n + j0;
        c00.intoArray(c, o); c01.intoArray(c, o + DL); c02.intoArray(c, o + 2 * DL); c03.intoArray(c, o + 3 * DL);
        o += n;
        c10.intoArray(c, o); c11.intoArray(c, o + DL); c12.intoArray(c, o + 2 * DL); c13.intoArray(c, o + 3 * DL);
        o += n;
        c20.intoArray(c, o); c21.intoArray(c, o + DL); c22.intoArray(c, o + 2 * DL); c23.intoArray(c, o + 3 * DL);
        o += n;
        c30.intoArray(c, o); c31.intoArray(c, o + DL); c32.intoArray(c, o + 2 * DL); c33.intoArray(c, o + 3 * DL);
    }

    private static void row(double[] a, double[] b, double[] c, int i, int j0, int width, int k, int n) {
        for (int j = j0; j < j0 + width; j += DL) {
            VectorMask<Double> mask = D.indexInRange(j, n);
            DoubleVector acc = DoubleVector.zero(D);
            for (int l = 0; l < k; l++) {
                acc = DoubleVector.broadcast(D, a[i * k + l]).fma(DoubleVector.fromArray(D, b, l * n + j, mask), acc);
            }
            acc.intoArray(c, i * n + j, mask);
        }
    }

    static double dot(double[] x, double[] y, int len) {
        return dot(x, 0, y, 0, len);
    }

    static double dot(double[] x, int xo, double[] y, int yo, int len) {
        DoubleVector acc = DoubleVector.zero(D);
        int i = 0, bound = D.loopBound(len);
        for (; i < bound; i += DL) acc = DoubleVector.fromArray(D, x, xo + i).fma(DoubleVector.fromArray(D, y, yo + i), acc);
        double s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < len; i++) s += x[xo + i] * y[yo + i];
        return s;
    }

    /** y[yo..] += f·x[xo..] over len elements. */
    static void axpy(double f, double[] x, int xo, double[] y, int yo, int len) {
        DoubleVector fv = DoubleVector.broadcast(D, f);
        int i = 0, bound = D.loopBound(len);
        for (; i < bound; i += DL) {
            fv.fma(DoubleVector.fromArray(D, x, xo + i), DoubleVector.fromArray(D, y, yo + i)).intoArray(y, yo + i);
        }
        for (; i < len; i++) y[yo + i] += f * x[xo + i];
    }

    /** y[o..] −= f·u[o..] + h·v[o..] over len elements (the symmetric rank-2 update of one row). */
    static void rank2Row(double[] y, int o, double f, double[] u, double h, double[] v, int vo, int len) {
        DoubleVector fv = DoubleVector.broadcast(D, -f), hv = DoubleVector.broadcast(D, -h);
        int i = 0, bound = D.loopBound(len);
        for (; i < bound; i += DL) {
            DoubleVector acc = DoubleVector.fromArray(D, y, o + i);
            acc = fv.fma(DoubleVector.fromArray(D, u, vo + i), acc);
            acc = hv.fma(DoubleVector.fromArray(D, v, vo + i), acc);
            acc.intoArray(y, o + i);
        }
        for (; i < len; i++) y[o + i] -= f * u[vo + i] + h * v[vo + i];
    }

    /** Plane rotation of two rows: x ← c·x − s·y, y ← s·x + c·y. */
    static void rotate(double[] x, double[] y, double c, double s, int len) {
        DoubleVector cv = DoubleVector.broadcast(D, c), sv = DoubleVector.broadcast(D, s), nsv = DoubleVector.broadcast(D, -s);
        int i = 0, bound = D.loopBound(len);
        for (; i < bound; i += DL) {
            DoubleVector xv = DoubleVector.fromArray(D, x, i), yv = DoubleVector.fromArray(D, y, i);
            nsv.fma(yv, cv.mul(xv)).intoArray(x, i);
            sv.fma(xv, cv.mul(yv)).intoArray(y, i);
        }
        for (; i < len; i++) {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }
}

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
 * <p>Implementation notes. GEMM keeps an 8-row × 3-vector tile of C in 24 registers (AVX-512
 * has 32) and streams a 3·L-column panel of B (L = lanes of the preferred shape) in blocks of
 * {@link #KC} rows, so the panel stays in L1/L2 while eight rows of A are broadcast against it;
 * the first k block sets C, later ones add. Rows are split into chunks run on the fork/join pool
 * (inline when already inside it, so batched SVDs that run one matrix per worker do not
 * oversubscribe). FMA is used freely: SVD results are compared with tolerances, never bit for
 * bit (§1.10). The double GEMM (same tile, double lanes, strided views, set/add/subtract,
 * optionally one triangle only) computes Gram matrices XᵀX and the blocked updates of
 * {@link SymmetricEigen}.
 */
final class DenseKernels {

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int FL = F.length();
    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final int DL = D.length();

    private DenseKernels() {
    }

    static int parallelism() {
        return CpuPools.current().getParallelism();
    }

    /** Whether the caller is one of the pool's workers (work submitted from there runs inline). */
    static boolean insidePool() {
        return ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == CpuPools.current();
    }

    /** Runs body(0..count−1) on the pool, or inline when called from one of its workers or for one task. */
    static void parallelFor(int count, IntConsumer body) {
        if (count <= 1 || insidePool()) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        ForkJoinPool pool = CpuPools.current();
        pool.invoke(new Range(0, count, pool, body));
    }

    private static final class Range extends RecursiveAction {
        private final int from, to;
        private final ForkJoinPool pool;
        private final IntConsumer body;

        Range(int from, int to, ForkJoinPool pool, IntConsumer body) {
            this.from = from;
            this.to = to;
            this.pool = pool;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                CpuPools.bound(pool, () -> body.accept(from)).run();
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(from, mid, pool, body), new Range(mid, to, pool, body));
        }
    }

    /** Rows of C per parallel chunk, k per cache block (a 3-vector B panel of KC rows stays in L1/L2). */
    private static final int ROW_CHUNK = 64, KC = 256;

    /** C (m×n) = A (m×k) · B (k×n), row-major float32. */
    static float[] gemm(float[] a, float[] b, int m, int k, int n) {
        float[] c = new float[m * n];
        if (m == 0 || n == 0) return c;
        int chunks = (m + ROW_CHUNK - 1) / ROW_CHUNK;
        if ((long) m * n * k < 1L << 18) {
            gemmRows(a, b, c, 0, m, k, n);
        } else {
            parallelFor(chunks, ch -> gemmRows(a, b, c, ch * ROW_CHUNK, Math.min(m, (ch + 1) * ROW_CHUNK), k, n));
        }
        return c;
    }

    private static void gemmRows(float[] a, float[] b, float[] c, int r0, int r1, int k, int n) {
        int panel = 3 * FL;
        for (int k0 = 0; k0 < Math.max(k, 1); k0 += KC) {
            int k1 = Math.min(k, k0 + KC), mode = k0 == 0 ? SET : ADD;
            for (int j0 = 0; j0 < n; j0 += panel) {
                int width = Math.min(panel, n - j0);
                int i = r0;
                if (width == panel) {
                    for (; i + 8 <= r1; i += 8) tile8x3(a, 0, k, b, 0, n, c, 0, n, i, j0, k0, k1, mode);
                }
                for (; i < r1; i++) row(a, b, c, i, j0, width, k0, k1, k, n, mode);
            }
        }
    }

    /** C[8 rows × 3 vectors at (i, j0)] (mode) A[i.., k0..k1)·B[k0..k1, j0..]: 24 accumulators in registers. */
    private static void tile8x3(float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc,
            int i, int j0, int k0, int k1, int mode) {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c02 = c00;
        FloatVector c10 = FloatVector.zero(F), c11 = c10, c12 = c10;
        FloatVector c20 = FloatVector.zero(F), c21 = c20, c22 = c20;
        FloatVector c30 = FloatVector.zero(F), c31 = c30, c32 = c30;
        FloatVector c40 = FloatVector.zero(F), c41 = c40, c42 = c40;
        FloatVector c50 = FloatVector.zero(F), c51 = c50, c52 = c50;
        FloatVector c60 = FloatVector.zero(F), c61 = c60, c62 = c60;
        FloatVector c70 = FloatVector.zero(F), c71 = c70, c72 = c70;
        int a0 = aOff + i * lda;
        for (int l = k0; l < k1; l++) {
            int bo = bOff + l * ldb + j0;
            FloatVector b0 = FloatVector.fromArray(F, b, bo), b1 = FloatVector.fromArray(F, b, bo + FL), b2 = FloatVector.fromArray(F, b, bo + 2 * FL);
            FloatVector x;
            x = FloatVector.broadcast(F, a[a0 + l]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = FloatVector.broadcast(F, a[a0 + lda + l]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = FloatVector.broadcast(F, a[a0 + 2 * lda + l]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = FloatVector.broadcast(F, a[a0 + 3 * lda + l]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
            x = FloatVector.broadcast(F, a[a0 + 4 * lda + l]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42);
            x = FloatVector.broadcast(F, a[a0 + 5 * lda + l]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52);
            x = FloatVector.broadcast(F, a[a0 + 6 * lda + l]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61); c62 = x.fma(b2, c62);
            x = FloatVector.broadcast(F, a[a0 + 7 * lda + l]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71); c72 = x.fma(b2, c72);
        }
        int o = cOff + i * ldc + j0;
        store(c, o, c00, mode); store(c, o + FL, c01, mode); store(c, o + 2 * FL, c02, mode);
        o += ldc;
        store(c, o, c10, mode); store(c, o + FL, c11, mode); store(c, o + 2 * FL, c12, mode);
        o += ldc;
        store(c, o, c20, mode); store(c, o + FL, c21, mode); store(c, o + 2 * FL, c22, mode);
        o += ldc;
        store(c, o, c30, mode); store(c, o + FL, c31, mode); store(c, o + 2 * FL, c32, mode);
        o += ldc;
        store(c, o, c40, mode); store(c, o + FL, c41, mode); store(c, o + 2 * FL, c42, mode);
        o += ldc;
        store(c, o, c50, mode); store(c, o + FL, c51, mode); store(c, o + 2 * FL, c52, mode);
        o += ldc;
        store(c, o, c60, mode); store(c, o + FL, c61, mode); store(c, o + 2 * FL, c62, mode);
        o += ldc;
        store(c, o, c70, mode); store(c, o + FL, c71, mode); store(c, o + 2 * FL, c72, mode);
    }

    private static void store(float[] c, int o, FloatVector x, int mode) {
        if (mode == ADD) x = FloatVector.fromArray(F, c, o).add(x);
        else if (mode == SUBTRACT) x = FloatVector.fromArray(F, c, o).sub(x);
        x.intoArray(c, o);
    }

    /** One row of C over columns [j0, j0 + width), masked at the right edge. */
    private static void row(float[] a, float[] b, float[] c, int i, int j0, int width, int k0, int k1, int k, int n, int mode) {
        for (int j = j0; j < j0 + width; j += FL) {
            VectorMask<Float> mask = F.indexInRange(j, n);
            FloatVector acc = FloatVector.zero(F);
            for (int l = k0; l < k1; l++) {
                acc = FloatVector.broadcast(F, a[i * k + l]).fma(FloatVector.fromArray(F, b, l * n + j, mask), acc);
            }
            if (mode == ADD) acc = FloatVector.fromArray(F, c, i * n + j, mask).add(acc);
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

    /** G = XᵀX (q×q, double) for X p×q row-major, as rows. */
    static double[][] gram(double[] x, int p, int q) {
        double[] g = gramFlat(x, p, q);
        double[][] rows = new double[q][];
        for (int i = 0; i < q; i++) rows[i] = java.util.Arrays.copyOfRange(g, i * q, (i + 1) * q);
        return rows;
    }

    /** G = XᵀX (q×q row-major, exactly symmetric) for X p×q row-major: the double GEMM of Xᵀ and X. */
    static double[] gramFlat(double[] x, int p, int q) {
        double[] xt = transpose(x, p, q);
        double[] g = new double[q * q];
        gemm(xt, 0, p, x, 0, q, g, 0, q, q, p, q, SET | UPPER); // the upper triangle, mirrored below
        for (int i = 0; i < q; i++) {
            for (int j = 0; j < i; j++) g[i * q + j] = g[j * q + i];
        }
        return g;
    }

    /** Row-major transpose of an m×n double matrix. */
    static double[] transpose(double[] a, int m, int n) {
        double[] t = new double[a.length];
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

    /** How {@link #gemm(double[], int, int, double[], int, int, double[], int, int, int, int, int, int)} writes C. */
    static final int SET = 0, ADD = 1, SUBTRACT = 2;
    /**
     * Flags for square C: compute only the column panels that meet the upper (j ≥ i) or lower
     * (j ≤ i) triangle; entries of the other triangle near the diagonal may be written too.
     */
    static final int UPPER = 4, LOWER = 8;

    /** C (m×n) = A (m×k) · B (k×n), row-major double. */
    static double[] gemm(double[] a, double[] b, int m, int k, int n) {
        double[] c = new double[m * n];
        gemm(a, 0, k, b, 0, n, c, 0, n, m, k, n, SET);
        return c;
    }

    /**
     * C = A·B, C += A·B or C −= A·B ({@code mode}, optionally | {@link #UPPER} or {@link #LOWER})
     * on strided row-major views: element (i, j) of A is {@code a[aOff + i·lda + j]}, likewise B
     * and C. Rows of C are split over the pool.
     */
    static void gemm(double[] a, int aOff, int lda, double[] b, int bOff, int ldb, double[] c, int cOff, int ldc,
            int m, int k, int n, int mode) {
        if (m == 0 || n == 0) return;
        int chunks = (m + ROW_CHUNK - 1) / ROW_CHUNK;
        if ((long) m * n * k < 1L << 17) {
            gemmRows(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, 0, m, k, n, mode);
        } else {
            parallelFor(chunks, ch -> gemmRows(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, ch * ROW_CHUNK,
                    Math.min(m, (ch + 1) * ROW_CHUNK), k, n, mode));
        }
    }

    private static void gemmRows(double[] a, int aOff, int lda, double[] b, int bOff, int ldb, double[] c, int cOff,
            int ldc, int r0, int r1, int k, int n, int flags) {
        int panel = 3 * DL, mode = flags & 3;
        int from = (flags & UPPER) != 0 ? r0 / panel * panel : 0;
        int to = (flags & LOWER) != 0 ? Math.min(n, r1) : n;
        for (int k0 = 0; k0 < Math.max(k, 1); k0 += KC) {
            int k1 = Math.min(k, k0 + KC), blockMode = k0 == 0 || mode == SUBTRACT ? mode : ADD;
            for (int j0 = from; j0 < to; j0 += panel) {
                int width = Math.min(panel, n - j0);
                int i = r0;
                if (width == panel) {
                    for (; i + 8 <= r1; i += 8) tile8x3(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, i, j0, k0, k1, blockMode);
                }
                for (; i < r1; i++) row(a, aOff, lda, b, bOff, ldb, c, cOff, ldc, i, j0, width, k0, k1, n, blockMode);
            }
        }
    }

    /** C[8 rows × 3 vectors at (i, j0)] (mode) A[i.., k0..k1)·B[k0..k1, j0..]: 24 accumulators in registers. */
    private static void tile8x3(double[] a, int aOff, int lda, double[] b, int bOff, int ldb, double[] c, int cOff, int ldc,
            int i, int j0, int k0, int k1, int mode) {
        DoubleVector c00 = DoubleVector.zero(D), c01 = c00, c02 = c00;
        DoubleVector c10 = DoubleVector.zero(D), c11 = c10, c12 = c10;
        DoubleVector c20 = DoubleVector.zero(D), c21 = c20, c22 = c20;
        DoubleVector c30 = DoubleVector.zero(D), c31 = c30, c32 = c30;
        DoubleVector c40 = DoubleVector.zero(D), c41 = c40, c42 = c40;
        DoubleVector c50 = DoubleVector.zero(D), c51 = c50, c52 = c50;
        DoubleVector c60 = DoubleVector.zero(D), c61 = c60, c62 = c60;
        DoubleVector c70 = DoubleVector.zero(D), c71 = c70, c72 = c70;
        int a0 = aOff + i * lda;
        for (int l = k0; l < k1; l++) {
            int bo = bOff + l * ldb + j0;
            DoubleVector b0 = DoubleVector.fromArray(D, b, bo), b1 = DoubleVector.fromArray(D, b, bo + DL), b2 = DoubleVector.fromArray(D, b, bo + 2 * DL);
            DoubleVector x;
            x = DoubleVector.broadcast(D, a[a0 + l]); c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02);
            x = DoubleVector.broadcast(D, a[a0 + lda + l]); c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12);
            x = DoubleVector.broadcast(D, a[a0 + 2 * lda + l]); c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22);
            x = DoubleVector.broadcast(D, a[a0 + 3 * lda + l]); c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32);
            x = DoubleVector.broadcast(D, a[a0 + 4 * lda + l]); c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42);
            x = DoubleVector.broadcast(D, a[a0 + 5 * lda + l]); c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52);
            x = DoubleVector.broadcast(D, a[a0 + 6 * lda + l]); c60 = x.fma(b0, c60); c61 = x.fma(b1, c61); c62 = x.fma(b2, c62);
            x = DoubleVector.broadcast(D, a[a0 + 7 * lda + l]); c70 = x.fma(b0, c70); c71 = x.fma(b1, c71); c72 = x.fma(b2, c72);
        }
        int o = cOff + i * ldc + j0;
        store(c, o, c00, mode); store(c, o + DL, c01, mode); store(c, o + 2 * DL, c02, mode);
        o += ldc;
        store(c, o, c10, mode); store(c, o + DL, c11, mode); store(c, o + 2 * DL, c12, mode);
        o += ldc;
        store(c, o, c20, mode); store(c, o + DL, c21, mode); store(c, o + 2 * DL, c22, mode);
        o += ldc;
        store(c, o, c30, mode); store(c, o + DL, c31, mode); store(c, o + 2 * DL, c32, mode);
        o += ldc;
        store(c, o, c40, mode); store(c, o + DL, c41, mode); store(c, o + 2 * DL, c42, mode);
        o += ldc;
        store(c, o, c50, mode); store(c, o + DL, c51, mode); store(c, o + 2 * DL, c52, mode);
        o += ldc;
        store(c, o, c60, mode); store(c, o + DL, c61, mode); store(c, o + 2 * DL, c62, mode);
        o += ldc;
        store(c, o, c70, mode); store(c, o + DL, c71, mode); store(c, o + 2 * DL, c72, mode);
    }

    private static void store(double[] c, int o, DoubleVector x, int mode) {
        if (mode == ADD) x = DoubleVector.fromArray(D, c, o).add(x);
        else if (mode == SUBTRACT) x = DoubleVector.fromArray(D, c, o).sub(x);
        x.intoArray(c, o);
    }

    private static void row(double[] a, int aOff, int lda, double[] b, int bOff, int ldb, double[] c, int cOff, int ldc,
            int i, int j0, int width, int k0, int k1, int n, int mode) {
        for (int j = j0; j < j0 + width; j += DL) {
            VectorMask<Double> mask = D.indexInRange(j, n);
            DoubleVector acc = DoubleVector.zero(D);
            for (int l = k0; l < k1; l++) {
                acc = DoubleVector.broadcast(D, a[aOff + i * lda + l])
                        .fma(DoubleVector.fromArray(D, b, bOff + l * ldb + j, mask), acc);
            }
            int o = cOff + i * ldc + j;
            if (mode == ADD) acc = DoubleVector.fromArray(D, c, o, mask).add(acc);
            else if (mode == SUBTRACT) acc = DoubleVector.fromArray(D, c, o, mask).sub(acc);
            acc.intoArray(c, o, mask);
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

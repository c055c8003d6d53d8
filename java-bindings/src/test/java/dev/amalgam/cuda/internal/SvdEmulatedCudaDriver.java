package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.amalgam.cuda.internal.SvdLayouts.SgemmArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdEmitArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdIdentityArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdJacobiArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdNormalizeArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdOrderArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdPrepareArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdScanArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdStatus;
import dev.amalgam.cuda.internal.SvdLayouts.SvdSweepArgs;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The fake driver plus a sequential Java emulation of the SVD kernels of svd.cu, reading the same
 * argument blocks and device buffers. It runs CudaSvdKernels end to end on the host (layouts,
 * chunking, the launch sequence, the host completion) against the SVD contract. It mirrors the
 * kernels statement by statement — the same rotations, the same parallel orderings (the pairs of
 * a step are disjoint, so running them one after another is equivalent), float32 storage with
 * fused multiply-adds — but sums in index order rather than in the GPU's reduction trees, so it
 * is not bit-identical to the device; it does not prove the CUDA code right: the GPU run does.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public final class SvdEmulatedCudaDriver extends FakeCudaDriver {

    private static final int W = SvdLayouts.BLOCK_WIDTH, PAIR = 2 * W;
    private final Map<Long, String> functions = new HashMap<>();
    /** Launches per kernel name. */
    public final Map<String, Integer> launches = new TreeMap<>();

    @Override
    public int cuModuleGetFunction(long[] function, long module, String name) {
        int rc = super.cuModuleGetFunction(function, module, name);
        functions.put(function[0], name);
        return rc;
    }

    @Override
    public int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                              int sharedMemBytes, long stream, MemorySegment args) {
        int rc = super.cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream, args);
        if (rc != 0) return rc;
        String name = functions.get(function);
        if (blockX != SvdLayouts.THREADS || blockY != 1 || gridZ != 1) throw new IllegalStateException(name + ": block " + blockX);
        if (sharedMemBytes > JacobiShape.DEFAULT_SHARED_LIMIT) throw new IllegalStateException(name + ": " + sharedMemBytes + " B shared");
        launches.merge(name, 1, Integer::sum);
        switch (name) {
            case "amalgam_svd_scan" -> scan(args, gridY);
            case "amalgam_svd_prepare" -> prepare(args, gridY);
            case "amalgam_svd_identity" -> identity(args, gridY);
            case "amalgam_svd_jacobi_shared" -> jacobiShared(args, gridY, sharedMemBytes);
            case "amalgam_svd_block_step" -> blockStep(args, gridX, gridY);
            case "amalgam_svd_sweep_end" -> sweepEnd(args);
            case "amalgam_svd_normalize" -> normalize(args, gridX, gridY);
            case "amalgam_svd_order" -> order(args, gridY);
            case "amalgam_svd_emit" -> emit(args, gridY);
            case "amalgam_sgemm" -> sgemm(args, gridX, gridY);
            default -> throw new IllegalStateException("unknown kernel " + name);
        }
        return 0;
    }

    private MemorySegment mem(long address) {
        return at(address, 1).reinterpret(Long.MAX_VALUE);  // kernels stay inside their buffers
    }

    // ---- pre-processing ----

    private void scan(MemorySegment a, int matrices) {
        MemorySegment in = mem(a.get(JAVA_LONG, SvdScanArgs.INPUT)), keys = mem(a.get(JAVA_LONG, SvdScanArgs.MAX_KEYS));
        long elements = a.get(JAVA_LONG, SvdScanArgs.ELEMENTS);
        for (int mat = 0; mat < matrices; mat++) {
            int key = 0;
            for (long i = 0; i < elements; i++) {
                int k = Float.floatToRawIntBits(in.getAtIndex(JAVA_FLOAT, mat * elements + i)) & 0x7FFFFFFF;
                key = Integer.compareUnsigned(k, key) > 0 ? k : key;
            }
            int out = Integer.compareUnsigned(key, 0x7F800000) > 0 ? 0x7FC00000 : key;
            int old = keys.getAtIndex(JAVA_INT, mat);
            keys.setAtIndex(JAVA_INT, mat, Integer.compareUnsigned(out, old) > 0 ? out : old);
        }
    }

    /** frexp's exponent: x = f·2^e with f in [0.5, 1). */
    static int frexpExponent(float x) {
        return x == 0 ? 0 : Math.getExponent((double) x) + 1;
    }

    private void prepare(MemorySegment a, int matrices) {
        MemorySegment in = mem(a.get(JAVA_LONG, SvdPrepareArgs.INPUT)), out = mem(a.get(JAVA_LONG, SvdPrepareArgs.OUTPUT));
        MemorySegment keys = mem(a.get(JAVA_LONG, SvdPrepareArgs.MAX_KEYS)), exps = mem(a.get(JAVA_LONG, SvdPrepareArgs.EXPONENTS));
        int rows = a.get(JAVA_INT, SvdPrepareArgs.ROWS), cols = a.get(JAVA_INT, SvdPrepareArgs.COLS);
        boolean transpose = a.get(JAVA_INT, SvdPrepareArgs.TRANSPOSE) != 0;
        for (int mat = 0; mat < matrices; mat++) {
            int e = frexpExponent(Float.intBitsToFloat(keys.getAtIndex(JAVA_INT, mat)));
            double factor = Math.scalb(1.0, -e);
            exps.setAtIndex(JAVA_INT, mat, e);
            long base = (long) mat * rows * cols;
            float[] scaled = new float[rows * cols];
            for (int i = 0; i < scaled.length; i++) scaled[i] = (float) (in.getAtIndex(JAVA_FLOAT, base + i) * factor);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    long dst = transpose ? (long) j * rows + i : (long) i * cols + j;
                    out.setAtIndex(JAVA_FLOAT, base + dst, scaled[i * cols + j]);
                }
            }
        }
    }

    private void identity(MemorySegment a, int matrices) {
        MemorySegment v = mem(a.get(JAVA_LONG, SvdIdentityArgs.V));
        int q = a.get(JAVA_INT, SvdIdentityArgs.Q);
        for (long i = 0; i < (long) matrices * q * q; i++) {
            long e = i % ((long) q * q);
            v.setAtIndex(JAVA_FLOAT, i, e / q == e % q ? 1f : 0f);
        }
    }

    // ---- Jacobi ----

    /** __double2float_ru. */
    static float roundUp(double x) {
        float f = (float) x;
        return f < x ? Math.nextUp(f) : f;
    }

    /** jacobi_rotation(α, β, γ) → {c, s}. */
    static double[] rotation(double alpha, double beta, double gamma) {
        double zeta = (beta - alpha) / (2.0 * gamma);
        double t = 1.0;
        if (zeta != 0.0) t = Math.copySign(1.0, zeta) / (Math.abs(zeta) + Math.sqrt(Math.fma(zeta, zeta, 1.0)));
        double c = 1.0 / Math.sqrt(Math.fma(t, t, 1.0));
        return new double[] {c, c * t};
    }

    private static void rotate(float[] m, int i, int j, int len, float c, float s) {
        for (int r = 0; r < len; r++) {
            float x = m[i * len + r], y = m[j * len + r];
            m[i * len + r] = Math.fma(c, x, -(s * y));
            m[j * len + r] = Math.fma(s, x, c * y);
        }
    }

    private void jacobiShared(MemorySegment a, int matrices, int sharedBytes) {
        MemorySegment work = mem(a.get(JAVA_LONG, SvdJacobiArgs.WORK)), vm = mem(a.get(JAVA_LONG, SvdJacobiArgs.V));
        MemorySegment status = mem(a.get(JAVA_LONG, SvdJacobiArgs.STATUS));
        int p = a.get(JAVA_INT, SvdJacobiArgs.P), q = a.get(JAVA_INT, SvdJacobiArgs.Q);
        int maxSweeps = a.get(JAVA_INT, SvdJacobiArgs.MAX_SWEEPS);
        double tol = a.get(JAVA_FLOAT, SvdJacobiArgs.TOLERANCE);
        if (sharedBytes != 4 * (p * q + q * q)) throw new IllegalStateException("jacobi_shared: " + sharedBytes + " B for " + p + "×" + q);
        int players = RoundRobin.players(q);
        for (int mat = 0; mat < matrices; mat++) {
            float[] b = new float[p * q], v = new float[q * q];
            MemorySegment.copy(work, JAVA_FLOAT, 4L * mat * p * q, b, 0, p * q);
            for (int i = 0; i < q; i++) v[i * q + i] = 1f;
            int sweeps = 0, converged = 0;
            float off = 0;
            while (sweeps < maxSweeps) {
                float seen = 0;
                boolean rotated = false;
                for (int step = 0; step + 1 < players; step++) {
                    for (int k = 0; k < players / 2; k++) {
                        int[] pr = RoundRobin.pair(players, step, k);
                        int i = pr[0], j = pr[1];
                        if (j >= q) continue;
                        double alpha = 0, beta = 0, gamma = 0;
                        for (int r = 0; r < p; r++) {
                            double x = b[i * p + r], y = b[j * p + r];
                            alpha = Math.fma(x, x, alpha);
                            beta = Math.fma(y, y, beta);
                            gamma = Math.fma(x, y, gamma);
                        }
                        if (alpha == 0 || beta == 0 || gamma == 0) continue;
                        double cosine = Math.abs(gamma) / Math.sqrt(alpha * beta);
                        seen = Math.max(seen, roundUp(cosine));
                        if (cosine <= tol) continue;
                        rotated = true;
                        double[] cs = rotation(alpha, beta, gamma);
                        rotate(b, i, j, p, (float) cs[0], (float) cs[1]);
                        rotate(v, i, j, q, (float) cs[0], (float) cs[1]);
                    }
                }
                sweeps++;
                off = seen;
                if (!rotated) {
                    converged = 1;
                    break;
                }
            }
            MemorySegment.copy(b, 0, work, JAVA_FLOAT, 4L * mat * p * q, p * q);
            MemorySegment.copy(v, 0, vm, JAVA_FLOAT, 4L * mat * q * q, q * q);
            long st = (long) mat * SvdStatus.SIZE;
            status.set(JAVA_INT, st + SvdStatus.SWEEPS, sweeps);
            status.set(JAVA_INT, st + SvdStatus.CONVERGED, converged);
            status.set(JAVA_FLOAT, st + SvdStatus.OFF, off);
            status.set(JAVA_INT, st + SvdStatus.RUNNING, 0);
        }
    }

    private void blockStep(MemorySegment a, int pairs, int matrices) {
        MemorySegment work = mem(a.get(JAVA_LONG, SvdJacobiArgs.WORK)), vm = mem(a.get(JAVA_LONG, SvdJacobiArgs.V));
        MemorySegment status = mem(a.get(JAVA_LONG, SvdJacobiArgs.STATUS));
        int p = a.get(JAVA_INT, SvdJacobiArgs.P), q = a.get(JAVA_INT, SvdJacobiArgs.Q);
        int maxSweeps = a.get(JAVA_INT, SvdJacobiArgs.MAX_SWEEPS), step = a.get(JAVA_INT, SvdJacobiArgs.STEP);
        float tol = a.get(JAVA_FLOAT, SvdJacobiArgs.TOLERANCE);
        int blocks = (q + W - 1) / W;
        if (pairs != RoundRobin.players(blocks) / 2) throw new IllegalStateException("block_step: grid.x " + pairs + " for " + blocks + " blocks");
        for (int mat = 0; mat < matrices; mat++) {
            long st = (long) mat * SvdStatus.SIZE;
            if (status.get(JAVA_INT, st + SvdStatus.CONVERGED) != 0 || status.get(JAVA_INT, st + SvdStatus.SWEEPS) >= maxSweeps) continue;
            long wBase = (long) mat * p * q, vBase = (long) mat * q * q;
            for (int x = 0; x < pairs; x++) {
                int[] bp = RoundRobin.pair(RoundRobin.players(blocks), step, x);
                int firstI = bp[0] * W, firstJ = bp[1] * W - W;
                int[] col = new int[PAIR];
                for (int s = 0; s < PAIR; s++) col[s] = (s < W ? firstI : firstJ) + s;
                double[][] g = new double[PAIR][PAIR];
                for (int r = 0; r < p; r++) {
                    for (int s = 0; s < PAIR; s++) {
                        if (col[s] >= q) continue;
                        double xs = work.getAtIndex(JAVA_FLOAT, wBase + (long) col[s] * p + r);
                        for (int t = 0; t < PAIR; t++) {
                            if (col[t] >= q) continue;
                            g[s][t] = Math.fma(xs, (double) work.getAtIndex(JAVA_FLOAT, wBase + (long) col[t] * p + r), g[s][t]);
                        }
                    }
                }
                float worst = 0;
                for (int i = 0; i < PAIR; i++) {
                    for (int j = i + 1; j < PAIR; j++) {
                        if (g[i][i] > 0 && g[j][j] > 0 && g[i][j] != 0) worst = Math.max(worst, roundUp(Math.abs(g[i][j]) / Math.sqrt(g[i][i] * g[j][j])));
                    }
                }
                float running = status.get(JAVA_FLOAT, st + SvdStatus.RUNNING);
                status.set(JAVA_FLOAT, st + SvdStatus.RUNNING, Math.max(running, worst));
                if (!(worst > tol)) continue;
                double[][] rot = new double[PAIR][PAIR];
                for (int i = 0; i < PAIR; i++) rot[i][i] = 1;
                for (int sweep = 0; sweep < SvdLayouts.INNER_SWEEPS; sweep++) {
                    boolean any = false;
                    for (int s2 = 0; s2 + 1 < PAIR; s2++) {
                        double[][] cs = new double[W][];
                        for (int k = 0; k < W; k++) {
                            int[] pr = RoundRobin.pair(PAIR, s2, k);
                            double ga = g[pr[0]][pr[0]], gb = g[pr[1]][pr[1]], gy = g[pr[0]][pr[1]];
                            cs[k] = new double[] {1, 0};
                            if (ga > 0 && gb > 0 && Math.abs(gy) > 1e-13 * Math.sqrt(ga * gb)) {
                                cs[k] = rotation(ga, gb, gy);
                                any = true;
                            }
                        }
                        for (int k = 0; k < W; k++) {
                            double c = cs[k][0], s = cs[k][1];
                            if (s == 0) continue;
                            int[] pr = RoundRobin.pair(PAIR, s2, k);
                            for (int t = 0; t < PAIR; t++) {
                                double u = g[pr[0]][t], w = g[pr[1]][t];
                                g[pr[0]][t] = Math.fma(c, u, -s * w);
                                g[pr[1]][t] = Math.fma(s, u, c * w);
                            }
                        }
                        for (int k = 0; k < W; k++) {
                            double c = cs[k][0], s = cs[k][1];
                            if (s == 0) continue;
                            int[] pr = RoundRobin.pair(PAIR, s2, k);
                            for (int t = 0; t < PAIR; t++) {
                                double u = g[t][pr[0]], w = g[t][pr[1]];
                                g[t][pr[0]] = Math.fma(c, u, -s * w);
                                g[t][pr[1]] = Math.fma(s, u, c * w);
                                double ru = rot[t][pr[0]], rw = rot[t][pr[1]];
                                rot[t][pr[0]] = Math.fma(c, ru, -s * rw);
                                rot[t][pr[1]] = Math.fma(s, ru, c * rw);
                            }
                        }
                    }
                    if (!any) break;
                }
                float[][] rf = new float[PAIR][PAIR];
                for (int s = 0; s < PAIR; s++) for (int t = 0; t < PAIR; t++) rf[s][t] = (float) rot[s][t];
                applyRotation(work, wBase, p, q, col, rf);
                applyRotation(vm, vBase, q, q, col, rf);
            }
        }
    }

    private static void applyRotation(MemorySegment m, long base, int rows, int q, int[] col, float[][] rf) {
        float[] x = new float[PAIR];
        for (int r = 0; r < rows; r++) {
            for (int s = 0; s < PAIR; s++) x[s] = col[s] < q ? m.getAtIndex(JAVA_FLOAT, base + (long) col[s] * rows + r) : 0f;
            for (int t = 0; t < PAIR; t++) {
                float y = 0;
                for (int s = 0; s < PAIR; s++) y = Math.fma(x[s], rf[s][t], y);
                if (col[t] < q) m.setAtIndex(JAVA_FLOAT, base + (long) col[t] * rows + r, y);
            }
        }
    }

    private void sweepEnd(MemorySegment a) {
        MemorySegment status = mem(a.get(JAVA_LONG, SvdSweepArgs.STATUS)), active = mem(a.get(JAVA_LONG, SvdSweepArgs.ACTIVE));
        int count = a.get(JAVA_INT, SvdSweepArgs.COUNT), maxSweeps = a.get(JAVA_INT, SvdSweepArgs.MAX_SWEEPS);
        float tol = a.get(JAVA_FLOAT, SvdSweepArgs.TOLERANCE);
        for (int mat = 0; mat < count; mat++) {
            long st = (long) mat * SvdStatus.SIZE;
            int sweeps = status.get(JAVA_INT, st + SvdStatus.SWEEPS);
            if (status.get(JAVA_INT, st + SvdStatus.CONVERGED) == 0 && sweeps < maxSweeps) {
                float seen = status.get(JAVA_FLOAT, st + SvdStatus.RUNNING);
                status.set(JAVA_INT, st + SvdStatus.SWEEPS, ++sweeps);
                status.set(JAVA_FLOAT, st + SvdStatus.OFF, seen);
                if (!(seen > tol)) status.set(JAVA_INT, st + SvdStatus.CONVERGED, 1);
                else if (sweeps < maxSweeps) active.set(JAVA_INT, 0, active.get(JAVA_INT, 0) + 1);
            }
            status.set(JAVA_INT, st + SvdStatus.RUNNING, 0);
        }
    }

    // ---- post-processing ----

    private void normalize(MemorySegment a, int q, int matrices) {
        MemorySegment work = mem(a.get(JAVA_LONG, SvdNormalizeArgs.WORK)), sigma = mem(a.get(JAVA_LONG, SvdNormalizeArgs.SIGMA));
        int p = a.get(JAVA_INT, SvdNormalizeArgs.P);
        if (q != a.get(JAVA_INT, SvdNormalizeArgs.Q)) throw new IllegalStateException("normalize: grid.x " + q);
        for (int mat = 0; mat < matrices; mat++) {
            for (int j = 0; j < q; j++) {
                long base = ((long) mat * q + j) * p;
                double sum = 0;
                for (int r = 0; r < p; r++) {
                    double x = work.getAtIndex(JAVA_FLOAT, base + r);
                    sum = Math.fma(x, x, sum);
                }
                double s = Math.sqrt(sum);
                sigma.setAtIndex(JAVA_DOUBLE, (long) mat * q + j, s);
                if (s == 0) continue;
                double inv = 1.0 / s;
                for (int r = 0; r < p; r++) work.setAtIndex(JAVA_FLOAT, base + r, (float) (work.getAtIndex(JAVA_FLOAT, base + r) * inv));
            }
        }
    }

    private void order(MemorySegment a, int matrices) {
        MemorySegment sigma = mem(a.get(JAVA_LONG, SvdOrderArgs.SIGMA)), perm = mem(a.get(JAVA_LONG, SvdOrderArgs.PERM));
        MemorySegment sOut = mem(a.get(JAVA_LONG, SvdOrderArgs.S_OUT));
        long expAt = a.get(JAVA_LONG, SvdOrderArgs.EXPONENTS);
        int q = a.get(JAVA_INT, SvdOrderArgs.Q);
        for (int mat = 0; mat < matrices; mat++) {
            int e = expAt != 0 ? mem(expAt).getAtIndex(JAVA_INT, mat) : 0;
            for (int j = 0; j < q; j++) {
                double sj = sigma.getAtIndex(JAVA_DOUBLE, (long) mat * q + j);
                int rank = 0;
                for (int i = 0; i < q; i++) {
                    double si = sigma.getAtIndex(JAVA_DOUBLE, (long) mat * q + i);
                    if (si > sj || (si == sj && i < j)) rank++;
                }
                perm.setAtIndex(JAVA_INT, (long) mat * q + rank, j);
                sOut.setAtIndex(JAVA_DOUBLE, (long) mat * q + rank, Math.scalb(sj, e));
            }
        }
    }

    private void emit(MemorySegment a, int matrices) {
        MemorySegment work = mem(a.get(JAVA_LONG, SvdEmitArgs.WORK)), v = mem(a.get(JAVA_LONG, SvdEmitArgs.V));
        MemorySegment perm = mem(a.get(JAVA_LONG, SvdEmitArgs.PERM));
        MemorySegment uOut = mem(a.get(JAVA_LONG, SvdEmitArgs.U_OUT)), vhOut = mem(a.get(JAVA_LONG, SvdEmitArgs.VH_OUT));
        int p = a.get(JAVA_INT, SvdEmitArgs.P), q = a.get(JAVA_INT, SvdEmitArgs.Q), keep = a.get(JAVA_INT, SvdEmitArgs.KEEP);
        boolean wide = a.get(JAVA_INT, SvdEmitArgs.WIDE) != 0, uCol = a.get(JAVA_INT, SvdEmitArgs.U_COL_MAJOR) != 0;
        boolean vhCol = a.get(JAVA_INT, SvdEmitArgs.VH_COL_MAJOR) != 0;
        int m = wide ? q : p, n = wide ? p : q;
        for (int mat = 0; mat < matrices; mat++) {
            long wB = (long) mat * p * q, vB = (long) mat * q * q, pB = (long) mat * q;
            long uB = (long) mat * m * keep, vhB = (long) mat * keep * n;
            for (int rank = 0; rank < keep; rank++) {
                long col = perm.getAtIndex(JAVA_INT, pB + rank);
                for (int i = 0; i < m; i++) {
                    float x = wide ? v.getAtIndex(JAVA_FLOAT, vB + col * q + i) : work.getAtIndex(JAVA_FLOAT, wB + col * p + i);
                    uOut.setAtIndex(JAVA_FLOAT, uB + (uCol ? (long) rank * m + i : (long) i * keep + rank), x);
                }
                for (int c = 0; c < n; c++) {
                    float x = wide ? work.getAtIndex(JAVA_FLOAT, wB + col * p + c) : v.getAtIndex(JAVA_FLOAT, vB + col * q + c);
                    vhOut.setAtIndex(JAVA_FLOAT, vhB + (vhCol ? (long) c * keep + rank : (long) rank * n + c), x);
                }
            }
        }
    }

    private void sgemm(MemorySegment a, int tiles, int batch) {
        MemorySegment am = mem(a.get(JAVA_LONG, SgemmArgs.A)), bm = mem(a.get(JAVA_LONG, SgemmArgs.B));
        MemorySegment cm = mem(a.get(JAVA_LONG, SgemmArgs.C));
        long sa = a.get(JAVA_LONG, SgemmArgs.STRIDE_A), sb = a.get(JAVA_LONG, SgemmArgs.STRIDE_B), sc = a.get(JAVA_LONG, SgemmArgs.STRIDE_C);
        int m = a.get(JAVA_INT, SgemmArgs.M), n = a.get(JAVA_INT, SgemmArgs.N), k = a.get(JAVA_INT, SgemmArgs.K);
        int lda = a.get(JAVA_INT, SgemmArgs.LDA), ldb = a.get(JAVA_INT, SgemmArgs.LDB), ldc = a.get(JAVA_INT, SgemmArgs.LDC);
        boolean ta = a.get(JAVA_INT, SgemmArgs.TRANS_A) != 0, tb = a.get(JAVA_INT, SgemmArgs.TRANS_B) != 0;
        float alpha = a.get(JAVA_FLOAT, SgemmArgs.ALPHA), beta = a.get(JAVA_FLOAT, SgemmArgs.BETA);
        int tile = SvdLayouts.GEMM_TILE;
        if (tiles != ((m + tile - 1) / tile) * ((n + tile - 1) / tile)) throw new IllegalStateException("sgemm: grid.x " + tiles);
        for (int bt = 0; bt < batch; bt++) {
            for (int j = 0; j < n; j++) {
                for (int i = 0; i < m; i++) {
                    float acc = 0;
                    for (int l = 0; l < k; l++) {
                        float x = am.getAtIndex(JAVA_FLOAT, bt * sa + (ta ? l + (long) i * lda : i + (long) l * lda));
                        float y = bm.getAtIndex(JAVA_FLOAT, bt * sb + (tb ? j + (long) l * ldb : l + (long) j * ldb));
                        acc = Math.fma(x, y, acc);
                    }
                    long at = bt * sc + i + (long) j * ldc;
                    float r = alpha * acc;
                    cm.setAtIndex(JAVA_FLOAT, at, beta == 0 ? r : Math.fma(beta, cm.getAtIndex(JAVA_FLOAT, at), r));
                }
            }
        }
    }
}

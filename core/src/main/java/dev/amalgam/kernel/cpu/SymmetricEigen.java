package dev.amalgam.kernel.cpu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Eigenpairs of a real symmetric matrix in double — all of them, or only the k largest:
 * blocked Householder tridiagonalization, eigenvalues by the implicit QL iteration (no vectors),
 * eigenvectors of the tridiagonal by inverse iteration, and the blocked back-transformation.
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>Tridiagonalization (LAPACK's DLATRD scheme, full symmetric storage): reflectors are
 *       generated {@link #NB} at a time; inside a panel the trailing matrix is not updated, its
 *       product with the new reflector is corrected by the panel's earlier (V, W) pairs; after
 *       the panel the trailing matrix gets the rank-2·NB update A −= V·Wᵀ + W·Vᵀ as one GEMM.
 *       Only the symmetric matrix–vector products stay memory-bound.</li>
 *   <li>The tridiagonal is split where |e_i| ≤ 2⁻⁵²·(|d_i| + |d_{i+1}|). Eigenvalues per block by
 *       QL without vectors (absolute accuracy ≈ 2⁻⁵²·‖T‖).</li>
 *   <li>Eigenvectors of a block by inverse iteration (LAPACK's DSTEIN scheme): LU of T − λI with
 *       partial pivoting, tiny pivots perturbed, fixed-seed start vectors, modified Gram–Schmidt
 *       against the earlier vectors of the same cluster (eigenvalues closer than
 *       {@link #CLUSTER}·‖T‖, chained). Vectors of different clusters are orthogonal to about
 *       2⁻⁵²/{@link #CLUSTER} ≈ 2e-9, ample for the float32 results built from them. A block whose
 *       clusters would make Gram–Schmidt cost more than QL (e.g. T ≈ c·I) gets its vectors from
 *       the QL iteration with rotations instead.</li>
 *   <li>Back-transformation V = H_0·H_1·…·Z in blocks of NB reflectors, each applied as
 *       I − Y·T·Yᵀ (compact WY) with GEMMs.</li>
 * </ul>
 * Results are sorted by eigenvalue, descending. The reported iteration count is the QL one.
 */
final class SymmetricEigen {

    /** QL iterations allowed per eigenvalue before giving up (never reached on finite input). */
    static final int MAX_ITERATIONS = 90;
    /** Reflectors per panel of the blocked reduction and back-transformation. */
    static final int NB = 32;
    /** Relative eigenvalue distance (to ‖T‖) below which inverse-iteration vectors are orthogonalized. */
    static final double CLUSTER = 1e-7;
    private static final int PARALLEL_ROWS = 256;
    private static final int MAX_INVERSE_ITERATIONS = 5;

    /**
     * @param values     eigenvalues, descending
     * @param vectors    vectors[l] = the unit eigenvector of values[l]
     * @param iterations QL iterations in total
     */
    record Result(double[] values, double[][] vectors, int iterations) {
    }

    private SymmetricEigen() {
    }

    /** All eigenpairs of {@code a} (n×n, symmetric, both halves filled, as rows). */
    static Result decompose(double[][] a) {
        int n = a.length;
        double[] flat = new double[n * n];
        for (int i = 0; i < n; i++) System.arraycopy(a[i], 0, flat, i * n, n);
        return top(flat, n, n);
    }

    /**
     * The {@code k} largest eigenpairs of {@code a} (n×n row-major, symmetric, both halves
     * filled; overwritten).
     */
    static Result top(double[] a, int n, int k) {
        k = Math.max(0, Math.min(k, n));
        double[] d = new double[n], e = new double[n], betas = new double[n];
        if (n == 0 || k == 0) return new Result(new double[0], new double[0][], 0);
        tridiagonalize(a, n, d, e, betas);

        // Blocks of the split tridiagonal and their eigenvalues.
        double eps = Math.ulp(1.0);
        List<int[]> blocks = new ArrayList<>();
        for (int start = 0; start < n; ) {
            int end = start;
            while (end < n - 1 && Math.abs(e[end]) > eps * (Math.abs(d[end]) + Math.abs(d[end + 1]))) end++;
            blocks.add(new int[] {start, end + 1});
            start = end + 1;
        }
        int iterations = 0;
        double[][] blockValues = new double[blocks.size()][];
        int total = 0;
        for (int b = 0; b < blocks.size(); b++) {
            int b0 = blocks.get(b)[0], b1 = blocks.get(b)[1];
            double[] dl = Arrays.copyOfRange(d, b0, b1), el = new double[b1 - b0];
            System.arraycopy(e, b0, el, 0, b1 - b0 - 1);
            iterations += qlValues(dl, el);
            Arrays.sort(dl);
            blockValues[b] = dl;
            total += dl.length;
        }
        // The k largest over all blocks: (value, block, index in the block's ascending order).
        double[] all = new double[total];
        int[] blockOf = new int[total], indexOf = new int[total];
        for (int b = 0, at = 0; b < blocks.size(); b++) {
            for (int j = 0; j < blockValues[b].length; j++, at++) {
                all[at] = blockValues[b][j];
                blockOf[at] = b;
                indexOf[at] = j;
            }
        }
        Integer[] order = new Integer[total];
        for (int i = 0; i < total; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> {
            int c = Double.compare(all[y], all[x]);
            return c != 0 ? c : Integer.compare(x, y);
        });

        // Tridiagonal eigenvectors, one column of Z (n×k row-major) per output position.
        double[] z = new double[n * k];
        double[] values = new double[k];
        for (int b = 0; b < blocks.size(); b++) {
            List<Integer> wanted = new ArrayList<>(); // output positions of this block's eigenvalues
            for (int l = 0; l < k; l++) if (blockOf[order[l]] == b) wanted.add(l);
            if (wanted.isEmpty()) continue;
            wanted.sort((x, y) -> Integer.compare(indexOf[order[x]], indexOf[order[y]])); // ascending eigenvalue
            int b0 = blocks.get(b)[0], b1 = blocks.get(b)[1];
            double[] sel = new double[wanted.size()];
            for (int j = 0; j < sel.length; j++) sel[j] = all[order[wanted.get(j)]];
            double[][] vecs = blockVectors(d, e, b0, b1, sel);
            for (int j = 0; j < sel.length; j++) {
                int l = wanted.get(j);
                values[l] = sel[j];
                for (int i = b0; i < b1; i++) z[i * k + l] = vecs[j][i - b0];
            }
        }
        backTransform(a, n, betas, z, k);
        double[][] vectors = new double[k][n];
        for (int i = 0; i < n; i++) {
            for (int l = 0; l < k; l++) vectors[l][i] = z[i * k + l];
        }
        return new Result(values, vectors, iterations);
    }

    // ---------------------------------------------------------------------------------------
    // Tridiagonalization

    /**
     * Reduces {@code a} (flat n×n symmetric; only its lower triangle is read) to the tridiagonal
     * (d, e), e[i] coupling i and i+1. Reflector i (H_i = I − β_i·v·vᵀ, acting on indices
     * i+1..n−1) is left in row i of {@code a} at columns i+1..n−1 (the unused upper triangle),
     * β_i in {@code betas[i]} (0: identity).
     */
    static void tridiagonalize(double[] a, int n, double[] d, double[] e, double[] betas) {
        double[][] vp = new double[NB][n], wp = new double[NB][n];
        double[] x = new double[n], y = new double[n];
        int last = n - 2; // reflectors 0..n−3
        for (int j0 = 0; j0 < last; j0 += NB) {
            int j1 = Math.min(j0 + NB, last), panel = j1 - j0;
            for (int p = 0; p < panel; p++) {
                int i = j0 + p, off = i + 1, t = n - off;
                // Column i (rows i..n−1, lower triangle), brought up to date with the panel's earlier reflectors.
                for (int r = i; r < n; r++) x[r] = a[r * n + i];
                for (int q = 0; q < p; q++) DenseKernels.rank2Row(x, i, wp[q][i], vp[q], vp[q][i], wp[q], i, n - i);
                d[i] = x[i];
                double[] v = vp[p], w = wp[p];
                Arrays.fill(v, 0);
                Arrays.fill(w, 0);
                betas[i] = 0;
                double norm = Math.sqrt(DenseKernels.dot(x, off, x, off, t));
                double x0 = x[off];
                if (norm == 0) {
                    e[i] = 0;
                    continue;
                }
                double alpha = x0 >= 0 ? -norm : norm;
                System.arraycopy(x, off, v, off, t);
                v[off] -= alpha;
                double vv = DenseKernels.dot(v, off, v, off, t);
                if (!(vv > 0)) {
                    e[i] = x0;
                    Arrays.fill(v, 0);
                    continue;
                }
                double beta = 2 / vv;
                e[i] = alpha;
                betas[i] = beta;
                System.arraycopy(v, off, a, i * n + off, t); // kept for the back-transformation
                // y = A·v with A = stale trailing block − Σ_{q<p} (V_q·W_qᵀ + W_q·V_qᵀ).
                symmetricProduct(a, n, off, v, y);
                for (int q = 0; q < p; q++) {
                    double wv = DenseKernels.dot(wp[q], off, v, off, t), vv2 = DenseKernels.dot(vp[q], off, v, off, t);
                    DenseKernels.axpy(-wv, vp[q], off, y, off, t);
                    DenseKernels.axpy(-vv2, wp[q], off, y, off, t);
                }
                // w = β·y − (β/2)(β·yᵀv)·v: the trailing block becomes A − v·wᵀ − w·vᵀ.
                for (int r = off; r < n; r++) w[r] = beta * y[r];
                double kk = beta / 2 * DenseKernels.dot(w, off, v, off, t);
                DenseKernels.axpy(-kk, v, off, w, off, t);
            }
            // Lower triangle of the trailing block (rows and columns j1..n−1) −= [V W]·[W V]ᵀ.
            int t = n - j1, width = 2 * panel;
            double[] left = new double[t * width], right = new double[width * t];
            for (int r = 0; r < t; r++) {
                for (int q = 0; q < panel; q++) {
                    left[r * width + q] = vp[q][j1 + r];
                    left[r * width + panel + q] = wp[q][j1 + r];
                }
            }
            for (int q = 0; q < panel; q++) {
                System.arraycopy(wp[q], j1, right, q * t, t);
                System.arraycopy(vp[q], j1, right, (panel + q) * t, t);
            }
            DenseKernels.gemm(left, 0, width, right, 0, t, a, j1 * n + j1, n, t, width, t,
                    DenseKernels.SUBTRACT | DenseKernels.LOWER);
        }
        if (n >= 2) {
            d[n - 2] = a[(n - 2) * n + n - 2];
            e[n - 2] = a[(n - 1) * n + n - 2];
        }
        d[n - 1] = a[(n - 1) * n + n - 1];
        e[n - 1] = 0;
    }

    /**
     * y[r] = Σ_c A[r][c]·v[c] over r, c in off..n−1 from the lower triangle of a: each element is
     * read once and used twice (row r's part left of the diagonal gives a dot product for y[r]
     * and an axpy into y[off..r)). On the pool's two workers, rows are split where the triangle's
     * area halves, each with its own partial y.
     */
    private static void symmetricProduct(double[] a, int n, int off, double[] v, double[] y) {
        int t = n - off;
        boolean parallel = t >= PARALLEL_ROWS && DenseKernels.parallelism() > 1 && !DenseKernels.insidePool();
        if (!parallel) {
            Arrays.fill(y, off, n, 0);
            lowerProduct(a, n, off, off, n, v, y);
            return;
        }
        int split = off + (int) Math.round(t / Math.sqrt(2)); // rows [off, split) hold half the triangle
        double[] y2 = new double[n];
        Arrays.fill(y, off, n, 0);
        DenseKernels.parallelFor(2, c -> {
            if (c == 0) lowerProduct(a, n, off, off, split, v, y);
            else lowerProduct(a, n, off, split, n, v, y2);
        });
        for (int r = off; r < n; r++) y[r] += y2[r];
    }

    /** Adds the contributions of lower-triangle rows [r0, r1) (columns off..r) to y. */
    private static void lowerProduct(double[] a, int n, int off, int r0, int r1, double[] v, double[] y) {
        for (int r = r0; r < r1; r++) {
            int row = r * n, len = r - off;
            y[r] += DenseKernels.dot(a, row + off, v, off, len) + a[row + r] * v[r];
            DenseKernels.axpy(v[r], a, row + off, y, off, len);
        }
    }

    /** z (n×k row-major) ← H_0·H_1·…·H_{n−3}·z, NB reflectors at a time as I − Y·T·Yᵀ. */
    static void backTransform(double[] a, int n, double[] betas, double[] z, int k) {
        int last = n - 2;
        if (last <= 0 || k == 0) return;
        int lastStart = ((last - 1) / NB) * NB;
        for (int j0 = lastStart; j0 >= 0; j0 -= NB) {
            int j1 = Math.min(j0 + NB, last), panel = j1 - j0, off = j0 + 1, t = n - off;
            // Yᵀ: panel × t, row p = reflector j0+p on rows off.. (zero above its support).
            double[] yt = new double[panel * t];
            boolean any = false;
            for (int p = 0; p < panel; p++) {
                int i = j0 + p;
                if (betas[i] == 0) continue;
                any = true;
                System.arraycopy(a, i * n + i + 1, yt, p * t + p, n - i - 1);
            }
            if (!any) continue;
            // T (panel × panel, upper): T[p][p] = β_p, T[0:p, p] = −β_p·T[0:p, 0:p]·(Y[:, 0:p]ᵀ·y_p).
            double[] tm = new double[panel * panel], s = new double[panel];
            for (int p = 0; p < panel; p++) {
                double beta = betas[j0 + p];
                tm[p * panel + p] = beta;
                if (beta == 0) continue;
                for (int q = 0; q < p; q++) s[q] = DenseKernels.dot(yt, q * t + p, yt, p * t + p, t - p);
                for (int q = 0; q < p; q++) {
                    double sum = 0;
                    for (int r = q; r < p; r++) sum += tm[q * panel + r] * s[r];
                    tm[q * panel + p] = -beta * sum;
                }
            }
            // W = Yᵀ·Z_trailing (panel × k), W ← T·W, Z_trailing −= Y·W.
            double[] w = new double[panel * k];
            DenseKernels.gemm(yt, 0, t, z, off * k, k, w, 0, k, panel, t, k, DenseKernels.SET);
            double[] tw = new double[panel * k];
            DenseKernels.gemm(tm, 0, panel, w, 0, k, tw, 0, k, panel, panel, k, DenseKernels.SET);
            double[] y = DenseKernels.transpose(yt, panel, t); // t × panel
            DenseKernels.gemm(y, 0, panel, tw, 0, k, z, off * k, k, t, panel, k, DenseKernels.SUBTRACT);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Tridiagonal eigenvectors

    /**
     * Unit eigenvectors (block coordinates) of the unreduced block [b0, b1) of (d, e) for the
     * eigenvalues {@code sel} (ascending): inverse iteration, or QL with rotations when clusters
     * are too large for Gram–Schmidt.
     */
    private static double[][] blockVectors(double[] d, double[] e, int b0, int b1, double[] sel) {
        int bn = b1 - b0;
        double[][] out = new double[sel.length][];
        if (bn == 1) {
            out[0] = new double[] {1};
            return out;
        }
        double norm = 0;
        for (int i = b0; i < b1; i++) {
            double r = Math.abs(d[i]) + (i > b0 ? Math.abs(e[i - 1]) : 0) + (i < b1 - 1 ? Math.abs(e[i]) : 0);
            norm = Math.max(norm, r);
        }
        double ortol = CLUSTER * norm;
        // Gram–Schmidt cost Σ c²·bn against QL's ≈ bn³: QL when clusters are large.
        long gs = 0;
        for (int j = 0, start = 0; j <= sel.length; j++) {
            if (j == sel.length || j > 0 && sel[j] - sel[j - 1] > ortol) {
                long c = j - start;
                gs += c * c;
                start = j;
            }
        }
        if (gs * 8 > (long) bn * bn) return qlVectors(d, e, b0, b1, sel);

        double eps = Math.ulp(1.0);
        double[] u1 = new double[bn], u2 = new double[bn], u3 = new double[bn], mult = new double[bn];
        boolean[] swapped = new boolean[bn];
        double stop = Math.sqrt(0.1 / bn), tol = eps * norm;
        int clusterStart = 0;
        double previous = 0;
        for (int j = 0; j < sel.length; j++) {
            double x = sel[j];
            if (j > 0) {
                if (x - previous > ortol) clusterStart = j;
                double pertol = 10 * Math.abs(eps * x);
                if (x - previous < pertol) x = previous + pertol; // distinct shifts inside a cluster
            }
            previous = x;
            factor(d, e, b0, bn, x, u1, u2, u3, mult, swapped);
            double[] v = new double[bn];
            SplittableRandom random = new SplittableRandom(0x51E1L + 7919L * j + bn);
            for (int i = 0; i < bn; i++) v[i] = 2 * random.nextDouble() - 1;
            int checks = 0;
            for (int its = 0; its < MAX_INVERSE_ITERATIONS; its++) {
                double l1 = 0;
                for (double t : v) l1 += Math.abs(t);
                double scale = bn * norm * Math.max(eps, Math.abs(u1[bn - 1])) / l1;
                for (int i = 0; i < bn; i++) v[i] *= scale;
                solve(bn, u1, u2, u3, mult, swapped, v, tol);
                for (int c = clusterStart; c < j; c++) {
                    DenseKernels.axpy(-DenseKernels.dot(out[c], v, bn), out[c], 0, v, 0, bn);
                }
                // Converged once the solution of a right-hand side of this 1-norm is large: twice more, then stop.
                double max = 0;
                for (double t : v) max = Math.max(max, Math.abs(t));
                if (max >= stop && ++checks >= 3) break;
            }
            double l2 = Math.sqrt(DenseKernels.dot(v, v, bn));
            int jmax = 0;
            for (int i = 1; i < bn; i++) if (Math.abs(v[i]) > Math.abs(v[jmax])) jmax = i;
            double f = (v[jmax] < 0 ? -1 : 1) / l2;
            for (int i = 0; i < bn; i++) v[i] *= f;
            out[j] = v;
        }
        return out;
    }

    /** LU with partial pivoting of T − λI for the block of size bn at b0: U's three diagonals, multipliers, swaps. */
    private static void factor(double[] d, double[] e, int b0, int bn, double lambda, double[] u1, double[] u2,
            double[] u3, double[] mult, boolean[] swapped) {
        double a = d[b0] - lambda, b = e[b0];
        for (int i = 0; i < bn - 1; i++) {
            double c = e[b0 + i], next = d[b0 + i + 1] - lambda, nextSuper = i + 1 < bn - 1 ? e[b0 + i + 1] : 0;
            if (Math.abs(a) >= Math.abs(c)) {
                double l = a == 0 ? 0 : c / a;
                u1[i] = a;
                u2[i] = b;
                u3[i] = 0;
                mult[i] = l;
                swapped[i] = false;
                a = next - l * b;
                b = nextSuper;
            } else {
                double l = a / c;
                u1[i] = c;
                u2[i] = next;
                u3[i] = nextSuper;
                mult[i] = l;
                swapped[i] = true;
                a = b - l * next;
                b = -l * nextSuper;
            }
        }
        u1[bn - 1] = a;
    }

    /** Solves (T − λI)·x = v in place with the factors of {@link #factor}; pivots below tol are raised to ±tol. */
    private static void solve(int bn, double[] u1, double[] u2, double[] u3, double[] mult, boolean[] swapped, double[] v,
            double tol) {
        for (int i = 0; i < bn - 1; i++) {
            if (swapped[i]) {
                double t = v[i];
                v[i] = v[i + 1];
                v[i + 1] = t;
            }
            v[i + 1] -= mult[i] * v[i];
        }
        for (int i = bn - 1; i >= 0; i--) {
            double s = v[i];
            if (i + 1 < bn) s -= u2[i] * v[i + 1];
            if (i + 2 < bn) s -= u3[i] * v[i + 2];
            double p = u1[i];
            if (Math.abs(p) < tol) p = p < 0 ? -tol : tol;
            v[i] = s / p;
        }
    }

    /** The block's eigenvectors for {@code sel} (ascending) from QL with rotations, matched by order. */
    private static double[][] qlVectors(double[] d, double[] e, int b0, int b1, double[] sel) {
        int bn = b1 - b0;
        double[] dl = Arrays.copyOfRange(d, b0, b1), el = new double[bn];
        System.arraycopy(e, b0, el, 0, bn - 1);
        double[][] zt = new double[bn][bn];
        for (int i = 0; i < bn; i++) zt[i][i] = 1;
        ql(dl, el, zt);
        Integer[] order = new Integer[bn];
        for (int i = 0; i < bn; i++) order[i] = i;
        Arrays.sort(order, (x, y) -> Double.compare(dl[x], dl[y]));
        // sel holds the wanted values in ascending order; match each to the nearest unused QL value.
        double[][] out = new double[sel.length][];
        boolean[] used = new boolean[bn];
        for (int j = 0; j < sel.length; j++) {
            int best = -1;
            for (int i = 0; i < bn; i++) {
                if (used[order[i]]) continue;
                if (best < 0 || Math.abs(dl[order[i]] - sel[j]) < Math.abs(dl[order[best]] - sel[j])) best = i;
            }
            used[order[best]] = true;
            out[j] = zt[order[best]];
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------
    // Implicit QL

    /** √(x² + y²): the plain formula where it neither overflows nor underflows (Math.hypot is slow). */
    private static double hypot(double x, double y) {
        double r = Math.sqrt(x * x + y * y);
        return r < 1e150 && r > 1e-150 ? r : Math.hypot(x, y);
    }

    /** Eigenvalues of the tridiagonal (d, e) by implicit QL with Wilkinson shifts, in place; returns the iterations. */
    static int qlValues(double[] d, double[] e) {
        return ql(d, e, null);
    }

    /** Implicit QL on the tridiagonal (d, e), e[i] coupling i and i+1; rotations applied to rows of zt (if not null). */
    static int ql(double[] d, double[] e, double[][] zt) {
        int n = d.length;
        double eps = Math.ulp(1.0);
        int total = 0;
        for (int l = 0; l < n; l++) {
            int iter = 0;
            while (true) {
                int m = l;
                while (m < n - 1 && Math.abs(e[m]) > eps * (Math.abs(d[m]) + Math.abs(d[m + 1]))) m++;
                if (m == l) break;
                if (++iter > MAX_ITERATIONS) {
                    throw new ArithmeticException("symmetric eigensolver: no convergence for eigenvalue " + l + " of " + n);
                }
                total++;
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = hypot(g, 1);
                g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                double s = 1, c = 1, p = 0;
                boolean deflated = false;
                for (int i = m - 1; i >= l; i--) {
                    double f = s * e[i], b = c * e[i];
                    r = hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0) {
                        d[i + 1] -= p;
                        e[m] = 0;
                        deflated = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                    if (zt != null) DenseKernels.rotate(zt[i], zt[i + 1], c, s, zt[i].length);
                }
                if (deflated) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
        }
        return total;
    }
}

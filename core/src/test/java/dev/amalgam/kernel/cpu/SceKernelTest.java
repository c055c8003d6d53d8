package dev.amalgam.kernel.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.KernelTestData;
import dev.amalgam.kernel.KernelTestData.Style;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.ScePass;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SCE (§9): the fast CPU kernel against the reference bit for bit, and both against mergekit's formulas. */
class SceKernelTest {

    @Test
    void fastCpuMatchesTheReferenceBitForBit() {
        SplittableRandom rnd = new SplittableRandom(23);
        for (long n : new long[] {1, 2, 7, 100, 65_537, 200_003}) {
            for (Style style : Style.values()) {
                for (int t : new int[] {1, 2, 4}) {
                    Tensor base = KernelTestData.randomBase("s", DType.F32, n, style, rnd);
                    List<Tensor> models = new ArrayList<>();
                    for (int m = 0; m < t; m++) models.add(KernelTestData.randomModel("s", DType.BF16, base, style, rnd));
                    for (double topk : new double[] {1.0, 0.5, 0.1, 0.013}) {
                        Tensor a = KernelTestData.allocate("s", DType.F32, n), b = KernelTestData.allocate("s", DType.F32, n);
                        ScePass.Result ra = new ReferenceKernels().sce(new ScePass("s", base, models, topk, 1f, a, false));
                        ScePass.Result rb = new FastCpuKernels().sce(new ScePass("s", base, models, topk, 1f, b, false));
                        String ctx = n + " " + style + " t=" + t + " topk=" + topk;
                        KernelTestData.assertSameBits(a, b, ctx);
                        assertEquals(ra.selected(), rb.selected(), ctx);
                        assertArrayEquals(ra.weights(), rb.weights(), ctx);
                        assertEquals(ra.signConflicts(), rb.signConflicts(), ctx);
                    }
                }
            }
        }
    }

    /** mergekit's sce_merge written out independently (float32 except the sums we state in double). */
    static float[] mergekitFormula(float[] base, float[][] x, double topk) {
        int t = x.length, n = base.length;
        float[][] tv = new float[t][n];
        for (int m = 0; m < t; m++) for (int i = 0; i < n; i++) tv[m][i] = x[m][i] - base[i];
        if (topk < 1) {
            double[] var = new double[n];
            int nz = 0;
            for (int i = 0; i < n; i++) {
                double mean = 0;
                for (int m = 0; m < t; m++) mean += tv[m][i];
                mean /= t;
                double v = 0;
                for (int m = 0; m < t; m++) v += (tv[m][i] - mean) * (tv[m][i] - mean);
                var[i] = v / t;
                if (var[i] != 0) nz++;
            }
            int k = (int) (nz * topk);
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) order[i] = i;
            Arrays.sort(order, Comparator.<Integer>comparingDouble(i -> -var[i]).thenComparingInt(i -> i));
            boolean[] keep = new boolean[n];
            for (int j = 0; j < k; j++) keep[order[j]] = true;
            for (int m = 0; m < t; m++) for (int i = 0; i < n; i++) if (!keep[i]) tv[m][i] = 0f;
        }
        double[] s = new double[t];
        double total = 0;
        for (int m = 0; m < t; m++) {
            for (int i = 0; i < n; i++) s[m] += (double) tv[m][i] * tv[m][i];
            s[m] /= n;
            total += s[m];
        }
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int m = 0; m < t; m++) sum += tv[m][i];
            int sign = sum >= 0 ? 1 : -1;
            float merged = 0, den = 0;
            for (int m = 0; m < t; m++) {
                float w = Math.abs(total) < 1e-6 ? 1f / t : (float) (s[m] / total);
                float e = Math.signum(tv[m][i]) == sign ? w : 0f;
                merged += tv[m][i] * e;
                den += e;
            }
            out[i] = base[i] + merged / Math.max(den, 1e-6f);
        }
        return out;
    }

    @Test
    void matchesMergekitsFormulasAtTheSpecTolerance() {
        SplittableRandom rnd = new SplittableRandom(29);
        for (double topk : new double[] {1.0, 0.7, 0.2}) {
            int n = 997, t = 3;
            float[] base = new float[n];
            float[][] x = new float[t][n];
            for (int i = 0; i < n; i++) base[i] = (float) rnd.nextGaussian();
            for (int m = 0; m < t; m++) for (int i = 0; i < n; i++) x[m][i] = base[i] + (float) (rnd.nextGaussian() * 0.01 * (m + 1));
            float[] expected = mergekitFormula(base, x, topk);
            Tensor b = KernelTestData.of("s", DType.F32, base);
            List<Tensor> models = new ArrayList<>();
            for (float[] v : x) models.add(KernelTestData.of("s", DType.F32, v));
            for (var backend : List.of(new ReferenceKernels(), new FastCpuKernels())) {
                Tensor out = KernelTestData.allocate("s", DType.F32, n);
                backend.sce(new ScePass("s", b, models, topk, 1f, out, false));
                for (int i = 0; i < n; i++) {
                    assertEquals(expected[i], out.getFloat(i), 1e-6 * Math.max(1, Math.abs(expected[i])), backend.name() + " " + topk + " i " + i);
                }
            }
        }
    }

    @Test
    void kZeroOutputsTheBase() {
        // §15: SCE k = 0 — two elements with nonzero variance, select_topk 0.4 → k = (int)(0.8) = 0.
        Tensor base = KernelTestData.of("s", DType.F32, 1f, 2f, 3f, 4f);
        Tensor x = KernelTestData.of("s", DType.F32, 1.5f, 2f, 3f, 4.25f);
        Tensor y = KernelTestData.of("s", DType.F32, 1f, 2f, 3f, 4f);
        for (var backend : List.of(new ReferenceKernels(), new FastCpuKernels())) {
            Tensor out = KernelTestData.allocate("s", DType.F32, 4);
            ScePass.Result r = backend.sce(new ScePass("s", base, List.of(x, y), 0.4, 1f, out, false));
            assertEquals(0, r.selected());
            assertArrayEquals(new float[] {1f, 2f, 3f, 4f}, KernelTestData.values(out));
            out = KernelTestData.allocate("s", DType.F32, 4);
            r = backend.sce(new ScePass("s", base, List.of(x, y), 0.5, 1f, out, false));
            assertEquals(1, r.selected());
            // Only element 0 (variance 0.0625 > 0.015625) survives; one model there: θ0 + τ.
            assertArrayEquals(new float[] {1.5f, 2f, 3f, 4f}, KernelTestData.values(out));
            assertTrue(r.weights()[0] > 0);
        }
    }
}

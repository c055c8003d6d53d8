package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.it.NaiveMergeOracle.GtaMethod;
import dev.amalgam.it.NaiveMergeOracle.Sparsifier;
import dev.amalgam.it.NaiveMergeOracle.Task;
import dev.amalgam.kernel.BlockedL1Sum;
import dev.amalgam.random.BernoulliMask;
import dev.amalgam.tensor.DTypeConversion;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The oracle itself, on hand-computed cases and the spec's known answers (it is only useful if it is right). */
class NaiveMergeOracleTest {

    private static final NaiveMergeOracle.Global TIES_SUM = new NaiveMergeOracle.Global(true, 1.0, false, "l1", "sum", 0);

    private static Task task(int m, double weight, double density) {
        return new Task(m, weight, density, 0);
    }

    @Test
    void magnitudeOrderIsKeyDescendingThenIndexAscendingWithSignedZerosEqual() {
        float[] d = {1f, -3f, 3f, 2f, -0f, 0f, 2f};
        assertArrayEquals(new Integer[] {1, 2, 3, 6, 0, 4, 5}, NaiveMergeOracle.magnitudeOrder(d));
        boolean[] keep = NaiveMergeOracle.keepRanks(d, 0, 3);
        assertArrayEquals(new boolean[] {false, true, true, true, false, false, false}, keep);
    }

    @Test
    void trimCountTruncatesInDouble() {
        float[] d = new float[100];
        for (int i = 0; i < d.length; i++) d[i] = i + 1;
        boolean[] keep = NaiveMergeOracle.keepMask(Sparsifier.TRIM, "x", d, task(0, 1, 0.29), 0);
        int kept = 0;
        for (boolean b : keep) if (b) kept++;
        assertEquals(28, kept, "(int)(0.29*100) = 28");
        assertTrue(keep[99] && keep[72] && !keep[71], "the 28 largest are 73..100");
        assertNull(NaiveMergeOracle.keepMask(Sparsifier.TRIM, "x", d, task(0, 1, 1.0), 0), "density 1 = identity");
    }

    @Test
    void tiesElectsBySumAndDividesByAgreeingWeights() {
        float[] base = {0f, 0f, 0f};
        float[][] models = {{1f, -2f, 0.5f}, {-3f, 1f, 0.5f}};
        float[] out = NaiveMergeOracle.gta(GtaMethod.TIES, "t", base, models, new Task[] {task(0, 1, 1), task(1, 1, 1)}, TIES_SUM, null);
        // e0: sum −2 → −1, only model 1 agrees: −3/1; e1: sum −1, model 0: −2/1; e2: both agree: 1.0/2.
        assertArrayEquals(new float[] {-3f, -2f, 0.5f}, out);

        float[] weighted = NaiveMergeOracle.gta(GtaMethod.TIES, "t", new float[] {1f}, new float[][] {{3f}, {5f}},
                new Task[] {task(0, 1, 1), task(1, 0.5, 1)}, TIES_SUM, null);
        // v = 2 and 0.5·4 = 2, D = 1.5: 1 + 4/1.5
        assertEquals(1f + 4f / 1.5f, weighted[0]);
    }

    @Test
    void countElectionDiffersFromSumElection() {
        float[] base = {0f};
        float[][] models = {{1f}, {1f}, {-5f}};
        Task[] tasks = {task(0, 1, 1), task(1, 1, 1), task(2, 1, 1)};
        assertEquals(-5f, NaiveMergeOracle.gta(GtaMethod.TIES, "t", base, models, tasks, TIES_SUM, null)[0]);
        NaiveMergeOracle.Global count = new NaiveMergeOracle.Global(true, 1.0, false, "l1", "count", 0);
        assertEquals(1f, NaiveMergeOracle.gta(GtaMethod.TIES, "t", base, models, tasks, count, null)[0]);
    }

    @Test
    void nothingAgreeingGivesTheBaseAndLambdaScalesTheMix() {
        float[] base = {2f, 2f};
        float[][] models = {{2f, 4f}};
        NaiveMergeOracle.Global g = new NaiveMergeOracle.Global(true, 0.5, false, "l1", "sum", 0);
        float[] out = NaiveMergeOracle.gta(GtaMethod.TIES, "t", base, models, new Task[] {task(0, 1, 1)}, g, null);
        assertArrayEquals(new float[] {2f, 3f}, out, "δ = 0 never agrees (D = 1 → base); δ = 2 → 2 + 0.5·2");
    }

    @Test
    void taskArithmeticWithoutNormalizeSumsWeightedDeltas() {
        NaiveMergeOracle.Global g = new NaiveMergeOracle.Global(false, 0.3, false, "l1", "sum", 0);
        float[] out = NaiveMergeOracle.gta(GtaMethod.TASK_ARITHMETIC, "t", new float[] {1f}, new float[][] {{2f}, {0f}},
                new Task[] {task(0, 1, 1), task(1, 1, 1)}, g, null);
        assertEquals(1f + (1f + -1f) * 0.3f, out[0]);
        NaiveMergeOracle.Global norm = new NaiveMergeOracle.Global(true, 1.0, false, "l1", "sum", 0);
        float[] normalized = NaiveMergeOracle.gta(GtaMethod.TASK_ARITHMETIC, "t", new float[] {0f}, new float[][] {{3f}, {6f}},
                new Task[] {task(0, 1, 1), task(1, 2, 1)}, norm, null);
        assertEquals((3f + 12f) / 3f, normalized[0]);
    }

    @Test
    void breadcrumbsKeepsTheBandBelowTheTop() {
        float[] d = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
        // target 5, top (int)(0.1·10) = 1: ranks 1..5
        assertArrayEquals(new boolean[] {false, true, true, true, true, true, false, false, false, false},
                NaiveMergeOracle.keepMask(Sparsifier.BAND, "x", d, new Task(0, 1, 0.5, 0.1), 0));
        // gamma·n < 1: top 0, the largest 5 (mergekit would zero everything)
        assertArrayEquals(new boolean[] {true, true, true, true, true, false, false, false, false, false},
                NaiveMergeOracle.keepMask(Sparsifier.BAND, "x", d, new Task(0, 1, 0.5, 0.01), 0));
        // n_bot < 0: target 8, top 3 → top = 2, ranks 2..9
        assertArrayEquals(new boolean[] {false, false, true, true, true, true, true, true, true, true},
                NaiveMergeOracle.keepMask(Sparsifier.BAND, "x", d, new Task(0, 1, 0.8, 0.3), 0));
        assertNull(NaiveMergeOracle.keepMask(Sparsifier.BAND, "x", d, new Task(0, 1, 1.0, 0.3), 0), "density 1 = identity");
    }

    @Test
    void fnvAndDareDrawsMatchTheSpecKnownAnswers() {
        assertEquals(0x811c9dc5, NaiveMergeOracle.fnv1a32(""));
        assertEquals(0xe40c292c, NaiveMergeOracle.fnv1a32("a"));
        String name = "model.layers.0.mlp.down_proj.weight";
        assertEquals(0xca7d69f5, NaiveMergeOracle.fnv1a32(name));
        // seed 42, m = 1, i = 0 draws j = 6007500: kept iff ceil(p·2^24) > 6007500.
        float[] d = {1f};
        assertArrayEquals(new boolean[] {false},
                NaiveMergeOracle.keepMask(Sparsifier.DARE, name, d, task(1, 1, 6007500 / 16777216.0), 42));
        assertArrayEquals(new boolean[] {true},
                NaiveMergeOracle.keepMask(Sparsifier.DARE, name, d, task(1, 1, 6007501 / 16777216.0), 42));
        assertNull(NaiveMergeOracle.keepMask(Sparsifier.DARE, name, d, task(1, 1, 1.0), 42), "density 1 = identity");
    }

    @Test
    void dareKeepsAboutTheDensityAndAgreesWithTheMaskClass() {
        int n = 40_000;
        float[] d = new float[n];
        java.util.Arrays.fill(d, 1f);
        double p = 0.3;
        String name = "model.layers.3.self_attn.q_proj.weight";
        boolean[] keep = NaiveMergeOracle.keepMask(Sparsifier.DARE, name, d, task(2, 1, p), 7);
        BernoulliMask mask = new BernoulliMask(7, 2, dev.amalgam.random.Fnv1a32.hash(name));
        long bound = BernoulliMask.keepBound(p);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(mask.keep(i, bound), keep[i], "element " + i);
            if (keep[i]) kept++;
        }
        // binomial(40000, 0.3): σ ≈ 92
        assertTrue(Math.abs(kept - p * n) < 5 * 92, "kept " + kept);
    }

    @Test
    void l1RescalePreservesTheNormAndInverseDensityDivides() {
        SplittableRandom r = new SplittableRandom(20240607L);
        int n = 5000;
        float[] base = new float[n], x = new float[n];
        double l1 = 0;
        for (int i = 0; i < n; i++) {
            base[i] = (float) r.nextGaussian();
            x[i] = base[i] + (float) (0.01 * r.nextGaussian());
            l1 += Math.abs(x[i] - base[i]);
        }
        NaiveMergeOracle.Global g = new NaiveMergeOracle.Global(false, 1.0, true, "l1", "sum", 11);
        float[] out = NaiveMergeOracle.gta(GtaMethod.DARE_LINEAR, "w", new float[n], new float[][] {deltas(x, base)},
                new Task[] {task(0, 1, 0.4)}, g, null);
        double after = 0;
        int kept = 0;
        for (float v : out) {
            after += Math.abs(v);
            if (v != 0) kept++;
        }
        assertEquals(l1, after, l1 * 1e-6, "L1 norm kept");  // §1.10 relative 1e-6 per element (§14.11: l1 rescale preserves the norm)
        assertTrue(kept > 0.35 * n && kept < 0.45 * n, "kept " + kept);

        NaiveMergeOracle.Global inv = new NaiveMergeOracle.Global(false, 1.0, true, "inverse_density", "sum", 11);
        float[] d = deltas(x, base);
        float[] outInv = NaiveMergeOracle.gta(GtaMethod.DARE_LINEAR, "w", new float[n], new float[][] {d},
                new Task[] {task(0, 1, 0.4)}, inv, null);
        for (int i = 0; i < n; i++) {
            if (outInv[i] != 0) assertEquals((float) (d[i] / 0.4), outInv[i], "element " + i);
        }
    }

    private static float[] deltas(float[] x, float[] base) {
        float[] d = new float[x.length];
        for (int i = 0; i < d.length; i++) d[i] = x[i] - base[i];
        return d;
    }

    @Test
    void blockedL1UsesTheBackendsSummationOrder() {
        SplittableRandom r = new SplittableRandom(99);
        float[] x = new float[200_003]; // three full blocks and a partial one
        BlockedL1Sum production = new BlockedL1Sum();
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-6, 6)));
            production.add(x[i]);
        }
        assertEquals(production.sum(), NaiveMergeOracle.blockedL1(x));
    }

    @Test
    void modelScopeTrimsOverTensorsConcatenatedInUtf8Order() {
        Map<String, float[]> base = new LinkedHashMap<>();
        base.put("model.b", new float[] {0, 0});
        base.put("model.a", new float[] {0, 0});
        Map<String, float[]> model = new LinkedHashMap<>();
        model.put("model.b", new float[] {5, 5});
        model.put("model.a", new float[] {1, 5});
        // concatenation a, b = [1, 5, 5, 5]; k = (int)(0.5·4) = 2 keeps flat 1 and 2: a[1], b[0]
        var masks = NaiveMergeOracle.modelScopeMasks(base, List.of(model), new double[] {0.5}).getFirst();
        assertArrayEquals(new boolean[] {false, true}, masks.get("model.a"));
        assertArrayEquals(new boolean[] {true, false}, masks.get("model.b"));
        // UTF-8 order differs from String order for supplementary characters
        assertTrue(NaiveMergeOracle.compareUtf8("\uFF61", "\uD800\uDC00") < 0);
        assertTrue("\uFF61".compareTo("\uD800\uDC00") > 0);
    }

    @Test
    void linearDividesByTheWeightSum() {
        assertArrayEquals(new float[] {2f, 3f},
                NaiveMergeOracle.linear(new float[][] {{1, 2}, {3, 4}}, new double[] {0.5, 0.5}, true));
        assertArrayEquals(new float[] {7f, 10f},
                NaiveMergeOracle.linear(new float[][] {{1, 2}, {3, 4}}, new double[] {1, 2}, false));
        assertThrows(IllegalArgumentException.class,
                () -> NaiveMergeOracle.linear(new float[][] {{1}, {3}}, new double[] {1, -1}, true));
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals(0x3F80, NaiveMergeOracle.toBf16(1f + 0x1p-8f), "tie between 1 and 1+2^-7 → even");
        assertEquals(0x3F82, NaiveMergeOracle.toBf16(1f + 3 * 0x1p-8f), "tie → even upper");
        assertEquals(0x3F81, NaiveMergeOracle.toBf16(1f + 0x1p-8f + 0x1p-20f), "above the tie");
        assertEquals(0xBF80, NaiveMergeOracle.toBf16(-1f - 0x1p-8f));
        assertEquals(0x7F80, NaiveMergeOracle.toBf16(Float.MAX_VALUE), "beyond the halfway point: +Inf");
        assertEquals(0x7F7F, NaiveMergeOracle.toBf16(Float.intBitsToFloat(0x7F7F7FFF)), "just below halfway: max finite");
        assertEquals(0x0002, NaiveMergeOracle.toBf16(Float.intBitsToFloat(0x00018000)), "subnormal tie between 1 and 2 → even 2");
    }

    @Test
    void bf16AgreesWithTheProductionConversionOnRandomPatterns() {
        SplittableRandom r = new SplittableRandom(4242);
        for (int k = 0; k < 2_000_000; k++) {
            int bits = r.nextInt();
            float f = Float.intBitsToFloat(bits);
            if (Float.isNaN(f)) continue;
            assertEquals(DTypeConversion.floatToBf16(f) & 0xFFFF, NaiveMergeOracle.toBf16(f), Integer.toHexString(bits));
        }
    }
}

package dev.amalgam.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Pins the reference kernels themselves with small cases computed by hand from the spec
 * (§1.4–§1.9, §5–§7, §14). The backend contract only proves agreement with the reference; these
 * prove the reference is right.
 */
class ReferenceKernelsTest {

    private final ReferenceKernels ref = new ReferenceKernels();

    private static int key(float x) {
        return MagnitudeKey.of(x);
    }

    private static Tensor f32(float... v) {
        return KernelTestData.of("model.layers.0.mlp.down_proj.weight", DType.F32, v);
    }

    /** base + δ for a base of ones (exact for these small values). */
    private static Tensor onesPlus(float... delta) {
        float[] v = new float[delta.length];
        for (int i = 0; i < v.length; i++) v[i] = 1f + delta[i];
        return f32(v);
    }

    private MagnitudeThreshold select(Tensor base, Tensor model, long k) {
        return ref.selectLargest(List.of(new DeltaSource(base, model)), k);
    }

    private GtaPass pass(Tensor base, List<Tensor> models, float[] w, Sparsifier[] s, RescaleMode rescale,
                         ConsensusMethod consensus, boolean normalize, Tensor out) {
        int[] idx = new int[models.size()];
        for (int m = 0; m < idx.length; m++) idx[m] = m;
        return new GtaPass(base.name(), base, models, idx, w, s, rescale, 0, consensus, normalize, 1f, out, false);
    }

    @Test
    void tiesOfThreeModelsAndFiveElementsByHand() {
        Tensor base = f32(1, 1, 1, 1, 1);
        Tensor m1 = onesPlus(1.0f, -2.0f, 0.5f, 0.0f, 3.0f);
        Tensor m2 = onesPlus(-1.5f, 1.0f, 0.5f, 2.0f, -1.0f);
        Tensor m3 = onesPlus(0.25f, -0.5f, -4.0f, 1.0f, 2.0f);
        // k = (int)(0.6·5) = 3 per model. δ2 has |1.0| at i1 and i4: the lower index wins.
        MagnitudeThreshold t1 = select(base, m1, 3), t2 = select(base, m2, 3), t3 = select(base, m3, 3);
        assertEquals(new MagnitudeThreshold(key(1f), 1), t1);
        assertEquals(new MagnitudeThreshold(key(1f), 1), t2);
        assertEquals(new MagnitudeThreshold(key(1f), 1), t3);
        // Trimmed: δ̂1 = [1, −2, 0, 0, 3], δ̂2 = [−1.5, 1, 0, 2, 0], δ̂3 = [0, 0, −4, 1, 2]
        // weighted (1, 0.5, 2): v1 = [1, −2, 0, 0, 3], v2 = [−0.75, 0.5, 0, 1, 0], v3 = [0, 0, −8, 2, 4]
        // sums 0.25, −1.5, −8, 3, 7 elect +, −, −, +, +; agreeing weights 1, 1, 2, 2.5, 3.
        Tensor out = KernelTestData.allocate("o", DType.F32, 5);
        GtaResult r = ref.gta(pass(base, List.of(m1, m2, m3), new float[] {1f, 0.5f, 2f},
                new Sparsifier[] {Sparsifier.MagnitudeBand.trim(t1), Sparsifier.MagnitudeBand.trim(t2),
                        Sparsifier.MagnitudeBand.trim(t3)}, RescaleMode.NONE, ConsensusMethod.SUM, true, out));
        assertArrayEquals(new float[] {1f + 1f / 1f, 1f + -2f / 1f, 1f + -8f / 2f, 1f + 3f / 2.5f, 1f + 7f / 3f},
                KernelTestData.values(out));
        assertArrayEquals(new long[] {3, 3, 3}, r.kept());
        assertArrayEquals(new long[] {1, 2, 1}, r.keepTies());
        assertEquals(2, r.signConflicts(), "v2 disagrees at elements 0 and 1");
        assertEquals(-1, r.nonFiniteInput());
        assertEquals(0, r.nonFiniteOutputs());
    }

    @Test
    void equalMagnitudesKeepTheLowerIndex() {
        Tensor base = f32(0, 0, 0, 0);
        Tensor model = f32(1, -1, 1, 0.5f);
        MagnitudeThreshold t = select(base, model, 2);
        assertEquals(new MagnitudeThreshold(key(1f), 2), t);
        Tensor out = KernelTestData.allocate("o", DType.F32, 4);
        GtaResult r = ref.gta(pass(base, List.of(model), new float[] {1f},
                new Sparsifier[] {Sparsifier.MagnitudeBand.trim(t)}, RescaleMode.NONE, ConsensusMethod.NONE, false, out));
        assertArrayEquals(new float[] {1, -1, 0, 0}, KernelTestData.values(out));
        assertArrayEquals(new long[] {3}, r.keepTies(), "all three |1.0| tie at the threshold");
    }

    @Test
    void signedZerosTieAtAZeroThreshold() {
        // δ = [+0.0, −0.0, 2, +0.0]: keeping 3 keeps 2 and the first two zeros, whatever their sign.
        Tensor base = f32(1, 0, 0, 5);
        Tensor model = f32(1, -0f, 2, 5);
        assertEquals(new MagnitudeThreshold(0, 2), select(base, model, 3));
        assertEquals(MagnitudeThreshold.KEEP_NONE, select(base, model, 0));
        assertEquals(MagnitudeThreshold.KEEP_ALL, select(base, model, 4));
    }

    @Test
    void zeroSumElectionElectsPlus() {
        Tensor base = f32(10);
        for (ConsensusMethod method : new ConsensusMethod[] {ConsensusMethod.SUM, ConsensusMethod.COUNT}) {
            Tensor out = KernelTestData.allocate("o", DType.F32, 1);
            GtaResult r = ref.gta(pass(base, List.of(f32(11), f32(9)), new float[] {1f, 1f},
                    new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, method, true, out));
            assertEquals(11f, out.getFloat(0), method + ": +1 elected, only the positive model agrees");
            assertEquals(1, r.signConflicts());
        }
    }

    @Test
    void zeroDivisorLeavesTheBaseOrTheUndividedSum() {
        Tensor base = f32(3, 3);
        // Element 0: both δ are 0 → nothing agrees, D = 0 → 1, out = base.
        // Element 1: δ = +1, −1 with weights 1, −1 → v = 1, 1 agree, D = 1 + −1 = 0 → 1, mixed 2.
        Tensor out = KernelTestData.allocate("o", DType.F32, 2);
        ref.gta(pass(base, List.of(f32(3, 4), f32(3, 2)), new float[] {1f, -1f},
                new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, ConsensusMethod.SUM, true, out));
        assertArrayEquals(new float[] {3, 5}, KernelTestData.values(out));
    }

    @Test
    void normalizeWithoutConsensusIgnoresTinyWeightSums() {
        Tensor base = f32(0);
        Tensor out = KernelTestData.allocate("o", DType.F32, 1);
        ref.gta(pass(base, List.of(f32(4), f32(2)), new float[] {5e-9f, -1e-9f},
                new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, ConsensusMethod.NONE, true, out));
        assertEquals(0f + 5e-9f * 4f + -1e-9f * 2f, out.getFloat(0), "|Σw| = 4e-9 < 1e-8: divided by 1");
        ref.gta(pass(base, List.of(f32(4), f32(2)), new float[] {1f, 1f},
                new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, ConsensusMethod.NONE, true, out));
        assertEquals(3f, out.getFloat(0), "(4 + 2) / 2");
    }

    @Test
    void breadcrumbsBandKeepsTheMiddleRanks() {
        // n = 6, density 0.5 → target 3, gamma 0.2 → n_top = 1: keep ranks 1..3 = −4, 3, −2.
        Tensor base = f32(0, 0, 0, 0, 0, 0);
        Tensor model = f32(5, -4, 3, -2, 1, 0.5f);
        MagnitudeThreshold keep = select(base, model, 4), exclude = select(base, model, 1);
        assertEquals(new MagnitudeThreshold(key(2f), 1), keep);
        assertEquals(new MagnitudeThreshold(key(5f), 1), exclude);
        Tensor out = KernelTestData.allocate("o", DType.F32, 6);
        GtaResult r = ref.gta(pass(base, List.of(model), new float[] {1f},
                new Sparsifier[] {new Sparsifier.MagnitudeBand(exclude, keep)}, RescaleMode.NONE, ConsensusMethod.NONE,
                false, out));
        assertArrayEquals(new float[] {0, -4, 3, -2, 0, 0}, KernelTestData.values(out));
        assertArrayEquals(new long[] {3}, r.kept());
    }

    @Test
    void l1RescaleRestoresTheNorm() {
        // δ = [4, −1, 2, 0.5], trim k = 2 → [4, 0, 2, 0]; A = 7.5, B = 6 → ×1.25 → [5, 0, 2.5, 0].
        Tensor base = f32(0, 0, 0, 0);
        Tensor model = f32(4, -1, 2, 0.5f);
        Tensor out = KernelTestData.allocate("o", DType.F32, 4);
        ref.gta(pass(base, List.of(model), new float[] {1f},
                new Sparsifier[] {Sparsifier.MagnitudeBand.trim(select(base, model, 2))}, RescaleMode.L1,
                ConsensusMethod.SUM, true, out));
        assertArrayEquals(new float[] {5, 0, 2.5f, 0}, KernelTestData.values(out));
    }

    @Test
    void dareDrawMatchesTheKnownAnswer() {
        // §1.9: seed 42, this name, m = 1, i = 0 → j = 6007500, u ≈ 0.35808.
        String name = "model.layers.0.mlp.down_proj.weight";
        Tensor base = KernelTestData.of(name, DType.F32, 1f);
        Tensor model = KernelTestData.of(name, DType.F32, 3f);
        for (double density : new double[] {0.35, 0.36}) {
            Tensor out = KernelTestData.allocate(name, DType.F32, 1);
            GtaResult r = ref.gta(new GtaPass(name, base, List.of(model), new int[] {1}, new float[] {1f},
                    new Sparsifier[] {new Sparsifier.Bernoulli(density)}, RescaleMode.INVERSE_DENSITY, 42,
                    ConsensusMethod.NONE, false, 1f, out, false));
            boolean kept = density > 6007500 / 16777216.0;
            assertEquals(kept ? 1 : 0, r.kept()[0], "density " + density);
            assertEquals(kept ? 1f + (float) (2f / density) : 1f, out.getFloat(0), "density " + density);
        }
    }

    @Test
    void dareDensityZeroReturnsTheBaseAndDensityOneIsTheIdentity() {
        Tensor base = f32(1, 2, 3);
        Tensor model = f32(2, 0, 7);
        for (double density : new double[] {0, 1}) {
            Tensor out = KernelTestData.allocate("o", DType.F32, 3);
            ref.gta(pass(base, List.of(model), new float[] {1f}, new Sparsifier[] {new Sparsifier.Bernoulli(density)},
                    RescaleMode.L1, ConsensusMethod.NONE, false, out));
            assertArrayEquals(density == 0 ? new float[] {1, 2, 3} : new float[] {2, 0, 7}, KernelTestData.values(out));
        }
    }

    @Test
    void bfloat16OutputIsTheRoundedFloat32Result() {
        Tensor base = f32(1f);
        Tensor model = f32(1f + 3 * 0x1p-8f); // halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even)
        Tensor out = KernelTestData.allocate("o", DType.BF16, 1);
        ref.gta(pass(base, List.of(model), new float[] {1f}, new Sparsifier[] {Sparsifier.NONE}, RescaleMode.NONE,
                ConsensusMethod.SUM, true, out));
        assertEquals(1f + 0x1p-6f, out.getFloat(0));
    }

    @Test
    void nonFiniteInputsAreReportedBaseFirst() {
        Tensor base = f32(1, Float.NaN);
        Tensor model = f32(Float.POSITIVE_INFINITY, 1);
        Tensor out = KernelTestData.allocate("o", DType.F32, 2);
        GtaResult r = ref.gta(pass(base, List.of(model), new float[] {1f}, new Sparsifier[] {Sparsifier.NONE},
                RescaleMode.NONE, ConsensusMethod.SUM, true, out));
        assertEquals(0, r.nonFiniteInput());
        r = ref.gta(pass(f32(1, 2), List.of(f32(1, 2), model), new float[] {1f, 1f},
                new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, ConsensusMethod.SUM, true, out));
        assertEquals(2, r.nonFiniteInput(), "1 + position of the second model");
    }

    @Test
    void linearIsTheWeightedSumOverTheDivisor() {
        Tensor out = KernelTestData.allocate("o", DType.F32, 2);
        LinearResult r = ref.linear(new LinearPass("lin", List.of(f32(1, 2), f32(3, 4)), new float[] {0.25f, 0.75f}, 1f,
                out, false));
        assertArrayEquals(new float[] {2.5f, 3.5f}, KernelTestData.values(out));
        assertEquals(new LinearResult(-1, 0), r);
        r = ref.linear(new LinearPass("lin", List.of(f32(1, 2), f32(3, Float.NaN)), new float[] {1f, 1f}, 2f, out, false));
        assertEquals(new LinearResult(1, 0), r);
    }

    @Test
    void blockedL1SumFollowsTheDocumentedOrder() {
        long seed = 77;
        System.out.println("blocked L1: seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        int n = 3 * BlockedL1Sum.BLOCK + 12345;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(-30, 30)));
        BlockedL1Sum sum = new BlockedL1Sum();
        for (float v : x) sum.add(v);
        // An independent model of the rule: per block, 8 strided partial sums, then lanes in order.
        double total = 0;
        for (int start = 0; start < n; start += BlockedL1Sum.BLOCK) {
            double[] p = new double[8];
            for (int i = start; i < Math.min(n, start + BlockedL1Sum.BLOCK); i++) p[(i - start) % 8] += Math.abs(x[i]);
            double block = 0;
            for (double v : p) block += v;
            total += block;
        }
        assertEquals(Double.doubleToRawLongBits(total), Double.doubleToRawLongBits(sum.sum()));
    }
}

package dev.amalgam.kernel.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DellaPass;
import dev.amalgam.kernel.DellaRows;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelTestData;
import dev.amalgam.kernel.KernelTestData.Style;
import dev.amalgam.kernel.ReferenceDella;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** DELLA (§8): ranks, probabilities, masks, and the fast CPU kernel against the reference bit for bit. */
class DellaKernelTest {

    static final long[][] SHAPES = {{}, {1}, {2}, {7}, {13, 1}, {1, 13}, {5, 97}, {3, 4, 5}, {2, 3, 1, 4}, {70_001}, {150, 301}};

    static Tensor shaped(Tensor flat, long[] shape) {
        return new Tensor(new TensorInfo(flat.name(), flat.dtype(), shape), flat.data());
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    @Test
    void radixRanksMatchTheDefinition() {
        SplittableRandom rnd = new SplittableRandom(3);
        RowRanks ranks = new RowRanks();
        for (int length : new int[] {1, 2, 3, 47, 48, 49, 64, 300, 4099}) {
            for (Style style : Style.values()) {
                Tensor base = KernelTestData.randomBase("r", DType.F32, length, style, rnd);
                Tensor x = KernelTestData.randomModel("r", DType.F32, base, style, rnd);
                float[] d = new float[length];
                for (int i = 0; i < length; i++) d[i] = x.getFloat(i) - base.getFloat(i);
                long[] expected = ReferenceDella.ranks(d);
                int[] keys = ranks.keys(length);
                for (int i = 0; i < length; i++) keys[i] = dev.amalgam.kernel.MagnitudeKey.of(d[i]);
                int[] order = ranks.sort(length);
                long[] actual = new long[length];
                for (int s = 0; s < length; s++) actual[order[s]] = s + 1;
                assertArrayEquals(expected, actual, "length " + length + " " + style);
            }
        }
    }

    @Test
    void rankDefinitionOnTies() {
        // Equal keys (0.5/−0.5, −0.0/+0.0): the higher position ranks lower; 3 is the largest.
        assertArrayEquals(new long[] {4, 2, 1, 5, 3}, ReferenceDella.ranks(new float[] {0.5f, -0.0f, 0.0f, 3f, -0.5f}));
    }

    @Test
    void probabilitiesAverageToTheDensityAndStayInTheWindow() {
        // §14 property 12.
        for (long length : new long[] {1, 2, 3, 10, 97, 4096}) {
            for (double[] de : new double[][] {{0.5, 0.15}, {0.3, 0.29}, {0.9, 0.05}, {0.2, 0.0}}) {
                double sum = 0;
                for (long r = 1; r <= length; r++) {
                    double p = DellaRows.probability(r, length, de[0], de[1]);
                    assertTrue(p >= de[0] - de[1] && p <= de[0] + de[1], "p in window");
                    sum += p;
                }
                assertEquals(de[0], sum / length, 1e-12, "mean of p over a row of " + length);
            }
        }
        assertEquals(0.5, DellaRows.probability(1, 1, 0.5, 0.15));  // L = 1: the density (mergekit: NaN)
        assertEquals(0.35, DellaRows.probability(1, 2, 0.5, 0.15), 0);
        assertEquals(0.65, DellaRows.probability(2, 2, 0.5, 0.15), 1e-15);
    }

    @Test
    void windowOutsideTheUnitIntervalIsRejected() {
        SplittableRandom rnd = new SplittableRandom(1);
        Tensor base = KernelTestData.randomBase("w", DType.F32, 8, Style.WIDE, rnd);
        Tensor x = KernelTestData.randomModel("w", DType.F32, base, Style.WIDE, rnd);
        for (double[] de : new double[][] {{0.1, 0.1}, {0.9, 0.1}, {0.1, 0.1 + 1e-12}, {0.95, 0.05}}) {
            assertThrows(IllegalArgumentException.class, () -> pass(base, List.of(x), new double[] {de[0]}, new double[] {de[1]},
                    DellaPass.Rescale.NONE, ConsensusMethod.NONE, false, KernelTestData.allocate("w", DType.F32, 8)));
        }
    }

    /** The mask of one model computed straight from §8 and §1.9 (O(L²) ranks). */
    @Test
    void maskFollowsTheSpecification() {
        SplittableRandom rnd = new SplittableRandom(9);
        for (long[] shape : SHAPES) {
            long n = count(shape);
            if (n > 20_000) continue;
            Tensor base = shaped(KernelTestData.randomBase("model.layers.0.mlp.down_proj.weight", DType.F32, n, Style.GRID, rnd), shape);
            Tensor x = shaped(KernelTestData.randomModel("model.layers.0.mlp.down_proj.weight", DType.F32, base, Style.GRID, rnd), shape);
            double density = 0.4, eps = 0.2;
            for (var backend : List.of(new ReferenceKernels(), new FastCpuKernels())) {
                Tensor out = shaped(KernelTestData.allocate(base.name(), DType.F32, n), shape);
                DellaPass p = new DellaPass(base.name(), base, List.of(x), new int[] {3}, new float[] {1f},
                        new double[] {density}, new double[] {eps}, DellaPass.Rescale.INVERSE_PROBABILITY, 42L,
                        ConsensusMethod.NONE, false, 1f, out, false);
                backend.della(p);
                DellaRows rows = DellaRows.of(shape);
                BernoulliMask mask = new BernoulliMask(42L, 3, Fnv1a32.hash(base.name()));
                for (long v = 0; v < rows.count(); v++) {
                    float[] d = new float[(int) rows.length()];
                    for (int q = 0; q < d.length; q++) d[q] = x.getFloat(rows.index(v, q)) - base.getFloat(rows.index(v, q));
                    long[] r = ReferenceDella.ranks(d);
                    for (int q = 0; q < d.length; q++) {
                        long i = rows.index(v, q);
                        long len = d.length;
                        double prob = len == 1 ? density : (density - eps) + ((double) (r[q] - 1) / (len - 1)) * (2 * eps);
                        boolean keep = (mask.draw(i)) < (long) Math.ceil(prob * (1 << 24));
                        float expected = base.getFloat(i) + (keep ? (float) (d[q] / prob) : 0f);
                        assertEquals(expected, out.getFloat(i), 0f, backend.name() + " shape " + java.util.Arrays.toString(shape) + " i " + i);
                    }
                }
            }
        }
    }

    @Test
    void fastCpuMatchesTheReferenceBitForBit() {
        SplittableRandom rnd = new SplittableRandom(17);
        int cases = 0;
        for (long[] shape : SHAPES) {
            long n = count(shape);
            for (DType dtype : new DType[] {DType.F32, DType.BF16}) {
                Style style = rnd.nextBoolean() ? Style.GRID : Style.WIDE;
                Tensor base = shaped(KernelTestData.randomBase("t" + cases, dtype, n, style, rnd), shape);
                List<Tensor> models = new ArrayList<>();
                for (int m = 0; m < 3; m++) models.add(shaped(KernelTestData.randomModel("t", dtype, base, style, rnd), shape));
                double[] densities = {0.5, rnd.nextBoolean() ? 1.0 : 0.3, rnd.nextInt(3) == 0 ? 0.0 : 0.7};
                double[] eps = {0.15, 0.1, 0.25};
                for (DellaPass.Rescale rescale : DellaPass.Rescale.values()) {
                    for (ConsensusMethod c : new ConsensusMethod[] {ConsensusMethod.NONE, ConsensusMethod.SUM, ConsensusMethod.COUNT}) {
                        boolean normalize = rnd.nextBoolean();
                        Tensor a = shaped(KernelTestData.allocate("t", dtype, n), shape);
                        Tensor b = shaped(KernelTestData.allocate("t", dtype, n), shape);
                        GtaResult ra = new ReferenceKernels().della(pass(base, models, densities, eps, rescale, c, normalize, a));
                        GtaResult rb = new FastCpuKernels().della(pass(base, models, densities, eps, rescale, c, normalize, b));
                        String ctx = java.util.Arrays.toString(shape) + " " + dtype + " " + rescale + " " + c;
                        KernelTestData.assertSameBits(a, b, ctx);
                        assertArrayEquals(ra.kept(), rb.kept(), ctx);
                        assertEquals(ra.signConflicts(), rb.signConflicts(), ctx);
                        assertEquals(ra.nonFiniteOutputs(), rb.nonFiniteOutputs(), ctx);
                        cases++;
                    }
                }
            }
        }
        assertTrue(cases > 100);
    }

    @Test
    void densityOneEqualsTiesAtDensityOneBitForBit() {
        // §14 property 1/3: no draws at density 1; della then is the GTA core with election.
        SplittableRandom rnd = new SplittableRandom(5);
        Tensor base = shaped(KernelTestData.randomBase("d", DType.F32, 600, Style.WIDE, rnd), new long[] {20, 30});
        List<Tensor> models = List.of(KernelTestData.randomModel("d", DType.F32, base, Style.WIDE, rnd),
                KernelTestData.randomModel("d", DType.F32, base, Style.WIDE, rnd));
        Tensor a = KernelTestData.allocate("d", DType.F32, 600);
        Tensor b = KernelTestData.allocate("d", DType.F32, 600);
        new FastCpuKernels().della(pass(base, models, new double[] {1, 1}, new double[] {0.15, 0.15}, DellaPass.Rescale.L1,
                ConsensusMethod.SUM, true, a));
        new ReferenceKernels().gta(new GtaPass("d", base, models, new int[] {1, 2}, new float[] {0.7f, 1.3f},
                new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.L1, 0, ConsensusMethod.SUM, true, 0.9f, b, false));
        KernelTestData.assertSameBits(b, a, "della density 1 vs ties density 1");
    }

    @Test
    void nonFiniteInputIsReported() {
        SplittableRandom rnd = new SplittableRandom(6);
        Tensor base = KernelTestData.randomBase("nf", DType.F32, 100, Style.WIDE, rnd);
        Tensor x = KernelTestData.randomModel("nf", DType.F32, base, Style.WIDE, rnd);
        Tensor y = KernelTestData.randomModel("nf", DType.F32, base, Style.WIDE, rnd);
        y.setFloat(77, Float.NaN);
        for (var backend : List.of(new ReferenceKernels(), new FastCpuKernels())) {
            GtaResult r = backend.della(pass(base, List.of(x, y), new double[] {0.5, 0.5}, new double[] {0.1, 0.1},
                    DellaPass.Rescale.L1, ConsensusMethod.SUM, true, KernelTestData.allocate("nf", DType.F32, 100)));
            assertEquals(2, r.nonFiniteInput(), backend.name());
        }
    }

    static DellaPass pass(Tensor base, List<Tensor> models, double[] densities, double[] eps, DellaPass.Rescale rescale,
                          ConsensusMethod c, boolean normalize, Tensor out) {
        int t = models.size();
        int[] idx = new int[t];
        float[] w = new float[t];
        for (int m = 0; m < t; m++) {
            idx[m] = m + 1;
            w[m] = m == 0 ? 0.7f : m == 1 ? 1.3f : -0.4f;
        }
        return new DellaPass(base.name(), base, models, idx, w, densities, eps, rescale, 1234L, c, normalize, 0.9f,
                shapedLike(out, base), false);
    }

    static Tensor shapedLike(Tensor out, Tensor base) {
        return new Tensor(new TensorInfo(out.name(), out.dtype(), base.info().shape()), out.data());
    }
}

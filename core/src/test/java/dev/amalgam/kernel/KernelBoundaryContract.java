package dev.amalgam.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.kernel.KernelBackendContract.ReductionTolerance;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The exact boundaries of the spec, computed by hand (not through an oracle), for every
 * {@link KernelBackend}: the l1 cut-off of §1.9 from both sides, the election of a zero sum (§1.7) and
 * the flat-index order of magnitude ties within a tie budget (§1.6). {@link KernelBackendContract}
 * extends it, so each backend's contract run includes these; {@code ReferenceKernelsBoundaryTest}
 * runs them alone (fast enough for mutation testing).
 */
public abstract class KernelBoundaryContract {

    /** The backend under test; a fresh one per test. */
    protected abstract KernelBackend backend();

    /** Exact unless a backend declares otherwise (only values downstream of the l1 reduction, §1.10). */
    protected ReductionTolerance reductionTolerance() {
        return ReductionTolerance.EXACT;
    }

    protected KernelBackend backend;

    @BeforeEach
    void openBackend() {
        backend = backend();
    }

    @AfterEach
    void closeBackend() {
        if (backend != null) backend.close();  // null when backend() skipped the test (no device)
    }

    /**
     * §1.9's l1 cut-off by hand, not through the oracle: δ = [x, y] over a zero base, the trim keeps x
     * alone, so A = x + y and B = x (exact in double for these dyadic values) and the kept value becomes
     * x·(A/B) only if both A and B are at least 1e-7.
     */
    @Test
    void l1RescaleCutOffAtTheExactBoundariesByHand() {
        float below = Math.nextDown(1e-7f), above = 1e-7f;  // 9.99999905e-8 < 1e-7 < 1.00000001e-7
        float[][] cases = {
                // x, y, expected kept value
                {0f, 0f, 0f},                                      // A = 0
                {0x1p-25f, 0x1p-26f, 0x1p-25f},                    // A ≈ 4.5e-8 < 1e-7: kept as is
                {0x1p-24f, 0x1p-25f, 0x1p-24f},                    // A ≈ 8.9e-8, just below 1e-7
                {0x1p-24f, 0x1p-25f + 0x1p-26f, 0x1p-24f},         // A ≈ 1.04e-7 ≥ 1e-7 but B ≈ 6e-8 < 1e-7
                {below, 0x1p-26f, below},                          // A ≈ 1.15e-7, B one float below 1e-7
                {above, 0x1p-26f, (float) (above * ((above + (double) 0x1p-26f) / above))},  // B just ≥ 1e-7: rescaled
                {0x1p-23f, 0x1p-24f, 1.5f * 0x1p-23f},             // A ≈ 1.8e-7, B ≈ 1.2e-7: ×1.5
                {0x1p-22f, 0x1p-22f / 3, (float) (0x1p-22f * ((0x1p-22f + (double) (0x1p-22f / 3)) / 0x1p-22f))},  // ≈ 2e-7 / 3e-7
        };
        for (float[] k : cases) {
            Tensor base = KernelTestData.of("l1", DType.F32, 0f, 0f);
            Tensor model = KernelTestData.of("l1", DType.F32, k[0], k[1]);
            Tensor out = KernelTestData.allocate("l1", DType.F32, 2);
            MagnitudeThreshold keepX = new MagnitudeThreshold(MagnitudeKey.of(k[0]), 1);
            GtaResult r = backend.gta(new GtaPass("l1", base, List.of(model), new int[] {0}, new float[] {1f},
                    new Sparsifier[] {Sparsifier.MagnitudeBand.trim(keepX)}, RescaleMode.L1, 0, ConsensusMethod.NONE, false, 1f,
                    out, false));
            String context = "δ = [" + k[0] + ", " + k[1] + "]";
            assertEquals(k[2], out.getFloat(0), reductionTolerance().relative() * k[2], context);  // §1.10 relative tolerance
            assertEquals(0f, out.getFloat(1), context);
            assertArrayEquals(new long[] {1}, r.kept(), context);
        }
    }

    /** §1.7: a zero election sum (or count) elects +; by hand, both consensus methods. */
    @Test
    void electionOfAZeroSumIsPositiveByHand() {
        Tensor base = KernelTestData.of("e", DType.F32, 0f, 0f, 0f);
        // δ1 = [0.5, 0.25, -0.25], δ2 = [-0.5, -0.5, 0.25]: sums 0, -0.25, 0; counts 0, 0, 0.
        Tensor m1 = KernelTestData.of("e", DType.F32, 0.5f, 0.25f, -0.25f);
        Tensor m2 = KernelTestData.of("e", DType.F32, -0.5f, -0.5f, 0.25f);
        float[][] expected = {
                {0.5f, -0.5f, 0.25f},   // SUM: +, −, + ; each element one agreeing model of weight 1
                {0.5f, 0.25f, 0.25f},   // COUNT: +, +, +
        };
        ConsensusMethod[] methods = {ConsensusMethod.SUM, ConsensusMethod.COUNT};
        for (int c = 0; c < 2; c++) {
            Tensor out = KernelTestData.allocate("e", DType.F32, 3);
            GtaResult r = backend.gta(new GtaPass("e", base, List.of(m1, m2), new int[] {0, 1}, new float[] {1f, 1f},
                    new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, 0, methods[c], true, 1f, out, false));
            assertArrayEquals(expected[c], KernelTestData.values(out), methods[c].toString());
            assertEquals(3, r.signConflicts(), methods[c] + ": one model disagrees at every element");
        }
    }

    /** §1.6: equal magnitudes at the threshold are kept in ascending flat index, within the tie budget; by hand. */
    @Test
    void trimKeepsTiesInFlatIndexOrderByHand() {
        Tensor base = KernelTestData.of("t", DType.F32, 0f, 0f, 0f, 0f, 0f, 0f);
        Tensor model = KernelTestData.of("t", DType.F32, 0.5f, -1f, 1f, 2f, -1f, 1f);
        List<DeltaSource> parts = List.of(new DeltaSource(base, model));
        // k = 3: 2 (i3), then the |1| ties i1, i2 (i4, i5 lose); k = 5: all four ties.
        assertEquals(new MagnitudeThreshold(MagnitudeKey.of(1f), 2), backend.selectLargest(parts, 3));
        assertEquals(new MagnitudeThreshold(MagnitudeKey.of(1f), 4), backend.selectLargest(parts, 5));
        long[][] budgets = {{2}, {1}, {3}, {0}};
        float[][] expected = {
                {0f, -1f, 1f, 2f, 0f, 0f},
                {0f, -1f, 0f, 2f, 0f, 0f},
                {0f, -1f, 1f, 2f, -1f, 0f},
                {0f, 0f, 0f, 2f, 0f, 0f}};
        for (int b = 0; b < budgets.length; b++) {
            Tensor out = KernelTestData.allocate("t", DType.F32, 6);
            MagnitudeThreshold keep = new MagnitudeThreshold(MagnitudeKey.of(1f), budgets[b][0]);
            GtaResult r = backend.gta(new GtaPass("t", base, List.of(model), new int[] {0}, new float[] {1f},
                    new Sparsifier[] {Sparsifier.MagnitudeBand.trim(keep)}, RescaleMode.NONE, 0, ConsensusMethod.NONE, false, 1f,
                    out, false));
            assertArrayEquals(expected[b], KernelTestData.values(out), "tie budget " + budgets[b][0]);
            assertArrayEquals(new long[] {4}, r.keepTies(), "every |1| is a tie at the threshold");
        }
    }
}

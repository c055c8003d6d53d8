package dev.amalgam.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link MagnitudeThreshold#mask} by hand: the threshold's key and tie budget are written down directly
 * (not selected by a backend), so the expected bits follow from the spec's tie rule alone (§1.5: at equal
 * magnitude the lower flat index ranks first, across the concatenated parts).
 */
class MagnitudeThresholdTest {

    private static DeltaSource delta(Arena arena, float... tau) {
        Tensor base = new Tensor(new TensorInfo("w", DType.F32, new long[] {tau.length}), arena.allocate(4L * tau.length));
        Tensor model = new Tensor(new TensorInfo("w", DType.F32, new long[] {tau.length}), arena.allocate(4L * tau.length));
        for (int i = 0; i < tau.length; i++) {
            base.setFloat(i, 1f);
            model.setFloat(i, 1f + tau[i]);
        }
        return new DeltaSource(base, model);
    }

    private static BitSet bits(int... set) {
        BitSet b = new BitSet();
        for (int i : set) b.set(i);
        return b;
    }

    @Test
    void keepsLargerKeysAndTheFirstTiesAcrossParts() {
        try (Arena arena = Arena.ofConfined()) {
            // |δ| = [.25, .5, .25 | .25, .125, .5]: key(.25) with 2 ties to keep → .5s, then the .25s at 0 and 2.
            List<DeltaSource> parts = List.of(delta(arena, 0.25f, -0.5f, -0.25f), delta(arena, 0.25f, 0.125f, 0.5f));
            MagnitudeThreshold t = new MagnitudeThreshold(MagnitudeKey.of(0.25f), 2);
            assertEquals(bits(0, 1, 2, 5), t.mask(parts));
            assertEquals(bits(0, 1, 5), t.withTiesToKeep(1).mask(parts));
            assertEquals(bits(1, 5), t.withTiesToKeep(0).mask(parts));
            assertEquals(bits(0, 1, 2, 3, 5), t.withTiesToKeep(3).mask(parts));
            assertEquals(bits(0, 1, 2, 3, 5), t.withTiesToKeep(99).mask(parts), "a budget beyond the ties keeps each tie once");
        }
    }

    @Test
    void keepAllSetsEveryBitAndKeepNoneNone() {
        try (Arena arena = Arena.ofConfined()) {
            List<DeltaSource> parts = List.of(delta(arena, 0f, -0f, 3f), delta(arena, 0f));
            assertEquals(bits(0, 1, 2, 3), MagnitudeThreshold.KEEP_ALL.mask(parts));
            assertEquals(new BitSet(), MagnitudeThreshold.KEEP_NONE.mask(parts));
            assertEquals(new BitSet(), new MagnitudeThreshold(0, 0).mask(List.of(delta(arena, 0f, 0f))),
                    "key 0 without ties keeps no zero");
        }
    }

    @Test
    void keepsAllOnlyForTheExactSentinel() {
        assertTrue(MagnitudeThreshold.KEEP_ALL.keepsAll());
        assertFalse(new MagnitudeThreshold(0, Long.MAX_VALUE - 1).keepsAll());
        assertFalse(new MagnitudeThreshold(1, Long.MAX_VALUE).keepsAll());
        assertFalse(MagnitudeThreshold.KEEP_NONE.keepsAll());
    }

    @Test
    void rejectsANegativeKeyOrBudget() {
        assertEquals("magnitude key is 31-bit: -1",
                assertThrows(IllegalArgumentException.class, () -> new MagnitudeThreshold(-1, 0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> new MagnitudeThreshold(0, -1));
    }
}

package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Chunking a batch of same-shape matrices to the device budget. */
class SvdBatchPlanTest {

    @Test
    void everythingInOneChunkWhenItFits() {
        SvdBatchPlan p = SvdBatchPlan.plan(10, 1000, 500, 10_500);
        assertEquals(List.of(new SvdBatchPlan.Chunk(0, 10)), p.chunks());
        assertEquals(10, p.largest());
    }

    @Test
    void evenChunksWhenItDoesNot() {
        // 9 fit per chunk (9500 − 500 = 9000 / 1000); 10 matrices → 2 chunks of 5, not 9 + 1.
        SvdBatchPlan p = SvdBatchPlan.plan(10, 1000, 500, 9_500);
        assertEquals(List.of(new SvdBatchPlan.Chunk(0, 5), new SvdBatchPlan.Chunk(5, 5)), p.chunks());
        // 3 per chunk, 10 matrices → 4 chunks: 3, 3, 2, 2.
        p = SvdBatchPlan.plan(10, 1000, 0, 3_999);
        assertEquals(List.of(new SvdBatchPlan.Chunk(0, 3), new SvdBatchPlan.Chunk(3, 3), new SvdBatchPlan.Chunk(6, 2),
                new SvdBatchPlan.Chunk(8, 2)), p.chunks());
        assertEquals(3, p.largest());
    }

    @Test
    void oneMatrixPerChunkAtTheLimit() {
        SvdBatchPlan p = SvdBatchPlan.plan(3, 1000, 24, 1024);
        assertEquals(3, p.chunks().size());
        for (SvdBatchPlan.Chunk c : p.chunks()) assertEquals(1, c.count());
    }

    @Test
    void gridLimitCapsTheChunk() {
        SvdBatchPlan p = SvdBatchPlan.plan(200_000, 16, 0, Long.MAX_VALUE);
        assertEquals(4, p.chunks().size());
        int covered = 0;
        for (SvdBatchPlan.Chunk c : p.chunks()) {
            assertEquals(covered, c.start());
            assertTrue(c.count() <= SvdLayouts.MAX_GRID_Y);
            covered += c.count();
        }
        assertEquals(200_000, covered);
    }

    @Test
    void emptyBatchAndImpossibleMatrix() {
        assertEquals(List.of(), SvdBatchPlan.plan(0, 100, 0, 10).chunks());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SvdBatchPlan.plan(2, 1000, 100, 1099));
        assertEquals("one matrix needs 1100 bytes of device memory, only 1099 are available", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SvdBatchPlan.plan(2, 0, 0, 10));
    }
}

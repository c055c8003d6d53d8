package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.ChunkPlan.Chunk;
import dev.amalgam.cuda.ChunkPlan.Piece;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkPlanTest {

    @Test
    void tensorThatFitsIsOneChunk() {
        ChunkPlan p = ChunkPlan.plan(1_000_003, 10, 10_000_030, 4096);
        assertEquals(List.of(new Chunk(0, 0, 1_000_003)), p.chunks());
        assertEquals(1_000_003, p.chunkElements());
        assertTrue(p.singleChunk());
    }

    @Test
    void largerTensorIsCutAtTileMultiplesOfHalfTheBudget() {
        // 10 bytes per element, 200_000 bytes budget, two slots: 10_000 elements each, aligned down to 8192
        ChunkPlan p = ChunkPlan.plan(20_001, 10, 200_000, 4096);
        assertEquals(8192, p.chunkElements());
        assertEquals(2, p.slots());
        assertTrue(2 * p.chunkElements() * 10 <= 200_000, "both slots fit the budget");
        assertEquals(List.of(new Chunk(0, 0, 8192), new Chunk(1, 8192, 8192), new Chunk(2, 16384, 3617)), p.chunks());
        long covered = p.chunks().stream().mapToLong(Chunk::count).sum();
        assertEquals(20_001, covered);
        for (Chunk c : p.chunks()) assertEquals(0, c.start() % 4096);
    }

    @Test
    void oneElementMoreThanFitsMakesThreeChunksOfHalfTheBudget() {
        assertEquals(1, ChunkPlan.plan(8192, 1, 8192, 4096).slots());
        ChunkPlan p = ChunkPlan.plan(8193, 1, 8192, 4096);
        assertEquals(List.of(new Chunk(0, 0, 4096), new Chunk(1, 4096, 4096), new Chunk(2, 8192, 1)), p.chunks());
    }

    @Test
    void emptyTensorIsOneEmptyChunk() {
        assertEquals(List.of(new Chunk(0, 0, 0)), ChunkPlan.plan(0, 4, 0, 4096).chunks());
    }

    @Test
    void budgetBelowOneTileIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChunkPlan.plan(10_000, 14, 2 * 4096 * 14 - 1, 4096));
        assertTrue(e.getMessage().contains("below two tiles (double buffering) of 4096 elements × 14 bytes"), e.getMessage());
        assertEquals(2, ChunkPlan.plan(10_000, 14, 2 * 4096 * 14, 4096).slots());
    }

    @Test
    void packKeepsSmallSegmentsTogetherAndSplitsLargeOnesAtTiles() {
        long[] counts = {10, 0, 9000, 3};
        long[] sizes = {4, 4, 2, 8};
        // budget 10_000 bytes, 100 bytes overhead per piece
        List<List<Piece>> chunks = ChunkPlan.pack(counts, sizes, 10_000, 4096, 100);
        // chunk 0: segment 0 (40 + 100), then segment 2: (10_000 - 140 - 100) / 2 = 4880 → 4096
        assertEquals(List.of(new Piece(0, 0, 10), new Piece(2, 0, 4096)), chunks.get(0));
        // a fresh chunk holds the remaining 4904 elements (9808 + 100 bytes) …
        assertEquals(List.of(new Piece(2, 4096, 4904)), chunks.get(1));
        // … leaving 92 bytes, less than segment 3's 24 bytes plus its 100 bytes of overhead
        assertEquals(List.of(new Piece(3, 0, 3)), chunks.get(2));
        assertEquals(3, chunks.size());
    }

    @Test
    void packEverythingThatFitsIsOneChunk() {
        List<List<Piece>> chunks = ChunkPlan.pack(new long[] {1, 2, 31}, new long[] {4, 4, 4}, 1 << 20, 4096, 512);
        assertEquals(1, chunks.size());
        assertEquals(3, chunks.get(0).size());
    }

    @Test
    void packBudgetBelowOneTileIsAnError() {
        assertThrows(IllegalArgumentException.class, () -> ChunkPlan.pack(new long[] {100_000}, new long[] {4}, 1000, 4096, 0));
    }
}

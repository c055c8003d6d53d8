package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TieCutoffTest {

    private static int[] tileCounts(boolean[] tie, int tile) {
        int[] counts = new int[(tie.length + tile - 1) / tile];
        for (int i = 0; i < tie.length; i++) if (tie[i]) counts[i / tile]++;
        return counts;
    }

    /** Brute force: the index of the tie with ordinal tiesToKeep, or -1 if there are not that many. */
    private static long bruteForce(boolean[] tie, long tiesToKeep) {
        long seen = 0;
        for (int i = 0; i < tie.length; i++) {
            if (tie[i] && seen++ == tiesToKeep) return i;
        }
        return TieCutoff.KEEP_ALL_TIES;
    }

    @Test
    void handComputedCase() {
        // ties at 1, 5, 6, 9 with tile 4: counts {1, 2, 1}
        boolean[] tie = new boolean[10];
        for (int i : new int[] {1, 5, 6, 9}) tie[i] = true;
        int[] counts = tileCounts(tie, 4);
        assertEquals(1, TieCutoff.find(counts, 0, 4, 10, i -> tie[(int) i]));
        assertEquals(5, TieCutoff.find(counts, 1, 4, 10, i -> tie[(int) i]));
        assertEquals(6, TieCutoff.find(counts, 2, 4, 10, i -> tie[(int) i]));
        assertEquals(9, TieCutoff.find(counts, 3, 4, 10, i -> tie[(int) i]));
        assertEquals(TieCutoff.KEEP_ALL_TIES, TieCutoff.find(counts, 4, 4, 10, i -> tie[(int) i]));
        assertEquals(TieCutoff.KEEP_ALL_TIES, TieCutoff.find(counts, Long.MAX_VALUE, 4, 10, i -> tie[(int) i]));
    }

    @Test
    void agreesWithBruteForceOnRandomTies() {
        long seed = 77L;
        System.out.println("TieCutoffTest seed " + seed);
        Random r = new Random(seed);
        for (int round = 0; round < 200; round++) {
            int n = 1 + r.nextInt(20_000);
            int tile = 1 << (2 + r.nextInt(11));
            double density = r.nextDouble() * 0.5 + 0.001;
            boolean[] tie = new boolean[n];
            long total = 0;
            for (int i = 0; i < n; i++) if (tie[i] = r.nextDouble() < density) total++;
            int[] counts = tileCounts(tie, tile);
            long budget = total == 0 ? 0 : r.nextLong(total + 2);
            assertEquals(bruteForce(tie, budget), TieCutoff.find(counts, budget, tile, n, i -> tie[(int) i]),
                    "n=" + n + " tile=" + tile + " budget=" + budget);
        }
    }

    @Test
    void inconsistentCountsAreDetected() {
        boolean[] tie = new boolean[8];
        tie[2] = true;
        assertThrows(IllegalStateException.class, () -> TieCutoff.find(new int[] {0, 3}, 1, 4, 8, i -> tie[(int) i]));
    }
}

package dev.amalgam.cuda.internal;

import java.util.function.LongPredicate;

/**
 * Turns a tie budget into a flat-index cutoff: "keep the first {@code tiesToKeep} elements whose
 * key equals the threshold key, in flat-index order" is the same as "keep the ties with index
 * &lt; cutoff", cutoff = index of the tie with ordinal {@code tiesToKeep}.
 *
 * <p>Implementation notes. The GPU counts ties per tile of {@link KernelLayouts#TILE} elements;
 * the host adds the counts in tile order to find the tile holding that tie, and scans only that
 * tile (at most TILE elements, read from the host copy of the tensor). {@code -1L} (UINT64_MAX on
 * the device) keeps every tie.
 */
public final class TieCutoff {

    public static final long KEEP_ALL_TIES = -1L;

    private TieCutoff() {
    }

    /**
     * @param tileTies   ties per tile, tile i covering elements [i·tile, (i+1)·tile)
     * @param tiesToKeep the budget (≥ 0)
     * @param isTie      whether element i (flat index) is a tie
     */
    public static long find(int[] tileTies, long tiesToKeep, int tile, long elementCount, LongPredicate isTie) {
        long total = 0;
        for (int c : tileTies) total += Integer.toUnsignedLong(c);
        if (tiesToKeep >= total) return KEEP_ALL_TIES;
        long before = 0;
        for (int t = 0; t < tileTies.length; t++) {
            long here = Integer.toUnsignedLong(tileTies[t]);
            if (before + here > tiesToKeep) {
                long ordinal = tiesToKeep - before;
                long seen = 0;
                long end = Math.min(elementCount, (long) (t + 1) * tile);
                for (long i = (long) t * tile; i < end; i++) {
                    if (isTie.test(i) && seen++ == ordinal) return i;
                }
                throw new IllegalStateException("tile " + t + " should hold " + here + " ties but the host found " + seen);
            }
            before += here;
        }
        throw new IllegalStateException("unreachable: " + tiesToKeep + " < " + total);
    }
}

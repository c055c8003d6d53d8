package dev.amalgam.kernel.cpu;

/**
 * Tie budgets of magnitude thresholds whose ties are cut in flat-index order (§1.6), for chunks
 * that run in parallel and out of order.
 *
 * <p>Implementation notes. A threshold (a "slot": model m's keep threshold is slot 2m, its
 * exclude threshold 2m + 1) keeps the first {@code budget} elements whose key equals its key, so
 * whether a tie in tile t is taken depends on the ties in every earlier tile. Waiting for them
 * would serialize the workers (and stall them behind a descheduled thread on a shared machine),
 * and counting them in an extra pass would double the reads. Instead each tile (of
 * {@link #TILE} elements) runs in one of three modes, recorded per slot:
 * <ul>
 * <li>{@link #EXACT}: the ties of all earlier chunks are known (the {@linkplain #frontier
 * frontier} has reached this chunk), so the budget left at the tile start is exact and ties are
 * taken one by one in flat order;
 * <li>{@link #ALL} / {@link #NONE}: a guess that the tile's ties are all taken / none taken,
 * chosen from the ties seen so far (the guess is only wrong near the place where the budget runs
 * out).
 * </ul>
 * Every tile records its tie count per slot. When a chunk's prefix becomes known its guesses are
 * checked against the exact rule — ALL holds iff the budget left covers the tile's ties, NONE iff
 * nothing is left — and a tile with a wrong guess is recomputed in EXACT mode. The result is
 * exactly the reference's for any schedule; only the amount of recomputation depends on timing.
 * Prefixes are extended in chunk order under the ledger's lock as chunks finish; the volatile
 * {@link #frontier} publishes them.
 */
final class TieLedger {

    /** How tiles guess when the prefix is unknown; tests force guesses to exercise the checks. */
    enum Guess {
        /** Estimate from the ties seen so far; exact whenever the prefix is known (the default). */
        ESTIMATE,
        /** Always guess "all taken" while the ledger is incomplete, even when the prefix is known. */
        ALL,
        /** Always guess "none taken" while the ledger is incomplete. */
        NONE
    }

    static final int TILE = 4096;
    static final byte EXACT = 0;
    static final byte ALL = 1;
    static final byte NONE = 2;
    /** "Take every tie": larger than any tie count, and safe to decrement. */
    static final long UNLIMITED = Long.MAX_VALUE / 4;

    private final int chunkSize;
    private final int chunks;
    private final int tilesPerChunk;
    private final long n;
    /** Ordinal slots, and per slot its budget. */
    final int[] slots;
    private final long[] budget;
    /** [slot position][tile]: ties of the tile, and the mode it ran in. */
    private final int[][] tileTies;
    private final byte[][] tileMode;
    /** [slot position][chunk]: ties in chunks before it (valid up to the frontier). */
    private final long[][] prefix;
    private final long[][] chunkTies;
    private final boolean[] done;
    private final boolean[] verified;
    private volatile int frontier;
    private final Guess policy;

    /** {@code budgets[k]} for slot {@code slots[k]} at position k. */
    TieLedger(int[] slots, long[] budgets, long n, int chunkSize, Guess policy) {
        this.policy = policy;
        this.slots = slots;
        this.budget = budgets;
        this.n = n;
        this.chunkSize = chunkSize;
        this.chunks = (int) ((n + chunkSize - 1) / chunkSize);
        this.tilesPerChunk = chunkSize / TILE;
        int tiles = (int) ((n + TILE - 1) / TILE);
        tileTies = new int[slots.length][tiles];
        tileMode = new byte[slots.length][tiles];
        prefix = new long[slots.length][chunks + 1];
        chunkTies = new long[slots.length][chunks];
        done = new boolean[chunks];
        verified = new boolean[chunks];
    }

    int positions() {
        return slots.length;
    }

    boolean complete() {
        return frontier == chunks;
    }

    boolean prefixKnown(int chunk) {
        return frontier >= chunk;
    }

    /** First tile of a chunk, and the tile count of a chunk. */
    int firstTile(int chunk) {
        return chunk * tilesPerChunk;
    }

    int tilesIn(int chunk) {
        long start = (long) chunk * chunkSize;
        long len = Math.min(chunkSize, n - start);
        return (int) ((len + TILE - 1) / TILE);
    }

    /**
     * The mode and budget left of position k at the start of a tile of {@code chunk} whose earlier
     * tiles in the chunk have {@code tiesBefore} ties: exact when the prefix is known, else a guess.
     * Returns the budget to run with ({@link #UNLIMITED} for ALL, 0 for NONE); stores the mode.
     */
    long begin(int k, int chunk, int tile, long tiesBefore, long elementsBefore) {
        int f = frontier;
        if (policy != Guess.ESTIMATE && f < chunks) {
            tileMode[k][tile] = policy == Guess.ALL ? ALL : NONE;
            return policy == Guess.ALL ? UNLIMITED : 0;
        }
        if (f >= chunk) {
            tileMode[k][tile] = EXACT;
            return Math.max(0, budget[k] - prefix[k][chunk] - tiesBefore);
        }
        long known = prefix[k][f];
        long seen = (long) f * chunkSize;
        double rate = seen > 0 ? known / (double) seen : elementsBefore > 0 ? tiesBefore / (double) elementsBefore : 0;
        double estimate = known + rate * ((long) (chunk - f) * chunkSize + TILE / 2) + tiesBefore;
        byte guess = estimate < budget[k] ? ALL : NONE;
        tileMode[k][tile] = guess;
        return guess == ALL ? UNLIMITED : 0;
    }

    void record(int k, int tile, long ties) {
        tileTies[k][tile] = (int) ties;
    }

    /** Publishes a finished chunk's tie counts (sums of its recorded tiles); extends the frontier. */
    synchronized void finish(int chunk) {
        int first = firstTile(chunk), count = tilesIn(chunk);
        for (int k = 0; k < slots.length; k++) {
            long sum = 0;
            for (int t = first; t < first + count; t++) sum += tileTies[k][t];
            chunkTies[k][chunk] = sum;
        }
        done[chunk] = true;
        int f = frontier;
        while (f < chunks && done[f]) {
            for (int k = 0; k < slots.length; k++) prefix[k][f + 1] = prefix[k][f] + chunkTies[k][f];
            f++;
        }
        frontier = f;
    }

    /**
     * The budget position k ran with (or, with {@code exact}, should run with) in a tile of a
     * chunk whose prefix is known.
     */
    long budgetAt(int k, int chunk, int tile, boolean exact) {
        byte mode = exact ? EXACT : tileMode[k][tile];
        if (mode == ALL) return UNLIMITED;
        if (mode == NONE) return 0;
        long before = prefix[k][chunk];
        for (int t = firstTile(chunk); t < tile; t++) before += tileTies[k][t];
        return Math.max(0, budget[k] - before);
    }

    /** Whether the recorded mode of position k in this tile gives the exact decisions. */
    boolean holds(int k, int chunk, int tile) {
        byte mode = tileMode[k][tile];
        if (mode == EXACT) return true;
        int ties = tileTies[k][tile];
        long left = budgetAt(k, chunk, tile, true);
        return mode == ALL ? left >= ties : left == 0 || ties == 0;
    }

    /** Marks a tile as recomputed exactly. */
    void markExact(int k, int tile) {
        tileMode[k][tile] = EXACT;
    }

    /** Claims the check of a finished chunk whose prefix is known; false if taken or not ready. */
    synchronized boolean claimCheck(int chunk) {
        if (verified[chunk] || frontier < chunk || !done[chunk]) return false;
        verified[chunk] = true;
        return true;
    }
}

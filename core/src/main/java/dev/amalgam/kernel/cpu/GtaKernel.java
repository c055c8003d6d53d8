package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.D;
import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.HALF;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.BlockedL1Sum;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * One fused task-arithmetic pass ({@link GtaPass}) on all cores, bit-identical to
 * {@link dev.amalgam.kernel.ReferenceKernels#gta}.
 *
 * <p>Implementation notes.
 * <ul>
 * <li>One read of every input and one write of the output, straight from and to their segments
 * (any storage dtype, converted in registers; no bulk copy). Work goes by sub-blocks of
 * {@link #SUB} elements whose scratch stays in L1: θ0 widened once; per model δ, sparsify,
 * rescale and weight in one loop; election and disjoint sum in one loop; × λ, + θ0 and the store
 * in one loop. Per element the order of operations is the reference's: δ = θ − θ0, sparsify,
 * rescale (double), weight, elect (double sum or sign count in model order), masked float sum and
 * divisor in model order, divide, × λ, + θ0, round to the output dtype. No FMA (the Vector API
 * never fuses mul and add).
 * <li>Each loop is small enough for C2 to compile whole: vectors never cross a call that is not
 * inlined (that boxes them: a single-loop version hit C2's inlining node limit and allocated a
 * vector per iteration), and no loop contains a call at all, not even a rare one (that stops
 * unrolling: 2× slower). Lane decisions (keep, ties, conflicts) travel as scalar lane bits
 * ({@code long}); the band's tie budgets live in locals during a loop and are taken branch-free
 * with PDEP, since bf16 data meets a tie in every other vector.
 * <li>Chunks of {@link #CHUNK} elements (= the L1 block, so per-chunk L1 sums are exactly the
 * blocks of {@link BlockedL1Sum}) run on all cores in any order. Trim ties whose budget is cut
 * somewhere inside the tensor are settled by the {@link TieLedger}: tiles guess when the prefix is
 * not known yet and are recomputed in the (rare) case the guess was wrong. Nobody waits.
 * <li>{@code l1} rescale needs Σ|δ| and Σ|δ̂| before the first output: a statistics pass computes
 * them per chunk (8 interleaved double lanes, the blocked order), records every tile's tie counts
 * (so the output pass knows every prefix) and, for DARE, caches the keep bits of each vector so
 * that Philox runs once per element.
 * <li>Non-finite inputs are detected while passing: a running max of the |δ| and |θ0| bit
 * patterns flags a chunk, which is then scanned per input. When one is found the output is junk
 * and the result reports the first offending input with all counts zero.
 * </ul>
 */
final class GtaKernel {

    static final int CHUNK = BlockedL1Sum.BLOCK;
    static final int TILE = TieLedger.TILE;
    /** Elements per sub-block of the passes: scratch of a few KiB per model stays in L1. */
    static final int SUB = 512;

    private static final int K_NONE = 0;
    private static final int K_BAND = 1;
    private static final int K_DRAW = 2;
    private static final int K_KEEP_ALL = 3;
    private static final int K_DROP_ALL = 4;
    private static final int C_NONE = 0;
    private static final int C_SUM = 1;
    private static final int C_COUNT = 2;
    /** Largest keep-bit cache (bytes) the statistics pass fills for DARE; beyond it Philox runs twice. */
    private static final long MASK_CACHE_LIMIT = 128L << 20;

    private final int t;
    private final long n;
    private final int chunks;
    /** Index 0: θ0; index 1 + m: θ_m. */
    private final MemorySegment[] segs;
    private final int[] types;
    private final MemorySegment outSeg;
    private final int outType;
    private final float[] weights;
    private final int consensus;
    private final boolean normalize;
    private final float lambda;
    private final float noConsensusDivisor;
    private final boolean checkFinite;

    private final int[] kind;
    private final boolean[] hasExclude;
    /** Per slot (2m keep, 2m + 1 exclude): threshold key, tie budget, ledger position or −1. */
    private final int[] slotKey;
    private final long[] slotBudget;
    private final int[] slotPosition;
    private final TieLedger ledger;
    private final PhiloxLanes[] philox;
    /** Per model: 0 none, 1 multiply by {@link #rescaleValue} in double, 2 divide by it in double. */
    private final int[] rescaleOp;
    private final double[] rescaleValue;
    private final boolean needL1;
    private double[][] l1Before;
    private double[][] l1After;
    /** Per DARE model, the keep bits of each vector (from the statistics pass), or null. */
    private short[][] maskCache;

    GtaKernel(GtaPass pass, TieLedger.Guess guess) {
        this.t = pass.modelCount();
        this.n = pass.elementCount();
        this.chunks = (int) ((n + CHUNK - 1) / CHUNK);
        List<Tensor> models = pass.models();
        segs = new MemorySegment[t + 1];
        types = new int[t + 1];
        segs[0] = pass.base().data();
        types[0] = StorageCodec.code(pass.base());
        for (int m = 0; m < t; m++) {
            segs[m + 1] = models.get(m).data();
            types[m + 1] = StorageCodec.code(models.get(m));
        }
        outSeg = pass.out().data();
        outType = StorageCodec.code(pass.out());
        weights = pass.weights().clone();
        consensus = switch (pass.consensus()) {
            case NONE -> C_NONE;
            case SUM -> C_SUM;
            case COUNT -> C_COUNT;
        };
        normalize = pass.normalize();
        lambda = pass.lambda();
        checkFinite = !pass.allowNonfinite();
        float allWeights = 0f;
        for (float w : weights) allWeights += w;
        noConsensusDivisor = Math.abs((double) allWeights) < 1e-8 ? 1f : allWeights;

        kind = new int[t];
        hasExclude = new boolean[t];
        slotKey = new int[2 * t];
        slotBudget = new long[2 * t];
        slotPosition = new int[2 * t];
        java.util.Arrays.fill(slotPosition, -1);
        philox = new PhiloxLanes[t];
        rescaleOp = new int[t];
        rescaleValue = new double[t];
        boolean l1 = false;
        List<Integer> ordinalSlots = new ArrayList<>();
        int nameHash = Fnv1a32.hash(pass.tensorName());
        for (int m = 0; m < t; m++) {
            Sparsifier s = pass.sparsifiers()[m];
            switch (s) {
                case Sparsifier.None none -> kind[m] = K_NONE;
                case Sparsifier.MagnitudeBand band -> {
                    kind[m] = K_BAND;
                    setSlot(2 * m, band.keep(), ordinalSlots);
                    if (band.exclude() != null) {
                        hasExclude[m] = true;
                        setSlot(2 * m + 1, band.exclude(), ordinalSlots);
                    }
                }
                case Sparsifier.Bernoulli b -> {
                    long bound = BernoulliMask.keepBound(b.density());
                    if (b.density() >= 1 || bound >= 1L << 24) {
                        kind[m] = K_KEEP_ALL;
                    } else if (bound == 0) {
                        kind[m] = K_DROP_ALL;
                    } else {
                        kind[m] = K_DRAW;
                        philox[m] = new PhiloxLanes(pass.seed(), pass.modelIndices()[m], nameHash, bound);
                    }
                }
            }
            if (kind[m] == K_NONE) continue;
            switch (pass.rescale()) {
                case NONE -> {
                }
                case L1 -> l1 = true;
                case INVERSE_DENSITY -> {
                    if (!(s instanceof Sparsifier.Bernoulli b)) {
                        throw new IllegalArgumentException("rescale_mode inverse_density needs a DARE sparsifier");
                    }
                    if (b.density() > 0 && b.density() < 1) {
                        rescaleOp[m] = 2;
                        rescaleValue[m] = b.density();
                    }
                }
            }
        }
        needL1 = l1;
        if (ordinalSlots.isEmpty()) {
            ledger = null;
        } else {
            int[] positions = new int[ordinalSlots.size()];
            long[] budgets = new long[positions.length];
            for (int k = 0; k < positions.length; k++) {
                positions[k] = ordinalSlots.get(k);
                budgets[k] = slotBudget[positions[k]];
                slotPosition[positions[k]] = k;
            }
            ledger = new TieLedger(positions, budgets, n, CHUNK, guess);
        }
    }

    private void setSlot(int s, MagnitudeThreshold th, List<Integer> ordinalSlots) {
        slotKey[s] = th.key();
        slotBudget[s] = th.tiesToKeep();
        // Budgets of 0 or ≥ n take none or all ties anywhere: no ordering needed.
        if (th.tiesToKeep() > 0 && th.tiesToKeep() < n) ordinalSlots.add(s);
    }

    GtaResult run() {
        boolean[] nonFinite = new boolean[t + 1];
        if (needL1) {
            l1Before = new double[t][chunks];
            l1After = new double[t][chunks];
            long cacheBytes = 0;
            for (int m = 0; m < t; m++) if (kind[m] == K_DRAW) cacheBytes += 2 * (n / L + 1);
            if (cacheBytes > 0 && cacheBytes <= MASK_CACHE_LIMIT) {
                maskCache = new short[t][];
                for (int m = 0; m < t; m++) if (kind[m] == K_DRAW) maskCache[m] = new short[(int) ((n + L - 1) / L)];
            }
            List<StatsWorker> workers = ChunkRunner.run(chunks, i -> new StatsWorker());
            if (ledger != null) {
                for (int c = 0; c < chunks; c++) if (ledger.claimCheck(c)) workers.getFirst().check(c);
            }
            for (int m = 0; m < t; m++) {
                if (kind[m] == K_NONE) continue;
                double a = 0, b = 0;
                for (int c = 0; c < chunks; c++) {
                    a += l1Before[m][c];
                    b += l1After[m][c];
                }
                if (a < 1e-7 || b < 1e-7) continue;
                rescaleOp[m] = 1;
                rescaleValue[m] = a / b;
            }
        }
        List<FinalWorker> workers = ChunkRunner.run(chunks, i -> new FinalWorker());
        if (ledger != null) {
            for (int c = 0; c < chunks; c++) if (ledger.claimCheck(c)) workers.getFirst().check(c);
        }
        long[] kept = new long[t];
        long[] keepTies = new long[t];
        long conflicts = 0, nonFiniteOut = 0;
        for (FinalWorker w : workers) {
            for (int i = 0; i <= t; i++) nonFinite[i] |= w.nonFinite[i];
            for (int m = 0; m < t; m++) {
                kept[m] += w.kept[m];
                keepTies[m] += w.keepTies[m];
            }
            conflicts += w.conflicts;
            nonFiniteOut += w.nonFiniteOut;
        }
        for (int m = 0; m < t; m++) {
            if (kind[m] == K_NONE || kind[m] == K_KEEP_ALL) kept[m] = n;
        }
        if (checkFinite) {
            for (int i = 0; i <= t; i++) {
                if (nonFinite[i]) return new GtaResult(new long[t], new long[t], 0, i, 0);
            }
        }
        return new GtaResult(kept, keepTies, conflicts, -1, nonFiniteOut);
    }

    /**
     * The lowest {@code taken} set bits of {@code ties} (taken ≤ bit count ≤ 64): PDEP deposits
     * {@code taken} ones onto the tie lanes. Branch-free and call-free, like all of the band code,
     * which is written out in the loops with its budget in locals: a call in a loop, however rare,
     * stops C2 from unrolling it, a branch on ties mispredicts on bf16 data where every other
     * vector has one, and a budget in memory would chain the iterations through store forwarding.
     */
    private static long lowest(long ties, long taken) {
        return Long.expand((1L << taken) - 1, ties);
    }

    /** Lanes [part·HALF, (part + 1)·HALF) of x, widened exactly to double. */
    private static DoubleVector widen(FloatVector x, int part) {
        return (DoubleVector) x.convertShape(VectorOperators.F2D, D, part);
    }

    /** Two halves rounded to float and joined (each conversion zeroes the other half's lanes). */
    private static FloatVector narrow(DoubleVector low, DoubleVector high) {
        IntVector a = ((FloatVector) low.convertShape(VectorOperators.D2F, F, 0)).reinterpretAsInts();
        IntVector b = ((FloatVector) high.convertShape(VectorOperators.D2F, F, -1)).reinterpretAsInts();
        return a.or(b).reinterpretAsFloats();
    }

    /** Per-thread state shared by both passes: tie budgets and the band decision. */
    private abstract class Worker implements ChunkRunner.Worker {
        /** Per slot: ties left to take in the current tile run, ties met in it. */
        final long[] remaining = new long[2 * t];
        final long[] tieCount = new long[2 * t];
        /** Per ledger position: ties in the chunk's tiles so far. */
        final long[] chunkTies = new long[ledger == null ? 0 : ledger.positions()];
        final StorageCodec.Tail tail = n % L == 0 ? null : new StorageCodec.Tail(segs, types, n);

        /** Sets the budgets of model m's slots (all models if m &lt; 0) for a tile run. */
        void beginTile(int m, int chunk, int tile, long elementsBefore) {
            int from = m < 0 ? 0 : 2 * m, to = m < 0 ? 2 * t : 2 * m + 2;
            for (int s = from; s < to; s++) {
                tieCount[s] = 0;
                int k = slotPosition[s];
                remaining[s] = k < 0 ? slotBudget[s] : ledger.begin(k, chunk, tile, chunkTies[k], elementsBefore);
            }
        }

        /** Records the tile's ties of model m's ordinal slots (all models if m &lt; 0). */
        void endTile(int m, int tile) {
            int from = m < 0 ? 0 : 2 * m, to = m < 0 ? 2 * t : 2 * m + 2;
            for (int s = from; s < to; s++) {
                int k = slotPosition[s];
                if (k < 0) continue;
                ledger.record(k, tile, tieCount[s]);
                chunkTies[k] += tieCount[s];
            }
        }

        /** Budgets for re-running a tile of a checked chunk: as first run, or exact. */
        void replayTile(int m, int chunk, int tile, boolean exact) {
            int from = m < 0 ? 0 : 2 * m, to = m < 0 ? 2 * t : 2 * m + 2;
            for (int s = from; s < to; s++) {
                int k = slotPosition[s];
                remaining[s] = k < 0 ? slotBudget[s] : ledger.budgetAt(k, chunk, tile, exact);
            }
        }

        void resetChunk() {
            java.util.Arrays.fill(chunkTies, 0);
        }

        /** Band state of model m for one loop: loaded into locals, written back after it. */
        final int keepKey(int m) {
            return slotKey[2 * m];
        }

        final int topKey(int m) {
            return slotKey[2 * m + 1];
        }

        /** Stores a loop's band state of model m back (budgets left, ties met). */
        final void endBand(int m, long keepLeft, long topLeft, long keepTies, long topTies) {
            remaining[2 * m] = keepLeft;
            remaining[2 * m + 1] = topLeft;
            tieCount[2 * m] += keepTies;
            tieCount[2 * m + 1] += topTies;
        }

        /** Checks the tie guesses of a finished chunk whose prefix is known; fixes wrong tiles. */
        abstract void check(int chunk);
    }

    /** Σ|δ| and Σ|δ̂| per chunk for every sparsified model (the {@code l1} statistics). */
    private final class StatsWorker extends Worker {
        /** Interleaved partial sums of the current block (before, after), between sub-blocks. */
        private final double[] before = new double[BlockedL1Sum.LANES];
        private final double[] after = new double[BlockedL1Sum.LANES];

        @Override
        public void run(int c) {
            for (int m = 0; m < t; m++) {
                if (kind[m] != K_NONE) statsChunk(c, m, false);
            }
            if (ledger != null) {
                ledger.finish(c);
                if (ledger.claimCheck(c)) check(c);
            }
        }

        @Override
        void check(int c) {
            for (int m = 0; m < t; m++) {
                if (kind[m] != K_BAND) continue;
                boolean holds = true;
                int first = ledger.firstTile(c), tiles = ledger.tilesIn(c);
                for (int s = 2 * m; s < 2 * m + 2; s++) {
                    int k = slotPosition[s];
                    for (int tile = first; k >= 0 && tile < first + tiles; tile++) holds &= ledger.holds(k, c, tile);
                }
                if (!holds) statsChunk(c, m, true);
            }
        }

        /** One model's sums over one chunk; {@code exact}: re-run of a checked chunk. */
        private void statsChunk(int c, int m, boolean exact) {
            long chunkStart = (long) c * CHUNK;
            long chunkEnd = Math.min(n, chunkStart + CHUNK);
            java.util.Arrays.fill(before, 0.0);
            java.util.Arrays.fill(after, 0.0);
            resetChunk();
            int tile = (int) (chunkStart / TILE);
            for (long tileStart = chunkStart; tileStart < chunkEnd; tileStart += TILE, tile++) {
                long tileEnd = Math.min(chunkEnd, tileStart + TILE);
                if (exact) {
                    replayTile(m, c, tile, true);
                } else {
                    beginTile(m, c, tile, tileStart - chunkStart);
                }
                for (long s = tileStart; s < tileEnd; s += SUB) {
                    // Sub-blocks start at multiples of 8 elements, so lanes map to partial sums alike.
                    statsSub(m, s, Math.min(tileEnd, s + SUB));
                }
                if (!exact) endTile(m, tile);
            }
            l1Before[m][c] = BlockedL1Sum.combineLanes(before);
            l1After[m][c] = BlockedL1Sum.combineLanes(after);
        }

        /**
         * Adds |δ| and |δ̂| of elements [from, to) to the partial sums: element i goes to partial i mod 8
         * (one 8-lane accumulator, or two 4-lane ones for alternate vectors).
         */
        private void statsSub(int m, long from, long to) {
            MemorySegment baseSeg = segs[0], modelSeg = segs[m + 1];
            int baseType = types[0], modelType = types[m + 1];
            int k = kind[m];
            PhiloxLanes random = philox[m];
            short[] cache = maskCache == null ? null : maskCache[m];
            int keepKey = keepKey(m), topKey = topKey(m);
            boolean exclude = hasExclude[m];
            long keepLeft = remaining[2 * m], topLeft = remaining[2 * m + 1], keepTies = 0, topTieCount = 0;
            // 8 partial sums: one 8-lane accumulator taking both halves in turn (L = 16), or a
            // 4-lane one per half (L = 8).
            boolean split = HALF < BlockedL1Sum.LANES;
            DoubleVector sumBefore = DoubleVector.fromArray(D, before, 0);
            DoubleVector sumAfter = DoubleVector.fromArray(D, after, 0);
            DoubleVector highBefore = DoubleVector.fromArray(D, before, BlockedL1Sum.LANES - HALF);
            DoubleVector highAfter = DoubleVector.fromArray(D, after, BlockedL1Sum.LANES - HALF);
            for (long i = from; i < to; i += L) {
                MemorySegment bs = baseSeg, ms = modelSeg;
                long at = i, valid = StorageCodec.ALL_LANES;
                if (i + L > n) {
                    tail.fill();
                    bs = tail.in[0];
                    ms = tail.in[m + 1];
                    at = 0;
                    valid = StorageCodec.validBits(n - i);
                }
                FloatVector d = StorageCodec.load(ms, modelType, at).sub(StorageCodec.load(bs, baseType, at));
                IntVector key = Lanes.magnitudeKey(d);
                FloatVector magnitude = key.reinterpretAsFloats();
                long keep;
                if (k == K_BAND) {
                    // Above the keep threshold (plus the ties its budget takes), minus above the
                    // exclude threshold (plus the ties its budget takes).
                    long ties = key.compare(VectorOperators.EQ, keepKey).toLong() & valid;
                    int tieCount = Long.bitCount(ties);
                    long taken = Math.min(keepLeft, tieCount);
                    keepLeft -= taken;
                    keepTies += tieCount;
                    keep = key.compare(VectorOperators.GT, keepKey).toLong() | lowest(ties, taken);
                    if (exclude) {
                        long topTies = key.compare(VectorOperators.EQ, topKey).toLong() & valid;
                        int topCount = Long.bitCount(topTies);
                        long topTaken = Math.min(topLeft, topCount);
                        topLeft -= topTaken;
                        topTieCount += topCount;
                        keep &= ~(key.compare(VectorOperators.GT, topKey).toLong() | lowest(topTies, topTaken));
                    }
                } else if (k == K_DRAW) {
                    keep = random.keepBits(i);
                    if (cache != null) cache[(int) (i / L)] = (short) keep;
                } else {
                    keep = k == K_DROP_ALL ? 0L : -1L;
                }
                FloatVector sparse = FloatVector.zero(F).blend(magnitude, VectorMask.fromLong(F, keep));
                if (split) {
                    sumBefore = sumBefore.add(widen(magnitude, 0));
                    highBefore = highBefore.add(widen(magnitude, 1));
                    sumAfter = sumAfter.add(widen(sparse, 0));
                    highAfter = highAfter.add(widen(sparse, 1));
                } else {
                    sumBefore = sumBefore.add(widen(magnitude, 0)).add(widen(magnitude, 1));
                    sumAfter = sumAfter.add(widen(sparse, 0)).add(widen(sparse, 1));
                }
            }
            if (k == K_BAND) endBand(m, keepLeft, topLeft, keepTies, topTieCount);
            sumBefore.intoArray(before, 0);
            sumAfter.intoArray(after, 0);
            if (split) {
                highBefore.intoArray(before, HALF);
                highAfter.intoArray(after, HALF);
            }
        }
    }

    /**
     * The output pass. Per sub-block of {@link #SUB} elements (L1-resident scratch): θ0 widened
     * once; per model the weighted δ (read straight from the model's segment); then election,
     * disjoint sum and the output values; then the store. Each phase is a small loop that C2
     * compiles whole, with every vector in registers.
     */
    private final class FinalWorker extends Worker {
        private final float[] baseValues = new float[SUB];
        /** Weighted δ of model m at [m·SUB, (m + 1)·SUB). */
        private final float[] weighted = new float[Math.max(1, t) * SUB];
        private final float[] outValues = new float[SUB];
        private final float[] f16 = new float[L];
        final boolean[] nonFinite = new boolean[t + 1];
        final long[] kept = new long[t];
        final long[] keepTies = new long[t];
        long conflicts;
        long nonFiniteOut;
        /** A |δ| or |θ0| bit pattern in the current chunk was NaN/Inf. */
        private boolean suspicious;

        @Override
        public void run(int c) {
            long chunkStart = (long) c * CHUNK;
            long chunkEnd = Math.min(n, chunkStart + CHUNK);
            boolean track = ledger != null && !ledger.complete();
            suspicious = false;
            resetChunk();
            int tile = (int) (chunkStart / TILE);
            for (long tileStart = chunkStart; tileStart < chunkEnd; tileStart += TILE, tile++) {
                beginTile(-1, c, tile, tileStart - chunkStart);
                runTile(tileStart, Math.min(chunkEnd, tileStart + TILE), 1);
                for (int m = 0; m < t; m++) keepTies[m] += tieCount[2 * m];
                endTile(-1, tile);
            }
            if (checkFinite && suspicious) findNonFinite(chunkStart, chunkEnd);
            if (track) {
                ledger.finish(c);
                if (ledger.claimCheck(c)) check(c);
            }
        }

        @Override
        void check(int c) {
            int first = ledger.firstTile(c), tiles = ledger.tilesIn(c);
            for (int tile = first; tile < first + tiles; tile++) {
                boolean holds = true;
                for (int k = 0; k < ledger.positions(); k++) holds &= ledger.holds(k, c, tile);
                if (holds) continue;
                long from = (long) tile * TILE, to = Math.min(n, from + TILE);
                // Take back what the guessed run counted (it replays exactly), then run it exactly.
                replayTile(-1, c, tile, false);
                runTile(from, to, -1);
                replayTile(-1, c, tile, true);
                runTile(from, to, 1);
                for (int k = 0; k < ledger.positions(); k++) ledger.markExact(k, tile);
            }
        }

        /** Elements [from, to) of the output; counts are added with {@code sign} (−1: take back). */
        private void runTile(long from, long to, int sign) {
            for (long s = from; s < to; s += SUB) {
                int len = (int) Math.min(SUB, to - s);
                loadBase(s, len);
                for (int m = 0; m < t; m++) weightedDelta(m, s, len, sign);
                switch (consensus) {
                    case C_SUM -> electBySum(len, sign);
                    case C_COUNT -> electByCount(len, sign);
                    default -> sumAll(len);
                }
                store(s, len, sign);
            }
        }

        /** θ0 of [start, start + len) into {@link #baseValues}. */
        private void loadBase(long start, int len) {
            MemorySegment seg = segs[0];
            int type = types[0];
            IntVector worst = IntVector.zero(I);
            for (int j = 0; j < len; j += L) {
                long i = start + j;
                MemorySegment from = seg;
                long at = i;
                if (i + L > n) {
                    tail.fill();
                    from = tail.in[0];
                    at = 0;
                }
                FloatVector b = StorageCodec.load(from, type, at);
                worst = worst.max(b.reinterpretAsInts().and(0x7FFFFFFF));
                b.intoArray(baseValues, j);
            }
            if (worst.compare(VectorOperators.GE, 0x7F800000).anyTrue()) suspicious = true;
        }

        /** Model m's δ, sparsified, rescaled and weighted, into its slice of {@link #weighted}. */
        private void weightedDelta(int m, long start, int len, int sign) {
            MemorySegment seg = segs[m + 1];
            int type = types[m + 1];
            int k = kind[m];
            int op = rescaleOp[m];
            double r = rescaleValue[m];
            float w = weights[m];
            PhiloxLanes random = philox[m];
            short[] cache = maskCache == null ? null : maskCache[m];
            int offset = m * SUB;
            long keptCount = 0;
            IntVector worst = IntVector.zero(I);
            int keepKey = keepKey(m), topKey = topKey(m);
            boolean exclude = hasExclude[m];
            long keepLeft = remaining[2 * m], topLeft = remaining[2 * m + 1], keepTies = 0, topTieCount = 0;
            for (int j = 0; j < len; j += L) {
                long i = start + j;
                MemorySegment from = seg;
                long at = i, valid = StorageCodec.ALL_LANES;
                if (i + L > n) {
                    tail.fill();
                    from = tail.in[m + 1];
                    at = 0;
                    valid = StorageCodec.validBits(n - i);
                }
                FloatVector d = StorageCodec.load(from, type, at).sub(FloatVector.fromArray(F, baseValues, j));
                IntVector key = Lanes.magnitudeKey(d);
                worst = worst.max(key);
                long keep;
                if (k == K_BAND) {
                    // Above the keep threshold (plus the ties its budget takes), minus above the
                    // exclude threshold (plus the ties its budget takes).
                    long ties = key.compare(VectorOperators.EQ, keepKey).toLong() & valid;
                    int tieCount = Long.bitCount(ties);
                    long taken = Math.min(keepLeft, tieCount);
                    keepLeft -= taken;
                    keepTies += tieCount;
                    keep = key.compare(VectorOperators.GT, keepKey).toLong() | lowest(ties, taken);
                    if (exclude) {
                        long topTies = key.compare(VectorOperators.EQ, topKey).toLong() & valid;
                        int topCount = Long.bitCount(topTies);
                        long topTaken = Math.min(topLeft, topCount);
                        topLeft -= topTaken;
                        topTieCount += topCount;
                        keep &= ~(key.compare(VectorOperators.GT, topKey).toLong() | lowest(topTies, topTaken));
                    }
                } else if (k == K_DRAW) {
                    keep = cache != null ? cache[(int) (i / L)] & 0xFFFFL : random.keepBits(i);
                } else {
                    keep = k == K_DROP_ALL ? 0L : -1L;
                }
                keptCount += Long.bitCount(keep & valid);
                d = FloatVector.zero(F).blend(d, VectorMask.fromLong(F, keep));
                if (op == 1) {
                    d = narrow(widen(d, 0).mul(r), widen(d, 1).mul(r));
                } else if (op == 2) {
                    d = narrow(widen(d, 0).div(r), widen(d, 1).div(r));
                }
                d.mul(w).intoArray(weighted, offset + j);
            }
            kept[m] += sign * keptCount;
            if (k == K_BAND) endBand(m, keepLeft, topLeft, keepTies, topTieCount);
            if (worst.compare(VectorOperators.GE, 0x7F800000).anyTrue()) suspicious = true;
        }

        /**
         * Sign election by the double sum of the weighted δ in model order (+ iff ≥ 0, so NaN
         * elects −), then the disjoint sum; the values before λ and θ0 go to {@link #outValues}.
         */
        private void electBySum(int len, int sign) {
            long conflict = 0;
            for (int j = 0; j < len; j += L) {
                DoubleVector low = DoubleVector.zero(D);
                DoubleVector high = DoubleVector.zero(D);
                for (int m = 0; m < t; m++) {
                    FloatVector x = FloatVector.fromArray(F, weighted, m * SUB + j);
                    low = low.add(widen(x, 0));
                    high = high.add(widen(x, 1));
                }
                // Sign bit clear and not NaN ⇔ sum ≥ 0; narrowing to float keeps both (the sum is
                // never −0.0: it starts at +0.0).
                long negative = narrow(low, high).reinterpretAsInts().compare(VectorOperators.UGT, 0x7F800000).toLong();
                conflict += disjointSum(j, negative, validAt(j, len));
            }
            conflicts += sign * conflict;
        }

        /** Sign election by Σ sgn (+ iff ≥ 0), then the disjoint sum. */
        private void electByCount(int len, int sign) {
            long conflict = 0;
            for (int j = 0; j < len; j += L) {
                IntVector count = IntVector.zero(I);
                for (int m = 0; m < t; m++) {
                    FloatVector x = FloatVector.fromArray(F, weighted, m * SUB + j);
                    count = count.add(1, x.compare(VectorOperators.GT, 0f).cast(I)).sub(1, x.compare(VectorOperators.LT, 0f).cast(I));
                }
                conflict += disjointSum(j, count.compare(VectorOperators.LT, 0).toLong(), validAt(j, len));
            }
            conflicts += sign * conflict;
        }

        private long validAt(int j, int len) {
            return StorageCodec.validBits(len - j);
        }

        /**
         * The masked sum and divisor of the contributions whose sign is the elected one (lanes whose
         * bit is set in {@code negative} elect −), in model order; returns the conflicted valid
         * lanes. The election comes as lane bits, not a mask: if C2 does not inline this method
         * (T = 8 makes callers big), a mask argument would be boxed on every call.
         */
        private int disjointSum(int j, long negative, long valid) {
            IntVector flip = IntVector.zero(I).blend(0x80000000, VectorMask.fromLong(I, negative));
            FloatVector mixed = FloatVector.zero(F);
            FloatVector divisor = FloatVector.zero(F);
            long conflict = 0;
            for (int m = 0; m < t; m++) {
                FloatVector x = FloatVector.fromArray(F, weighted, m * SUB + j);
                // y > 0 ⇔ sgn(x) is the elected sign; y ≥ 0 fails exactly for conflicts (x ≠ 0
                // with the other sign, or NaN).
                FloatVector y = x.reinterpretAsInts().lanewise(VectorOperators.XOR, flip).reinterpretAsFloats();
                VectorMask<Float> agree = y.compare(VectorOperators.GT, 0f);
                mixed = mixed.add(x, agree);
                divisor = divisor.add(weights[m], agree);
                conflict |= ~y.compare(VectorOperators.GE, 0f).toLong();
            }
            if (normalize) mixed = mixed.div(divisor.blend(1f, divisor.compare(VectorOperators.EQ, 0f)));
            mixed.intoArray(outValues, j);
            return Long.bitCount(conflict & valid);
        }

        /** No election: every contribution is summed; the divisor is the sum of all weights. */
        private void sumAll(int len) {
            for (int j = 0; j < len; j += L) {
                FloatVector mixed = FloatVector.zero(F);
                for (int m = 0; m < t; m++) mixed = mixed.add(FloatVector.fromArray(F, weighted, m * SUB + j));
                if (normalize) mixed = mixed.div(noConsensusDivisor);
                mixed.intoArray(outValues, j);
            }
        }

        /** θ0 + λ·mixed, rounded to the output dtype and stored. */
        private void store(long start, int len, int sign) {
            long nonFiniteCount = 0;
            for (int j = 0; j < len; j += L) {
                long i = start + j;
                MemorySegment out = outSeg;
                long at = i, valid = StorageCodec.ALL_LANES;
                if (i + L > n) {
                    out = tail.out;
                    at = 0;
                    valid = StorageCodec.validBits(n - i);
                }
                FloatVector result = FloatVector.fromArray(F, baseValues, j).add(FloatVector.fromArray(F, outValues, j).mul(lambda));
                nonFiniteCount += StorageCodec.store(out, outType, at, result, valid, f16);
                if (out != outSeg) tail.flush(outSeg, outType);
            }
            nonFiniteOut += sign * nonFiniteCount;
        }

        /** Marks which inputs hold a NaN/Inf in [from, to) (rare path: a running max flagged it). */
        private void findNonFinite(long from, long to) {
            for (int j = 0; j <= t; j++) {
                for (long i = from; i < to && !nonFinite[j]; i += L) {
                    MemorySegment seg = segs[j];
                    long at = i, valid = StorageCodec.ALL_LANES;
                    if (i + L > n) {
                        tail.fill();
                        seg = tail.in[j];
                        at = 0;
                        valid = StorageCodec.validBits(n - i);
                    }
                    IntVector bits = StorageCodec.load(seg, types[j], at).reinterpretAsInts();
                    long special = bits.and(0x7F800000).compare(VectorOperators.EQ, 0x7F800000).toLong() & valid;
                    if (special != 0) nonFinite[j] = true;
                }
            }
        }
    }
}

package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.D;
import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.BlockedL1Sum;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <li>Work is cut into chunks of {@link #CHUNK} elements (= the L1 block, so per-chunk L1 sums
 * are exactly the blocks of {@link BlockedL1Sum}), and chunks into sub-blocks of {@link #SUB}
 * elements whose inputs are widened to float32 scratch arrays that stay in L1/L2 cache. Per
 * element the order of operations is the reference's: δ = θ − θ0, sparsify, rescale, weight,
 * elect (double sum or sign count in model order), masked float sum and divisor in model order,
 * divide, × λ, + θ0, round to the output dtype. No FMA (the Vector API never fuses mul and add).
 * <li>Trim ties: an element with key = threshold key is kept iff fewer than {@code tiesToKeep}
 * such elements precede it in flat order. A chunk therefore needs the tie count of all earlier
 * chunks. Workers claim chunks in order; each first counts its chunk's ties (reading the chunk,
 * which leaves it in cache), waits for the previous chunk's prefix, publishes its own, then does
 * the real work. Thresholds that keep all or none of their ties skip this.
 * <li>{@code l1} rescale needs Σ|δ| and Σ|δ̂| before the first output: a statistics pass computes
 * them per chunk (per-block values in the blocked order, 8 interleaved double lanes) together
 * with the tie prefixes; the factors combine block values in block order.
 * <li>Non-finite inputs are detected while passing (no separate scan): when found, the output
 * is junk and the result reports the first offending input with all counts zero.
 * </ul>
 */
final class GtaKernel {

    static final int CHUNK = BlockedL1Sum.BLOCK;
    static final int SUB = 1024;

    private enum Kind { NONE, BAND, DRAW, KEEP_ALL, DROP_ALL }

    private final GtaPass pass;
    private final int t;
    private final long n;
    private final int chunks;
    private final Tensor base;
    private final Tensor[] models;
    private final float[] weights;
    private final ConsensusMethod consensus;
    private final boolean checkFinite;
    private final float noConsensusDivisor;

    private final Kind[] kind;
    private final int[] keepKey;
    private final long[] keepBudget;
    private final boolean[] hasExclude;
    private final int[] excludeKey;
    private final long[] excludeBudget;
    private final boolean[] ordinal;
    private final PhiloxLanes[] philox;
    /** Per model: 0 none, 1 multiply by {@link #rescaleValue} in double, 2 divide by it in double. */
    private final int[] rescaleOp;
    private final double[] rescaleValue;

    /** keepPrefix[m][c] = ties (key = keep key) of model m in chunks before c; likewise for exclude. */
    private final long[][] keepPrefix;
    private final long[][] excludePrefix;
    /** Prefixes of chunks 0 … published are valid. */
    private final AtomicInteger published = new AtomicInteger();
    private boolean wavefront;

    private final double[][] l1Before;
    private final double[][] l1After;

    GtaKernel(GtaPass pass) {
        this.pass = pass;
        this.t = pass.modelCount();
        this.n = pass.elementCount();
        this.chunks = (int) ((n + CHUNK - 1) / CHUNK);
        this.base = pass.base();
        List<Tensor> list = pass.models();
        this.models = list.toArray(new Tensor[0]);
        this.weights = pass.weights().clone();
        this.consensus = pass.consensus();
        this.checkFinite = !pass.allowNonfinite();
        float allWeights = 0f;
        for (float w : weights) allWeights += w;
        this.noConsensusDivisor = Math.abs((double) allWeights) < 1e-8 ? 1f : allWeights;

        kind = new Kind[t];
        keepKey = new int[t];
        keepBudget = new long[t];
        hasExclude = new boolean[t];
        excludeKey = new int[t];
        excludeBudget = new long[t];
        ordinal = new boolean[t];
        philox = new PhiloxLanes[t];
        rescaleOp = new int[t];
        rescaleValue = new double[t];
        keepPrefix = new long[t][];
        excludePrefix = new long[t][];
        boolean anyOrdinal = false;
        boolean needL1 = false;
        int nameHash = Fnv1a32.hash(pass.tensorName());
        for (int m = 0; m < t; m++) {
            Sparsifier s = pass.sparsifiers()[m];
            switch (s) {
                case Sparsifier.None none -> kind[m] = Kind.NONE;
                case Sparsifier.MagnitudeBand band -> {
                    kind[m] = Kind.BAND;
                    keepKey[m] = band.keep().key();
                    keepBudget[m] = band.keep().tiesToKeep();
                    boolean o = needsOrdinal(band.keep());
                    MagnitudeThreshold ex = band.exclude();
                    if (ex != null) {
                        hasExclude[m] = true;
                        excludeKey[m] = ex.key();
                        excludeBudget[m] = ex.tiesToKeep();
                        o |= needsOrdinal(ex);
                    }
                    ordinal[m] = o;
                    anyOrdinal |= o;
                }
                case Sparsifier.Bernoulli b -> {
                    long bound = BernoulliMask.keepBound(b.density());
                    if (b.density() >= 1 || bound >= 1L << 24) {
                        kind[m] = Kind.KEEP_ALL;
                    } else if (bound == 0) {
                        kind[m] = Kind.DROP_ALL;
                    } else {
                        kind[m] = Kind.DRAW;
                        philox[m] = new PhiloxLanes(pass.seed(), pass.modelIndices()[m], nameHash, bound);
                    }
                }
            }
            if (kind[m] == Kind.NONE) continue;
            switch (pass.rescale()) {
                case NONE -> {
                }
                case L1 -> needL1 = true;
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
        for (int m = 0; m < t; m++) {
            if (ordinal[m]) {
                keepPrefix[m] = new long[chunks + 1];
                excludePrefix[m] = new long[chunks + 1];
            }
        }
        wavefront = anyOrdinal;
        l1Before = needL1 ? new double[t][chunks] : null;
        l1After = needL1 ? new double[t][chunks] : null;
    }

    /** Whether keeping the first tiesToKeep ties needs their flat-order position. */
    private boolean needsOrdinal(MagnitudeThreshold th) {
        return th.tiesToKeep() > 0 && th.tiesToKeep() < n;
    }

    GtaResult run() {
        boolean[] nonFinite = new boolean[t + 1];
        if (l1Before != null) {
            for (StatsWorker w : ChunkRunner.run(chunks, i -> new StatsWorker())) w.mergeInto(nonFinite);
            wavefront = false; // every prefix is known now
            for (int m = 0; m < t; m++) {
                if (kind[m] == Kind.NONE) continue;
                double a = 0, b = 0;
                for (int c = 0; c < chunks; c++) {
                    a += l1Before[m][c];
                    b += l1After[m][c];
                }
                if (a < 1e-7 || b < 1e-7) continue;
                rescaleOp[m] = 1;
                rescaleValue[m] = a / b;
            }
            published.set(0);
        }
        long[] kept = new long[t];
        long[] keepTies = new long[t];
        long conflicts = 0, nonFiniteOut = 0;
        for (FinalWorker w : ChunkRunner.run(chunks, i -> new FinalWorker())) {
            w.mergeInto(nonFinite);
            for (int m = 0; m < t; m++) {
                kept[m] += w.kept[m];
                keepTies[m] += w.keepTies[m];
            }
            conflicts += w.conflicts;
            nonFiniteOut += w.nonFiniteOut;
        }
        for (int m = 0; m < t; m++) {
            if (kind[m] == Kind.NONE || kind[m] == Kind.KEEP_ALL) kept[m] = n;
        }
        if (checkFinite) {
            for (int i = 0; i <= t; i++) {
                if (nonFinite[i]) return new GtaResult(new long[t], new long[t], 0, i, 0);
            }
        }
        return new GtaResult(kept, keepTies, conflicts, -1, nonFiniteOut);
    }

    /** Scratch and partial results of one thread; both passes share the sparsify code. */
    private abstract class Worker implements ChunkRunner.Worker {
        final float[] baseValues = new float[SUB];
        final float[][] v = new float[t][SUB];
        final short[] raw = new short[SUB];
        final long[] keepRemaining = new long[t];
        final long[] excludeRemaining = new long[t];
        /** This chunk keeps a band element iff key &gt; keepAbove and not key &gt; excludeAbove (no partial ties). */
        final int[] keepAbove = new int[t];
        final int[] excludeAbove = new int[t];
        /** This chunk holds the tie that exhausts a budget: ties need their flat-order ordinal. */
        final boolean[] partialTies = new boolean[t];
        final long[] tieCount = new long[2 * t];
        final boolean[] nonFinite = new boolean[t + 1];
        final long[] kept = new long[t];
        final long[] keepTies = new long[t];

        void mergeInto(boolean[] flags) {
            for (int i = 0; i <= t; i++) flags[i] |= nonFinite[i];
        }

        /** Orders chunks by their tie counts (when needed) and sets this chunk's tie budgets. */
        void startChunk(int c) {
            if (wavefront) {
                countTies(c);
                awaitPrefix(c);
                for (int m = 0; m < t; m++) {
                    if (!ordinal[m]) continue;
                    keepPrefix[m][c + 1] = keepPrefix[m][c] + tieCount[2 * m];
                    excludePrefix[m][c + 1] = excludePrefix[m][c] + tieCount[2 * m + 1];
                }
                published.set(c + 1);
            }
            for (int m = 0; m < t; m++) {
                long keepBefore = ordinal[m] ? keepPrefix[m][c] : 0;
                long excludeBefore = ordinal[m] ? excludePrefix[m][c] : 0;
                keepRemaining[m] = Math.max(0, keepBudget[m] - keepBefore);
                excludeRemaining[m] = Math.max(0, excludeBudget[m] - excludeBefore);
                // Ties of this chunk (known for ordinal models; at most n otherwise).
                long keepHere = ordinal[m] ? keepPrefix[m][c + 1] - keepBefore : n;
                long excludeHere = ordinal[m] ? excludePrefix[m][c + 1] - excludeBefore : n;
                boolean keepAll = keepRemaining[m] >= keepHere;
                boolean excludeAll = excludeRemaining[m] >= excludeHere;
                partialTies[m] = (!keepAll && keepRemaining[m] > 0) || (hasExclude[m] && !excludeAll && excludeRemaining[m] > 0);
                // key > k − 1 ⇔ key ≥ k: all ties in; key > k: none in.
                keepAbove[m] = keepAll ? keepKey[m] - 1 : keepKey[m];
                excludeAbove[m] = !hasExclude[m] ? Integer.MAX_VALUE : excludeAll ? excludeKey[m] - 1 : excludeKey[m];
            }
        }

        private void awaitPrefix(int c) {
            int spins = 0;
            while (published.get() < c) {
                if (++spins < 1 << 10) Thread.onSpinWait();
                else Thread.yield();
            }
        }

        /** Counts, per ordinal model, keys equal to the keep and the exclude key in chunk c. */
        private void countTies(int c) {
            java.util.Arrays.fill(tieCount, 0);
            long chunkStart = (long) c * CHUNK;
            int chunkLen = (int) Math.min(CHUNK, n - chunkStart);
            float[] x = v[0];
            for (int s = 0; s < chunkLen; s += SUB) {
                int len = Math.min(SUB, chunkLen - s);
                StorageCodec.load(base, chunkStart + s, len, baseValues, raw);
                for (int m = 0; m < t; m++) {
                    if (!ordinal[m]) continue;
                    StorageCodec.load(models[m], chunkStart + s, len, x, raw);
                    long keepTie = 0, excludeTie = 0;
                    for (int i = 0; i < len; i += L) {
                        IntVector key = key(x, i);
                        VectorMask<Float> valid = Lanes.valid(i, len);
                        keepTie += key.compare(VectorOperators.EQ, keepKey[m]).cast(F).and(valid).trueCount();
                        if (hasExclude[m]) {
                            excludeTie += key.compare(VectorOperators.EQ, excludeKey[m]).cast(F).and(valid).trueCount();
                        }
                    }
                    tieCount[2 * m] += keepTie;
                    tieCount[2 * m + 1] += excludeTie;
                }
            }
        }

        /** |δ| key of x[i..] − baseValues[i..], as the int bits with the sign cleared. */
        private IntVector key(float[] x, int i) {
            FloatVector d = FloatVector.fromArray(F, x, i).sub(FloatVector.fromArray(F, baseValues, i));
            return d.reinterpretAsInts().and(0x7FFFFFFF);
        }

        /** Loads model m's run into v[m] as δ = θ − θ0 (baseValues already loaded). */
        void loadDelta(int m, long start, int len) {
            float[] x = v[m];
            StorageCodec.load(models[m], start, len, x, raw);
            if (checkFinite && !nonFinite[m + 1] && StorageCodec.anyNonFinite(x, len)) nonFinite[m + 1] = true;
            for (int i = 0; i < len; i += L) {
                FloatVector.fromArray(F, x, i).sub(FloatVector.fromArray(F, baseValues, i)).intoArray(x, i);
            }
        }

        void loadBase(long start, int len) {
            StorageCodec.load(base, start, len, baseValues, raw);
            if (checkFinite && !nonFinite[0] && StorageCodec.anyNonFinite(baseValues, len)) nonFinite[0] = true;
        }

        /**
         * Sparsifies model m's δ in {@code v[m][0, len)} in place (dropped elements become +0.0) and
         * counts kept elements and keep-threshold ties. One straight loop per kind: C2 keeps
         * vectors in registers only when no loop phi merges vectors or masks of different origin.
         */
        void sparsify(int m, long start, int len) {
            float[] x = v[m];
            switch (kind[m]) {
                case BAND -> {
                    if (!partialTies[m]) bandWithoutOrdinals(m, x, len);
                    else if (hasExclude[m]) band(m, x, len, true);
                    else band(m, x, len, false);
                }
                case DRAW -> draw(m, x, start, len);
                case DROP_ALL -> java.util.Arrays.fill(x, 0, Lanes.roundUp(len), 0f);
                default -> {
                }
            }
        }

        /** A band whose ties are all in or all out in this chunk: two compares per vector. */
        private void bandWithoutOrdinals(int m, float[] x, int len) {
            int kk = keepKey[m], above = keepAbove[m], exAbove = excludeAbove[m];
            long keptCount = 0, tieCount = 0;
            for (int i = 0; i < len; i += L) {
                VectorMask<Float> valid = Lanes.valid(i, len);
                FloatVector d = FloatVector.fromArray(F, x, i);
                IntVector key = d.reinterpretAsInts().and(0x7FFFFFFF);
                tieCount += key.compare(VectorOperators.EQ, kk).cast(F).and(valid).trueCount();
                VectorMask<Float> keep = key.compare(VectorOperators.GT, above)
                        .andNot(key.compare(VectorOperators.GT, exAbove)).cast(F);
                keptCount += keep.and(valid).trueCount();
                Lanes.zero().blend(d, keep).intoArray(x, i);
            }
            kept[m] += keptCount;
            keepTies[m] += tieCount;
        }

        private void band(int m, float[] x, int len, boolean exclude) {
            int kk = keepKey[m], ek = excludeKey[m];
            long keptCount = 0, tieCount = 0;
            for (int i = 0; i < len; i += L) {
                VectorMask<Float> valid = Lanes.valid(i, len);
                FloatVector d = FloatVector.fromArray(F, x, i);
                IntVector key = d.reinterpretAsInts().and(0x7FFFFFFF);
                VectorMask<Float> ties = key.compare(VectorOperators.EQ, kk).cast(F).and(valid);
                tieCount += ties.trueCount();
                long keepTieBits = takeTies(ties.toLong(), keepRemaining, m);
                VectorMask<Float> keep = key.compare(VectorOperators.GT, kk).cast(F).or(VectorMask.fromLong(F, keepTieBits));
                if (exclude) {
                    VectorMask<Float> exTies = key.compare(VectorOperators.EQ, ek).cast(F).and(valid);
                    long exTieBits = takeTies(exTies.toLong(), excludeRemaining, m);
                    keep = keep.andNot(key.compare(VectorOperators.GT, ek).cast(F).or(VectorMask.fromLong(F, exTieBits)));
                }
                keptCount += keep.and(valid).trueCount();
                Lanes.zero().blend(d, keep).intoArray(x, i);
            }
            kept[m] += keptCount;
            keepTies[m] += tieCount;
        }

        private void draw(int m, float[] x, long start, int len) {
            PhiloxLanes p = philox[m];
            long keptCount = 0;
            for (int i = 0; i < len; i += L) {
                VectorMask<Float> keep = p.keep(start + i);
                keptCount += keep.and(Lanes.valid(i, len)).trueCount();
                Lanes.zero().blend(FloatVector.fromArray(F, x, i), keep).intoArray(x, i);
            }
            kept[m] += keptCount;
        }

        /** The first {@code remaining[m]} set bits of these tie lanes; consumes them. */
        private long takeTies(long ties, long[] remaining, int m) {
            long r = remaining[m];
            if (r <= 0 || ties == 0) return 0;
            int c = Long.bitCount(ties);
            if (r >= c) {
                remaining[m] = r - c;
                return ties;
            }
            long chosen = 0;
            for (long k = 0; k < r; k++) {
                long lowest = ties & -ties;
                chosen |= lowest;
                ties ^= lowest;
            }
            remaining[m] = 0;
            return chosen;
        }
    }

    /** Σ|δ| and Σ|δ̂| per chunk for every sparsified model (the {@code l1} statistics). */
    private final class StatsWorker extends Worker {
        private final float[] dense = new float[SUB];

        @Override
        public void run(int c) {
            startChunk(c);
            long chunkStart = (long) c * CHUNK;
            int chunkLen = (int) Math.min(CHUNK, n - chunkStart);
            for (int m = 0; m < t; m++) {
                if (kind[m] == Kind.NONE) continue;
                double[] before = new double[BlockedL1Sum.LANES];
                double[] after = new double[BlockedL1Sum.LANES];
                for (int s = 0; s < chunkLen; s += SUB) {
                    int len = Math.min(SUB, chunkLen - s);
                    loadBase(chunkStart + s, len);
                    loadDelta(m, chunkStart + s, len);
                    System.arraycopy(v[m], 0, dense, 0, len);
                    addAbs(dense, len, before);
                    sparsify(m, chunkStart + s, len);
                    addAbs(v[m], len, after);
                }
                l1Before[m][c] = BlockedL1Sum.combineLanes(before);
                l1After[m][c] = BlockedL1Sum.combineLanes(after);
            }
        }

        /**
         * Adds |x[i]| to partial sum i mod 8 ({@link BlockedL1Sum}; runs start at multiples of 8):
         * one 8-lane accumulator, or two 4-lane ones for alternate vectors.
         */
        private void addAbs(float[] x, int len, double[] partial) {
            DoubleVector a0 = DoubleVector.fromArray(D, partial, 0);
            DoubleVector a1 = L == 4 ? DoubleVector.fromArray(D, partial, L) : a0;
            for (int i = 0; i < len; i += 8) {
                FloatVector zero = Lanes.zero();
                a0 = a0.add(widen(zero.blend(FloatVector.fromArray(F, x, i).abs(), Lanes.valid(i, len))));
                if (L == 4) a1 = a1.add(widen(zero.blend(FloatVector.fromArray(F, x, i + L).abs(), Lanes.valid(i + L, len))));
            }
            a0.intoArray(partial, 0);
            if (L == 4) a1.intoArray(partial, L);
        }
    }

    private static DoubleVector widen(FloatVector x) {
        return (DoubleVector) x.convertShape(VectorOperators.F2D, D, 0);
    }

    /** The fused output pass. */
    private final class FinalWorker extends Worker {
        private final float[] outValues = new float[SUB];
        long conflicts;
        long nonFiniteOut;

        @Override
        public void run(int c) {
            startChunk(c);
            long chunkStart = (long) c * CHUNK;
            int chunkLen = (int) Math.min(CHUNK, n - chunkStart);
            for (int s = 0; s < chunkLen; s += SUB) {
                int len = Math.min(SUB, chunkLen - s);
                long start = chunkStart + s;
                loadBase(start, len);
                for (int m = 0; m < t; m++) {
                    loadDelta(m, start, len);
                    sparsify(m, start, len);
                    rescaleAndWeight(m, len);
                }
                switch (consensus) {
                    case NONE -> combineAll(len);
                    case SUM -> combineBySum(len);
                    case COUNT -> combineByCount(len);
                }
                nonFiniteOut += StorageCodec.store(pass.out(), start, len, outValues, raw);
            }
        }

        private void rescaleAndWeight(int m, int len) {
            float[] x = v[m];
            double r = rescaleValue[m];
            float w = weights[m];
            switch (rescaleOp[m]) {
                case 1 -> {
                    for (int i = 0; i < len; i += L) {
                        FloatVector d = (FloatVector) widen(FloatVector.fromArray(F, x, i)).mul(r).convertShape(VectorOperators.D2F, F, 0);
                        d.mul(w).intoArray(x, i);
                    }
                }
                case 2 -> {
                    for (int i = 0; i < len; i += L) {
                        FloatVector d = (FloatVector) widen(FloatVector.fromArray(F, x, i)).div(r).convertShape(VectorOperators.D2F, F, 0);
                        d.mul(w).intoArray(x, i);
                    }
                }
                default -> {
                    for (int i = 0; i < len; i += L) FloatVector.fromArray(F, x, i).mul(w).intoArray(x, i);
                }
            }
        }

        /** No election: every contribution is summed; the divisor is the sum of all weights. */
        private void combineAll(int len) {
            boolean normalize = pass.normalize();
            float lambda = pass.lambda();
            for (int i = 0; i < len; i += L) {
                FloatVector mixed = Lanes.zero();
                for (int m = 0; m < t; m++) mixed = mixed.add(FloatVector.fromArray(F, v[m], i));
                if (normalize) mixed = mixed.div(noConsensusDivisor);
                FloatVector.fromArray(F, baseValues, i).add(mixed.mul(lambda)).intoArray(outValues, i);
            }
        }

        /*
         * The two election loops below repeat the disjoint sum on purpose: passing the elected
         * mask to a shared (not inlined) method would box it and drop to the Java fallback.
         */

        /** Sign of Σ v_m in double, model order; a zero sum elects +1, a NaN sum −1. */
        private void combineBySum(int len) {
            boolean normalize = pass.normalize();
            float lambda = pass.lambda();
            for (int i = 0; i < len; i += L) {
                DoubleVector sum = DoubleVector.zero(D);
                for (int m = 0; m < t; m++) sum = sum.add(widen(FloatVector.fromArray(F, v[m], i)));
                // sum ≥ 0 ⇔ sign bit clear and not NaN; D2F keeps both (sum is never −0.0: it starts at
                // +0.0), and comparing float bits avoids a double-to-float mask cast.
                FloatVector narrow = (FloatVector) sum.convertShape(VectorOperators.D2F, F, 0);
                VectorMask<Float> positive = narrow.reinterpretAsInts().compare(VectorOperators.ULE, 0x7F800000).cast(F);
                FloatVector mixed = Lanes.zero();
                FloatVector divisor = Lanes.zero();
                IntVector conflict = Lanes.intZero();
                for (int m = 0; m < t; m++) {
                    FloatVector x = FloatVector.fromArray(F, v[m], i);
                    VectorMask<Float> agree = x.compare(VectorOperators.GT, 0f).and(positive)
                            .or(x.compare(VectorOperators.LT, 0f).andNot(positive));
                    mixed = mixed.add(x, agree);
                    divisor = divisor.add(weights[m], agree);
                    conflict = conflict.lanewise(VectorOperators.OR, 1, x.compare(VectorOperators.NE, 0f).andNot(agree).cast(I));
                }
                if (normalize) mixed = mixed.div(divisor.blend(1f, divisor.compare(VectorOperators.EQ, 0f)));
                FloatVector.fromArray(F, baseValues, i).add(mixed.mul(lambda)).intoArray(outValues, i);
                conflicts += conflict.compare(VectorOperators.NE, 0).cast(F).and(Lanes.valid(i, len)).trueCount();
            }
        }

        /** Sign of Σ sgn(v_m); a zero count elects +1. */
        private void combineByCount(int len) {
            boolean normalize = pass.normalize();
            float lambda = pass.lambda();
            for (int i = 0; i < len; i += L) {
                IntVector count = Lanes.intZero();
                for (int m = 0; m < t; m++) {
                    FloatVector x = FloatVector.fromArray(F, v[m], i);
                    count = count.add(1, x.compare(VectorOperators.GT, 0f).cast(I))
                            .sub(1, x.compare(VectorOperators.LT, 0f).cast(I));
                }
                VectorMask<Float> positive = count.compare(VectorOperators.GE, 0).cast(F);
                FloatVector mixed = Lanes.zero();
                FloatVector divisor = Lanes.zero();
                IntVector conflict = Lanes.intZero();
                for (int m = 0; m < t; m++) {
                    FloatVector x = FloatVector.fromArray(F, v[m], i);
                    VectorMask<Float> agree = x.compare(VectorOperators.GT, 0f).and(positive)
                            .or(x.compare(VectorOperators.LT, 0f).andNot(positive));
                    mixed = mixed.add(x, agree);
                    divisor = divisor.add(weights[m], agree);
                    conflict = conflict.lanewise(VectorOperators.OR, 1, x.compare(VectorOperators.NE, 0f).andNot(agree).cast(I));
                }
                if (normalize) mixed = mixed.div(divisor.blend(1f, divisor.compare(VectorOperators.EQ, 0f)));
                FloatVector.fromArray(F, baseValues, i).add(mixed.mul(lambda)).intoArray(outValues, i);
                conflicts += conflict.compare(VectorOperators.NE, 0).cast(F).and(Lanes.valid(i, len)).trueCount();
            }
        }
    }
}

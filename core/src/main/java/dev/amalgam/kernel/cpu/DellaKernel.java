package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.BlockedL1Sum;
import dev.amalgam.kernel.DellaPass;
import dev.amalgam.kernel.DellaRows;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.MagnitudeKey;
import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * {@code della}/{@code della_linear} on all cores, bit-identical to
 * {@link dev.amalgam.kernel.ReferenceDella}.
 *
 * <p>Implementation notes. Three parallel passes over a float32 scratch δ̂ per model: (1) per
 * group of vectors, δ, ranks ({@link RowRanks}), Philox draws and the {@code inverse_probability}
 * division; (2) with {@code l1}, per {@link BlockedL1Sum#BLOCK}-element chunk the block L1 sums of
 * δ and δ̂ (8 interleaved partial sums, the blocked order), combined in chunk order; (3) per chunk,
 * rescale, weight, elect, disjoint sum, divide, λ, + θ0 and the store — the reference's
 * per-element operations in its order, so nothing depends on the schedule. Scalar code: the
 * ranking dominates and is not lane-parallel.
 */
final class DellaKernel {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = BlockedL1Sum.BLOCK;

    private DellaKernel() {
    }

    static GtaResult run(DellaPass pass) {
        int t = pass.modelCount();
        long n = pass.elementCount();
        Tensor base = pass.base();
        List<Tensor> models = pass.models();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        if (!pass.allowNonfinite()) {
            int bad = FiniteScan.first(base, models, chunks, CHUNK);
            if (bad >= 0) return new GtaResult(new long[t], new long[t], 0, bad, 0);
        }
        DellaRows rows = DellaRows.of(base.info().shape());
        int hash = Fnv1a32.hash(pass.tensorName());
        try (Arena arena = Arena.ofShared()) {
            MemorySegment[] v = new MemorySegment[t];
            for (int m = 0; m < t; m++) v[m] = arena.allocate(F32, Math.max(1, n));
            boolean inverse = pass.rescale() == DellaPass.Rescale.INVERSE_PROBABILITY;

            // (1) sparsify, by groups of whole vectors
            long vectors = rows.count();
            long perGroup = Math.max(1, CHUNK / Math.max(1, rows.length()));
            int groups = (int) ((vectors + perGroup - 1) / perGroup);
            long[] kept = new long[t];
            for (int m = 0; m < t; m++) {
                final int model = m;
                double density = pass.densities()[m], epsilon = pass.epsilons()[m];
                Tensor x = models.get(m);
                MemorySegment d = v[m];
                if (!pass.draws(m)) {
                    boolean keepAll = density >= 1;
                    ChunkRunner.run(chunks, w -> c -> {
                        long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                        for (long i = from; i < to; i++) d.setAtIndex(F32, i, keepAll ? x.getFloat(i) - base.getFloat(i) : 0f);
                    });
                    kept[m] = keepAll ? n : 0;
                    continue;
                }
                BernoulliMask mask = new BernoulliMask(pass.seed(), pass.modelIndices()[model], hash);
                List<SparsifyWorker> workers = ChunkRunner.run(groups,
                        w -> new SparsifyWorker(rows, perGroup, x, base, d, mask, density, epsilon, inverse));
                for (SparsifyWorker w : workers) kept[m] += w.kept;
            }

            // (2) l1 factors
            double[] factor = new double[t];
            java.util.Arrays.fill(factor, Double.NaN);
            if (pass.rescale() == DellaPass.Rescale.L1) {
                double[][] before = new double[t][chunks], after = new double[t][chunks];
                ChunkRunner.run(chunks, w -> c -> {
                    long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                    double[] pb = new double[8], pa = new double[8];
                    for (int m = 0; m < t; m++) {
                        if (!pass.draws(m)) continue;
                        java.util.Arrays.fill(pb, 0);
                        java.util.Arrays.fill(pa, 0);
                        Tensor x = models.get(m);
                        for (long i = from; i < to; i++) {
                            int lane = (int) ((i - from) & 7);
                            pb[lane] += Math.abs(x.getFloat(i) - base.getFloat(i));
                            pa[lane] += Math.abs(v[m].getAtIndex(F32, i));
                        }
                        before[m][c] = BlockedL1Sum.combineLanes(pb);
                        after[m][c] = BlockedL1Sum.combineLanes(pa);
                    }
                });
                for (int m = 0; m < t; m++) {
                    if (!pass.draws(m)) continue;
                    double a = 0, b = 0;
                    for (int c = 0; c < chunks; c++) {
                        a += before[m][c];
                        b += after[m][c];
                    }
                    if (!(a < 1e-7 || b < 1e-7)) factor[m] = a / b;
                }
            }

            // (3) rescale, weight, mix, store
            List<MixWorker> workers = ChunkRunner.run(chunks, w -> new MixWorker(pass, v, factor));
            long conflicts = 0, nonFinite = 0;
            for (MixWorker w : workers) {
                conflicts += w.mix.conflicts;
                nonFinite += w.mix.nonFinite;
            }
            return new GtaResult(kept, new long[t], conflicts, -1, nonFinite);
        }
    }

    /** Pass 1 for one model: whole vectors, ranks, draws. */
    private static final class SparsifyWorker implements ChunkRunner.Worker {
        final DellaRows rows;
        final long perGroup;
        final Tensor x, base;
        final MemorySegment d;
        final BernoulliMask mask;
        final double density, epsilon;
        final boolean inverse;
        final RowRanks ranks = new RowRanks();
        final long[] bounds;
        final double[] probs;
        long kept;

        SparsifyWorker(DellaRows rows, long perGroup, Tensor x, Tensor base, MemorySegment d, BernoulliMask mask,
                       double density, double epsilon, boolean inverse) {
            this.rows = rows;
            this.perGroup = perGroup;
            this.x = x;
            this.base = base;
            this.d = d;
            this.mask = mask;
            this.density = density;
            this.epsilon = epsilon;
            this.inverse = inverse;
            int length = (int) rows.length();
            // Probabilities and bounds depend only on the rank: computed once per call.
            bounds = new long[length];
            probs = new double[length];
            for (int s = 0; s < length; s++) {
                probs[s] = DellaRows.probability(s + 1, length, density, epsilon);
                bounds[s] = BernoulliMask.keepBound(probs[s]);
            }
        }

        @Override
        public void run(int group) {
            int length = (int) rows.length();
            long first = group * perGroup, last = Math.min(rows.count(), first + perGroup);
            float[] delta = new float[length];
            for (long vec = first; vec < last; vec++) {
                int[] keys = ranks.keys(length);
                for (int p = 0; p < length; p++) {
                    long i = rows.index(vec, p);
                    float dv = x.getFloat(i) - base.getFloat(i);
                    delta[p] = dv;
                    keys[p] = MagnitudeKey.of(dv);
                }
                int[] order = ranks.sort(length);
                for (int s = 0; s < length; s++) {
                    int p = order[s];
                    long i = rows.index(vec, p);
                    float out = 0f;
                    if (mask.draw(i) < bounds[s]) {
                        kept++;
                        out = inverse ? (float) (delta[p] / probs[s]) : delta[p];
                    }
                    d.setAtIndex(F32, i, out);
                }
            }
        }
    }

    /** Pass 3: per chunk, the reference's per-element steps. */
    private static final class MixWorker implements ChunkRunner.Worker {
        final DellaPass pass;
        final MemorySegment[] v;
        final double[] factor;
        final ChunkMix mix;

        MixWorker(DellaPass pass, MemorySegment[] v, double[] factor) {
            this.pass = pass;
            this.v = v;
            this.factor = factor;
            this.mix = new ChunkMix(pass.weights(), pass.consensus(), pass.normalize(), pass.lambda(), pass.base(), pass.out());
        }

        @Override
        public void run(int c) {
            long n = pass.elementCount();
            long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
            int t = v.length;
            float[] w = pass.weights();
            for (long i = from; i < to; i++) {
                for (int m = 0; m < t; m++) {
                    float x = v[m].getAtIndex(F32, i);
                    if (!Double.isNaN(factor[m])) x = (float) (x * factor[m]);
                    mix.values[m] = w[m] * x;
                }
                mix.element(i);
            }
        }
    }
}

package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.BlockedL1Sum;
import dev.amalgam.kernel.LongKeySelect;
import dev.amalgam.kernel.ReferenceSce;
import dev.amalgam.kernel.ScePass;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * {@code sce} on all cores, bit-identical to {@link ReferenceSce}: the per-element cross-model
 * statistics kernel (variance), a parallel-histogram radix select of the top-k variances, a
 * parallel count of threshold ties per chunk (so every chunk knows how many ties precede it),
 * the masked Σ τ² per chunk in the blocked order (combined in chunk order), and the output pass.
 * τ is recomputed from the inputs in each pass instead of being stored (N float32 copies).
 */
final class SceKernel {

    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE;
    private static final int CHUNK = BlockedL1Sum.BLOCK;

    private SceKernel() {
    }

    static ScePass.Result run(ScePass pass) {
        List<Tensor> models = pass.models();
        Tensor base = pass.base();
        int t = models.size();
        long n = base.elementCount();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        if (!pass.allowNonfinite()) {
            int bad = FiniteScan.first(base, models, chunks, CHUNK);
            if (bad >= 0) return new ScePass.Result(0, new float[t], 0, bad, 0);
        }
        try (Arena arena = Arena.ofShared()) {
            boolean select = pass.selectTopk() < 1;
            MemorySegment var = select ? arena.allocate(F64, Math.max(1, n)) : null;
            long[] tiesBefore = new long[chunks];
            LongKeySelect.Threshold th = new LongKeySelect.Threshold(-1, 0);
            long selected = n;
            if (select) {
                long[] nz = new long[chunks];
                ChunkRunner.run(chunks, w -> c -> {
                    long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                    float[] tau = new float[t];
                    long count = 0;
                    for (long i = from; i < to; i++) {
                        for (int m = 0; m < t; m++) tau[m] = models.get(m).getFloat(i) - base.getFloat(i);
                        double sum = 0;
                        for (int m = 0; m < t; m++) sum += tau[m];
                        double mean = sum / t, sq = 0;
                        for (int m = 0; m < t; m++) {
                            double d = tau[m] - mean;
                            sq += d * d;
                        }
                        double v = sq / t;
                        var.setAtIndex(F64, i, v);
                        if (v != 0) count++;
                    }
                    nz[c] = count;
                });
                long nonzero = 0;
                for (long z : nz) nonzero += z;
                long k = (long) (nonzero * pass.selectTopk());
                selected = Math.min(k, n);
                if (k == 0) {
                    long[] nf = new long[chunks];
                    ChunkRunner.run(chunks, w -> c -> {
                        long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                        for (long i = from; i < to; i++) {
                            pass.out().setFloat(i, base.getFloat(i));
                            if (!Float.isFinite(pass.out().getFloat(i))) nf[c]++;
                        }
                    });
                    long total = 0;
                    for (long x : nf) total += x;
                    return new ScePass.Result(0, new float[t], 0, -1, total);
                }
                th = LongKeySelect.select(parallelHistogram(var, n, chunks), n, k);
                LongKeySelect.Threshold threshold = th;
                long[] ties = new long[chunks];
                ChunkRunner.run(chunks, w -> c -> {
                    long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK), count = 0;
                    for (long i = from; i < to; i++) if (LongKeySelect.key(var.getAtIndex(F64, i)) == threshold.key()) count++;
                    ties[c] = count;
                });
                long sum = 0;
                for (int c = 0; c < chunks; c++) {
                    tiesBefore[c] = sum;
                    sum += ties[c];
                }
            }
            LongKeySelect.Threshold threshold = th;

            // Σ τ_m² per chunk, masked, in the blocked order.
            double[][] blocks = new double[t][chunks];
            ChunkRunner.run(chunks, w -> c -> {
                long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                double[][] lanes = new double[t][8];
                long ties = tiesBefore[c];
                for (long i = from; i < to; i++) {
                    boolean keep = true;
                    if (select) {
                        long key = LongKeySelect.key(var.getAtIndex(F64, i));
                        keep = threshold.keep(key, ties);
                        if (key == threshold.key()) ties++;
                    }
                    if (!keep) continue;  // adds +0.0: no change
                    int lane = (int) ((i - from) & 7);
                    for (int m = 0; m < t; m++) {
                        double x = models.get(m).getFloat(i) - base.getFloat(i);
                        lanes[m][lane] += x * x;
                    }
                }
                for (int m = 0; m < t; m++) blocks[m][c] = BlockedL1Sum.combineLanes(lanes[m]);
            });
            double[] s = new double[t];
            double total = 0;
            for (int m = 0; m < t; m++) {
                double sum = 0;
                for (int c = 0; c < chunks; c++) sum += blocks[m][c];
                s[m] = n == 0 ? 0 : sum / n;
                total += s[m];
            }
            float[] weights = ReferenceSce.weightsFrom(s, total);

            long[] conflicts = new long[chunks], nonFinite = new long[chunks];
            ChunkRunner.run(chunks, w -> c -> {
                long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                float[] tau = new float[t];
                long ties = tiesBefore[c];
                for (long i = from; i < to; i++) {
                    boolean keep = true;
                    if (select) {
                        long key = LongKeySelect.key(var.getAtIndex(F64, i));
                        keep = threshold.keep(key, ties);
                        if (key == threshold.key()) ties++;
                    }
                    double sum = 0;
                    for (int m = 0; m < t; m++) {
                        tau[m] = keep ? models.get(m).getFloat(i) - base.getFloat(i) : 0f;
                        sum += tau[m];
                    }
                    int elected = sum >= 0 ? 1 : -1;
                    float merged = 0f, denominator = 0f;
                    boolean conflict = false;
                    for (int m = 0; m < t; m++) {
                        float x = tau[m];
                        int sg = ChunkMix.sgn(x);
                        float erased = sg == elected ? weights[m] : 0f;
                        if (x != 0f && sg != elected) conflict = true;
                        merged += x * erased;
                        denominator += erased;
                    }
                    if (conflict) conflicts[c]++;
                    pass.out().setFloat(i, base.getFloat(i) + (merged / Math.max(denominator, 1e-6f)) * pass.scale());
                    if (!Float.isFinite(pass.out().getFloat(i))) nonFinite[c]++;
                }
            });
            long cf = 0, nf = 0;
            for (int c = 0; c < chunks; c++) {
                cf += conflicts[c];
                nf += nonFinite[c];
            }
            return new ScePass.Result(selected, weights, cf, -1, nf);
        }
    }

    private static LongKeySelect.Histogram parallelHistogram(MemorySegment var, long n, int chunks) {
        return (shift, prefix, mask) -> {
            List<HistogramWorker> workers = ChunkRunner.run(chunks, w -> new HistogramWorker(var, n, shift, prefix, mask));
            long[] h = new long[1 << 16];
            for (HistogramWorker w : workers) for (int b = 0; b < h.length; b++) h[b] += w.h[b];
            return h;
        };
    }

    private static final class HistogramWorker implements ChunkRunner.Worker {
        final long[] h = new long[1 << 16];
        final MemorySegment var;
        final long n, prefix, mask;
        final int shift;

        HistogramWorker(MemorySegment var, long n, int shift, long prefix, long mask) {
            this.var = var;
            this.n = n;
            this.shift = shift;
            this.prefix = prefix;
            this.mask = mask;
        }

        @Override
        public void run(int c) {
            long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
            for (long i = from; i < to; i++) {
                long k = LongKeySelect.key(var.getAtIndex(F64, i));
                if ((k & mask) == prefix) h[(int) ((k >>> shift) & 0xFFFF)]++;
            }
        }
    }
}

package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.BlockedL1Sum;
import dev.amalgam.kernel.MagnitudeKey;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.TallPass;
import dev.amalgam.kernel.TauPass;
import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * The τ_MTL and TALL mask passes (spec §10) on all cores, bit-identical to
 * {@link dev.amalgam.kernel.ReferenceTall}. Chunks of {@link BlockedL1Sum#BLOCK} elements (a
 * multiple of 64, so each chunk owns its mask words). Trim ties are taken in flat order: a first
 * pass counts each chunk's ties at every model's threshold, their prefix sums give each chunk its
 * budget; {@code l1} sums are per chunk in the blocked order, combined in chunk order.
 */
final class TallKernel {

    private static final int CHUNK = BlockedL1Sum.BLOCK;

    private TallKernel() {
    }

    static long[] tau(TauPass pass) {
        List<Tensor> models = pass.models();
        Tensor base = pass.base();
        int t = models.size();
        long n = base.elementCount();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        MagnitudeThreshold[] th = pass.keep();
        boolean[] trims = new boolean[t];
        for (int m = 0; m < t; m++) trims[m] = th[m] != null && !th[m].keepsAll();
        long[][] tiesBefore = new long[t][chunks];
        ChunkRunner.run(chunks, w -> c -> {
            long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
            for (int m = 0; m < t; m++) {
                if (!trims[m]) continue;
                long count = 0;
                Tensor x = models.get(m);
                for (long i = from; i < to; i++) if (MagnitudeKey.of(x.getFloat(i) - base.getFloat(i)) == th[m].key()) count++;
                tiesBefore[m][c] = count;
            }
        });
        for (int m = 0; m < t; m++) {
            long sum = 0;
            for (int c = 0; c < chunks; c++) {
                long here = tiesBefore[m][c];
                tiesBefore[m][c] = sum;
                sum += here;
            }
        }
        double[] factor = new double[t];
        java.util.Arrays.fill(factor, Double.NaN);
        long[][] keptPerChunk = new long[t][chunks];
        if (pass.l1Rescale()) {
            double[][] before = new double[t][chunks], after = new double[t][chunks];
            ChunkRunner.run(chunks, w -> c -> {
                long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                double[] pb = new double[8], pa = new double[8];
                for (int m = 0; m < t; m++) {
                    if (!trims[m]) continue;
                    java.util.Arrays.fill(pb, 0);
                    java.util.Arrays.fill(pa, 0);
                    long ties = tiesBefore[m][c];
                    Tensor x = models.get(m);
                    for (long i = from; i < to; i++) {
                        float d = x.getFloat(i) - base.getFloat(i);
                        int key = MagnitudeKey.of(d);
                        boolean keep = key > th[m].key() || (key == th[m].key() && ties++ < th[m].tiesToKeep());
                        int lane = (int) ((i - from) & 7);
                        pb[lane] += Math.abs(d);
                        pa[lane] += Math.abs(keep ? d : 0f);
                    }
                    before[m][c] = BlockedL1Sum.combineLanes(pb);
                    after[m][c] = BlockedL1Sum.combineLanes(pa);
                }
            });
            for (int m = 0; m < t; m++) {
                if (!trims[m]) continue;
                double a = 0, b = 0;
                for (int c = 0; c < chunks; c++) {
                    a += before[m][c];
                    b += after[m][c];
                }
                if (!(a < 1e-7 || b < 1e-7)) factor[m] = a / b;
            }
        }
        ChunkRunner.run(chunks, w -> new ChunkRunner.Worker() {
            final ChunkMix mix = new ChunkMix(pass.weights(), pass.consensus(), pass.normalize(), 1f, null, pass.tau());

            @Override
            public void run(int c) {
                long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
                long[] ties = new long[t];
                for (int m = 0; m < t; m++) ties[m] = tiesBefore[m][c];
                float[] wts = pass.weights();
                for (long i = from; i < to; i++) {
                    float b = base.getFloat(i);
                    for (int m = 0; m < t; m++) {
                        float d = models.get(m).getFloat(i) - b;
                        if (trims[m]) {
                            int key = MagnitudeKey.of(d);
                            boolean keep = key > th[m].key() || (key == th[m].key() && ties[m]++ < th[m].tiesToKeep());
                            if (keep) keptPerChunk[m][c]++;
                            else d = 0f;
                            if (!Double.isNaN(factor[m])) d = (float) (d * factor[m]);
                        }
                        mix.values[m] = wts[m] * d;
                    }
                    mix.element(i);
                }
            }
        });
        long[] kept = new long[t];
        for (int m = 0; m < t; m++) {
            if (!trims[m]) {
                kept[m] = n;
                continue;
            }
            for (int c = 0; c < chunks; c++) kept[m] += keptPerChunk[m][c];
        }
        return kept;
    }

    static TallPass.Result masks(TallPass pass) {
        List<Tensor> models = pass.models();
        Tensor base = pass.base();
        int t = models.size();
        long n = base.elementCount();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        long[][] counts = new long[chunks][t];
        long[] kept = new long[chunks], nonFinite = new long[chunks];
        ChunkRunner.run(chunks, w -> c -> {
            long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
            for (long i = from; i < to; i++) {
                float b = base.getFloat(i), tau = pass.tau().getFloat(i);
                long votes = 0;
                for (int m = 0; m < t; m++) {
                    float d = models.get(m).getFloat(i) - b;
                    if (Math.abs(d) > pass.lambdas()[m] * Math.abs(tau - d)) {
                        votes++;
                        counts[c][m]++;
                        if (pass.masks() != null) pass.masks()[m][(int) (i >>> 6)] |= 1L << (i & 63);
                    }
                }
                boolean keep = votes >= pass.k();
                if (keep) kept[c]++;
                if (pass.out() != null) {
                    pass.out().setFloat(i, b + pass.alpha() * (keep ? tau : 0f));
                    if (!Float.isFinite(pass.out().getFloat(i))) nonFinite[c]++;
                }
            }
        });
        long[] perModel = new long[t];
        long k = 0, nf = 0;
        for (int c = 0; c < chunks; c++) {
            for (int m = 0; m < t; m++) perModel[m] += counts[c][m];
            k += kept[c];
            nf += nonFinite[c];
        }
        return new TallPass.Result(k, perModel, nf);
    }
}

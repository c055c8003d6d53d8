package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.MagnitudeThreshold;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Exact k-largest selection over concatenated deltas ({@link dev.amalgam.kernel.KernelBackend#selectLargest}):
 * the reference's two-pass 16+16-bit radix select, with per-thread histograms merged after each
 * pass. O(n), no sort; the result is a pure function of the counts, so it cannot depend on the
 * thread count.
 *
 * <p>Implementation notes. Parts are cut into chunks of at most {@link GtaKernel#CHUNK}
 * elements; keys (|δ| bits) are computed with vectors into a scratch array and counted with
 * scalar increments. Pass 2 skips vectors with no key in the chosen high bucket.
 */
final class SelectionKernel {

    private static final int SUB = GtaKernel.SUB;

    private record Chunk(DeltaSource part, long start, int len) {
    }

    private SelectionKernel() {
    }

    static MagnitudeThreshold select(List<DeltaSource> parts, long k) {
        long n = 0;
        for (DeltaSource p : parts) n += p.elementCount();
        if (k <= 0) return MagnitudeThreshold.KEEP_NONE;
        if (k >= n) return MagnitudeThreshold.KEEP_ALL;
        List<Chunk> chunks = new ArrayList<>();
        for (DeltaSource p : parts) {
            for (long s = 0; s < p.elementCount(); s += GtaKernel.CHUNK) {
                chunks.add(new Chunk(p, s, (int) Math.min(GtaKernel.CHUNK, p.elementCount() - s)));
            }
        }
        long[] high = histogram(chunks, -1);
        long above = 0;
        int hb = high.length - 1;
        while (above + high[hb] < k) above += high[hb--];
        long[] low = histogram(chunks, hb);
        int lb = low.length - 1;
        while (above + low[lb] < k) above += low[lb--];
        return new MagnitudeThreshold((hb << 16) | lb, k - above);
    }

    /** highBucket &lt; 0: counts of key &gt;&gt;&gt; 16; else counts of key &amp; 0xFFFF among keys in that bucket. */
    private static long[] histogram(List<Chunk> chunks, int highBucket) {
        List<Counter> workers = ChunkRunner.run(chunks.size(), i -> new Counter(chunks, highBucket));
        long[] total = new long[1 << 16];
        for (Counter w : workers) {
            for (int b = 0; b < total.length; b++) total[b] += w.counts[b];
        }
        return total;
    }

    private static final class Counter implements ChunkRunner.Worker {
        private final List<Chunk> chunks;
        private final int highBucket;
        private final long[] counts = new long[1 << 16];
        private final float[] baseValues = new float[SUB];
        private final float[] modelValues = new float[SUB];
        private final int[] keys = new int[SUB];
        private final short[] raw = new short[SUB];

        Counter(List<Chunk> chunks, int highBucket) {
            this.chunks = chunks;
            this.highBucket = highBucket;
        }

        @Override
        public void run(int c) {
            Chunk chunk = chunks.get(c);
            for (int s = 0; s < chunk.len(); s += SUB) {
                int len = Math.min(SUB, chunk.len() - s);
                long start = chunk.start() + s;
                StorageCodec.load(chunk.part().base(), start, len, baseValues, raw);
                StorageCodec.load(chunk.part().model(), start, len, modelValues, raw);
                if (highBucket < 0) {
                    for (int i = 0; i < len; i += L) key(i).intoArray(keys, i);
                    for (int i = 0; i < len; i++) counts[keys[i] >>> 16]++;
                } else {
                    for (int i = 0; i < len; i += L) {
                        IntVector key = key(i);
                        if (!key.lanewise(VectorOperators.LSHR, 16).compare(VectorOperators.EQ, highBucket).anyTrue()) continue;
                        key.intoArray(keys, i);
                        int end = Math.min(L, len - i);
                        for (int j = 0; j < end; j++) {
                            int kj = keys[i + j];
                            if (kj >>> 16 == highBucket) counts[kj & 0xFFFF]++;
                        }
                    }
                }
            }
        }

        private IntVector key(int i) {
            FloatVector d = FloatVector.fromArray(F, modelValues, i).sub(FloatVector.fromArray(F, baseValues, i));
            return d.reinterpretAsInts().and(0x7FFFFFFF);
        }
    }
}

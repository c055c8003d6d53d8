package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.MagnitudeThreshold;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Exact k-largest selection over concatenated deltas ({@link dev.amalgam.kernel.KernelBackend#selectLargest}):
 * the reference's two-pass 16+16-bit radix select, with per-thread histograms merged after each
 * pass. O(n), no sort; the result is a pure function of the counts, so it cannot depend on the
 * thread count.
 *
 * <p>Implementation notes. Parts are cut into chunks of at most {@link GtaKernel#CHUNK}
 * elements, read straight from their segments a vector at a time. Pass 1 counts key &gt;&gt;&gt; 16
 * into two interleaved int histograms (even and odd lanes), so that equal neighbouring keys do
 * not wait on each other's increments; pass 2 only touches vectors holding a key of the chosen
 * bucket. Per-thread counts are ints, flushed to longs before they could overflow.
 */
final class SelectionKernel {

    private static final int BUCKETS = 1 << 16;
    /** Elements a worker counts before it flushes its int histograms (far below 2^31). */
    private static final long FLUSH = 1L << 30;

    private record Chunk(MemorySegment base, int baseType, MemorySegment model, int modelType, long start, int len,
                         StorageCodec.Tail tail) {
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
            MemorySegment b = p.base().data(), m = p.model().data();
            int bt = StorageCodec.code(p.base()), mt = StorageCodec.code(p.model());
            long count = p.elementCount();
            StorageCodec.Tail tail = count % L == 0 ? null
                    : new StorageCodec.Tail(new MemorySegment[] {b, m}, new int[] {bt, mt}, count);
            for (long s = 0; s < count; s += GtaKernel.CHUNK) {
                chunks.add(new Chunk(b, bt, m, mt, s, (int) Math.min(GtaKernel.CHUNK, count - s), tail));
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
        long[] total = new long[BUCKETS];
        for (Counter w : workers) {
            w.flush();
            for (int b = 0; b < BUCKETS; b++) total[b] += w.totals[b];
        }
        return total;
    }

    private static final class Counter implements ChunkRunner.Worker {
        private final List<Chunk> chunks;
        private final int highBucket;
        private final int[] even = new int[BUCKETS];
        private final int[] odd = new int[BUCKETS];
        private final long[] totals = new long[BUCKETS];
        private final int[] keys = new int[L];
        private long counted;

        Counter(List<Chunk> chunks, int highBucket) {
            this.chunks = chunks;
            this.highBucket = highBucket;
        }

        @Override
        public void run(int c) {
            Chunk chunk = chunks.get(c);
            if (counted > FLUSH) flush();
            counted += chunk.len();
            long end = chunk.start() + chunk.len();
            int[] k = keys;
            for (long i = chunk.start(); i < end; i += L) {
                MemorySegment b = chunk.base(), m = chunk.model();
                long at = i, valid = StorageCodec.ALL_LANES;
                if (i + L > end) {
                    chunk.tail().fill();
                    b = chunk.tail().in[0];
                    m = chunk.tail().in[1];
                    at = 0;
                    valid = StorageCodec.validBits(end - i);
                }
                IntVector key = StorageCodec.load(m, chunk.modelType(), at).sub(StorageCodec.load(b, chunk.baseType(), at))
                        .reinterpretAsInts().and(0x7FFFFFFF);
                if (highBucket < 0) {
                    if (valid == StorageCodec.ALL_LANES) {
                        key.lanewise(VectorOperators.LSHR, 16).intoArray(k, 0);
                        for (int j = 0; j < L; j += 2) {
                            even[k[j]]++;
                            odd[k[j + 1]]++;
                        }
                    } else {
                        key.lanewise(VectorOperators.LSHR, 16).intoArray(k, 0);
                        for (int j = 0; j < L; j++) if ((valid >>> j & 1) != 0) even[k[j]]++;
                    }
                } else {
                    long hits = key.lanewise(VectorOperators.LSHR, 16).compare(VectorOperators.EQ, highBucket).toLong() & valid;
                    if (hits == 0) continue;
                    key.intoArray(k, 0);
                    for (; hits != 0; hits &= hits - 1) even[k[Long.numberOfTrailingZeros(hits)] & 0xFFFF]++;
                }
            }
        }

        void flush() {
            for (int b = 0; b < BUCKETS; b++) {
                totals[b] += even[b] + (long) odd[b];
                even[b] = 0;
                odd[b] = 0;
            }
            counted = 0;
        }
    }
}

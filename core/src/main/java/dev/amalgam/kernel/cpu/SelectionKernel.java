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
 * elements, read straight from their segments a vector at a time. Pass 1 writes key &gt;&gt;&gt; 16 of
 * a sub-block with vectors and counts them with a scalar loop afterwards (reading a lane right
 * after the vector store that wrote it stalls store forwarding: this was 3× slower); pass 2 stores
 * every key vector and its hit lanes, and counts the hits of the chosen high bucket afterwards
 * (into two alternating counter copies, so that runs of one key — bf16 ties — do not chain). Per-thread counts are
 * ints, flushed to longs before they could overflow. At 16M elements both passes run at
 * memory speed; the second pass re-reads the inputs (the first pass cannot know which keys to
 * keep).
 */
final class SelectionKernel {

    private static final int BUCKETS = 1 << 16;
    private static final int SUB = 1024;
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
        for (Counter w : workers) w.flushInto(total);
        return total;
    }

    private static final class Counter implements ChunkRunner.Worker {
        private final List<Chunk> chunks;
        private final int highBucket;
        /** Pass 1: bucket b at b; pass 2: two copies of bucket b at 2b and 2b + 1. */
        private final int[] counts = new int[2 * BUCKETS];
        /** Counts flushed before they could overflow (only for more than 2^30 elements per thread). */
        private long[] flushed;
        /** Keys of one sub-block: written by vectors, counted by a scalar loop afterwards (a scalar
         * load right after the vector store that wrote it would stall store forwarding). */
        private final int[] keys = new int[SUB];
        private final long[] hitBits = new long[SUB / L];
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
            for (long s = chunk.start(); s < end; s += SUB) {
                int len = (int) Math.min(SUB, end - s);
                if (highBucket < 0) {
                    highKeys(chunk, s, len);
                    int[] k = keys;
                    for (int j = 0; j < len; j++) counts[k[j]]++;
                } else {
                    lowKeys(chunk, s, len);
                }
            }
        }

        /** key &gt;&gt;&gt; 16 of elements [start, start + len) into {@link #keys}. */
        private void highKeys(Chunk chunk, long start, int len) {
            for (int j = 0; j < len; j += L) {
                long i = start + j;
                MemorySegment b = chunk.base(), m = chunk.model();
                long at = i;
                if (i + L > chunk.start() + chunk.len()) {
                    chunk.tail().fill();
                    b = chunk.tail().in[0];
                    m = chunk.tail().in[1];
                    at = 0;
                }
                IntVector key = Lanes.magnitudeKey(StorageCodec.load(m, chunk.modelType(), at)
                        .sub(StorageCodec.load(b, chunk.baseType(), at)));
                key.lanewise(VectorOperators.LSHR, 16).intoArray(keys, j);
            }
        }

        /** Counts key &amp; 0xFFFF of the elements in [start, start + len) whose key is in the high bucket. */
        private void lowKeys(Chunk chunk, long start, int len) {
            int vectors = (len + L - 1) / L;
            for (int v = 0; v < vectors; v++) {
                long i = start + (long) v * L;
                MemorySegment b = chunk.base(), m = chunk.model();
                long at = i, valid = StorageCodec.ALL_LANES;
                if (i + L > chunk.start() + chunk.len()) {
                    chunk.tail().fill();
                    b = chunk.tail().in[0];
                    m = chunk.tail().in[1];
                    at = 0;
                    valid = StorageCodec.validBits(chunk.start() + chunk.len() - i);
                }
                IntVector key = Lanes.magnitudeKey(StorageCodec.load(m, chunk.modelType(), at)
                        .sub(StorageCodec.load(b, chunk.baseType(), at)));
                hitBits[v] = key.lanewise(VectorOperators.LSHR, 16).compare(VectorOperators.EQ, highBucket).toLong() & valid;
                key.intoArray(keys, v * L);
            }
            // Counted after the vector loop, when the keys are long stored (see highKeys); two
            // counter copies alternate so that runs of equal keys (bf16 ties) do not chain.
            int[] k = keys;
            int copy = 0;
            for (int v = 0; v < vectors; v++) {
                for (long hits = hitBits[v]; hits != 0; hits &= hits - 1) {
                    int key = k[v * L + Long.numberOfTrailingZeros(hits)];
                    counts[(key & 0xFFFF) << 1 | copy]++;
                    copy ^= 1;
                }
            }
        }

        private void flush() {
            if (flushed == null) flushed = new long[BUCKETS];
            flushInto(flushed);
        }

        void flushInto(long[] total) {
            for (int b = 0; b < BUCKETS; b++) {
                total[b] += highBucket < 0 ? counts[b] : (long) counts[2 * b] + counts[2 * b + 1];
            }
            java.util.Arrays.fill(counts, 0);
            if (flushed != null && flushed != total) {
                for (int b = 0; b < BUCKETS; b++) total[b] += flushed[b];
                flushed = null;
            }
            counted = 0;
        }
    }
}

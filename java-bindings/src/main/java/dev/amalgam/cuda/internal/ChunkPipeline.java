package dev.amalgam.cuda.internal;

import dev.amalgam.cuda.ChunkPlan.Chunk;
import java.util.List;

/**
 * Runs one pass over a list of chunks with copies on one stream and kernels on another, so that
 * the copy engines and the SMs work on different chunks at the same time.
 *
 * <p>Implementation notes
 * <ul>
 *   <li>Streams: {@code copy} carries host→device and device→host copies (through the pinned
 *       staging buffers of {@link Transfers}); {@code compute} carries kernels and memsets.
 *       Chunk i lives in device slot i mod slots (1 or 2 slots, see ChunkPlan).</li>
 *   <li>Issue order on the host, two slots: up(0) k(0) up(1) k(1) down(0) up(2) k(2) down(1) …
 *       Chunk i+1's host→device copy is queued before the host blocks on chunk i's result, and
 *       chunk i's device→host copy drains while kernel i+1 runs. With one slot every download
 *       comes before the next upload (the slot is reused at once).</li>
 *   <li>Events, one pair per slot: {@code uploaded[s]} (copy → compute: kernel i waits for its
 *       inputs and everything queued on the copy stream before them, e.g. argument tables) and
 *       {@code computed[s]} (compute → copy: the download of chunk i waits for kernel i, and the
 *       next upload into slot s waits until the kernel that read it is done). The host itself
 *       only blocks inside {@link Transfers} (staging reuse, downloads).</li>
 *   <li>After a pass the copy stream is ordered after every kernel of it, so small result
 *       downloads (counters, histograms) that follow on the copy stream see the whole pass.</li>
 *   <li>Results do not depend on the overlap: every kernel sees the same inputs, chunk start and
 *       launch order on the compute stream as in a serial run.</li>
 * </ul>
 */
public final class ChunkPipeline implements AutoCloseable {

    /** What one pass does with a chunk; each method only queues work on its stream. */
    public interface Step {
        /** Queues the chunk's inputs into device slot {@code slot} on the copy stream (or nothing if resident). */
        void upload(Chunk chunk, int slot);

        /** Queues the chunk's kernel(s) reading slot {@code slot} on the compute stream. */
        void compute(Chunk chunk, int slot);

        /** Copies the chunk's results out of slot {@code slot} on the copy stream; may block the host. */
        default void download(Chunk chunk, int slot) {
        }
    }

    public static final int MAX_SLOTS = 2;

    private final Cuda cuda;
    private final long copyStream;
    private final long computeStream;
    private final long[] uploaded = new long[MAX_SLOTS];
    private final long[] computed = new long[MAX_SLOTS];
    private long copyFence;
    private long computeFence;
    private long callerFence;

    public ChunkPipeline(Cuda cuda, long copyStream, long computeStream) {
        this.cuda = cuda;
        this.copyStream = copyStream;
        this.computeStream = computeStream;
        try {
            for (int s = 0; s < MAX_SLOTS; s++) {
                uploaded[s] = cuda.eventCreate(Cuda.EVENT_DISABLE_TIMING);
                computed[s] = cuda.eventCreate(Cuda.EVENT_DISABLE_TIMING);
            }
            copyFence = cuda.eventCreate(Cuda.EVENT_DISABLE_TIMING);
            computeFence = cuda.eventCreate(Cuda.EVENT_DISABLE_TIMING);
            callerFence = cuda.eventCreate(Cuda.EVENT_DISABLE_TIMING);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public long copyStream() {
        return copyStream;
    }

    public long computeStream() {
        return computeStream;
    }

    /** Runs {@code step} over {@code chunks} with {@code slots} device slots (1 or 2). */
    public void run(List<Chunk> chunks, int slots, Step step) {
        if (slots < 1 || slots > MAX_SLOTS) throw new IllegalArgumentException("slots " + slots);
        computeAfterCopies();
        int drained = 0;
        for (int i = 0; i < chunks.size(); i++) {
            int s = i % slots;
            while (drained <= i - slots) drain(chunks, drained++, slots, step);  // frees slot s (one-slot plans)
            step.upload(chunks.get(i), s);
            cuda.eventRecord(uploaded[s], copyStream);
            cuda.streamWaitEvent(computeStream, uploaded[s]);
            step.compute(chunks.get(i), s);
            cuda.eventRecord(computed[s], computeStream);
            while (drained < i) drain(chunks, drained++, slots, step);         // chunk i−1 while kernel i runs
        }
        while (drained < chunks.size()) drain(chunks, drained++, slots, step);
        copiesAfterCompute();
    }

    /**
     * Orders the copy stream after chunk i's kernel, then downloads. The wait is queued even
     * when the step downloads nothing: it is what keeps upload(i + slots) out of slot i mod slots
     * until kernel i has read it.
     */
    private void drain(List<Chunk> chunks, int i, int slots, Step step) {
        int s = i % slots;
        cuda.streamWaitEvent(copyStream, computed[s]);
        step.download(chunks.get(i), s);
    }

    /** Orders everything queued on the compute stream from now on after everything queued on the copy stream so far. */
    public void computeAfterCopies() {
        cuda.eventRecord(copyFence, copyStream);
        cuda.streamWaitEvent(computeStream, copyFence);
    }

    /** Orders everything queued on the copy stream from now on after everything queued on the compute stream so far. */
    public void copiesAfterCompute() {
        cuda.eventRecord(computeFence, computeStream);
        cuda.streamWaitEvent(copyStream, computeFence);
    }

    /**
     * Orders both streams after everything queued so far on {@code stream}: a caller's stream
     * (0 = the legacy default stream, which our non-blocking streams do not wait for by themselves).
     */
    public void afterCallerStream(long stream) {
        cuda.eventRecord(callerFence, stream);
        cuda.streamWaitEvent(copyStream, callerFence);
        cuda.streamWaitEvent(computeStream, callerFence);
    }

    @Override
    public void close() {
        for (int s = 0; s < MAX_SLOTS; s++) {
            if (uploaded[s] != 0) cuda.eventDestroy(uploaded[s]);
            if (computed[s] != 0) cuda.eventDestroy(computed[s]);
            uploaded[s] = computed[s] = 0;
        }
        for (long e : new long[] {copyFence, computeFence, callerFence}) {
            if (e != 0) cuda.eventDestroy(e);
        }
        copyFence = computeFence = callerFence = 0;
    }
}

package dev.amalgam.kernel.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Runs a kernel over chunks on the current pool's threads ({@link CpuPools}: all cores by default).
 *
 * <p>Implementation notes. One worker per core (at most one per chunk); workers claim chunk
 * indices from a shared counter in increasing order, so a chunk is only ever claimed by a
 * running worker and every smaller chunk is already claimed — what the ordered tie-count
 * hand-off of {@link GtaKernel} relies on to never deadlock. Each worker owns its scratch (made
 * once per call, never in the loop); results are combined by the caller after all workers have
 * joined, in chunk order wherever order matters, so results never depend on the thread count.
 * One chunk runs inline on the calling thread.
 */
final class ChunkRunner {

    private ChunkRunner() {
    }

    /** A worker: its scratch and partial results, fed chunk indices in increasing order. */
    interface Worker {
        void run(int chunk);
    }

    static int parallelism() {
        return CpuPools.current().getParallelism();
    }

    /** Runs every chunk on some worker made by {@code newWorker}; returns the workers. */
    static <W extends Worker> List<W> run(int chunks, IntFunction<W> newWorker) {
        ForkJoinPool pool = CpuPools.current();
        int count = Math.max(1, Math.min(pool.getParallelism(), chunks));
        List<W> workers = new ArrayList<>(count);
        for (int w = 0; w < count; w++) workers.add(newWorker.apply(w));
        AtomicInteger next = new AtomicInteger();
        if (count == 1) {
            drain(workers.getFirst(), next, chunks);
            return workers;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(count);
        for (W w : workers) tasks.add(ForkJoinTask.adapt(CpuPools.bound(pool, () -> drain(w, next, chunks))));
        if (ForkJoinTask.inForkJoinPool() && ForkJoinTask.getPool() == pool) {
            ForkJoinTask.invokeAll(tasks);
        } else {
            pool.invoke(ForkJoinTask.adapt(() -> ForkJoinTask.invokeAll(tasks)));
        }
        return workers;
    }

    private static void drain(Worker w, AtomicInteger next, int chunks) {
        for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) w.run(c);
    }
}

package dev.amalgam.kernel.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;

/**
 * Which fork/join pool the fast CPU kernels run on: by default one daemon pool sized to all
 * cores, shared by the JVM; inside {@link #callWith} the caller's pool (an application that caps
 * Amalgam's threads, or runs it on its own executor).
 *
 * <p>Implementation notes. The pool is a {@link ScopedValue} bound for the duration of one call
 * and re-bound inside every task the kernels fork, so a nested parallel step (an SVD inside a
 * batch) finds the same pool from a worker thread and runs inline there. Results never depend
 * on the pool size (see {@link ChunkRunner}).
 */
public final class CpuPools {

    private static final ScopedValue<ForkJoinPool> CURRENT = ScopedValue.newInstance();

    /** Created on first use, so a JVM that never runs the CPU kernels starts no threads. */
    private static final class Default {
        static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors());
    }

    private CpuPools() {
    }

    /** The pool kernels called on this thread use now. */
    static ForkJoinPool current() {
        return CURRENT.isBound() ? CURRENT.get() : Default.POOL;
    }

    /**
     * Runs {@code body} with the fast CPU kernels on {@code pool}.
     *
     * @param pool the pool, or null for the default
     * @param body the work
     * @param <T>  its result type
     * @return what {@code body} returned
     */
    public static <T> T callWith(ForkJoinPool pool, Supplier<T> body) {
        if (pool == null) return body.get();
        return ScopedValue.where(CURRENT, pool).call(body::get);
    }

    /** Wraps a task body so that it sees {@code pool} as the current pool on a worker thread. */
    static Runnable bound(ForkJoinPool pool, Runnable body) {
        return () -> ScopedValue.where(CURRENT, pool).run(body);
    }
}

package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The Jacobi SVDs of cuSOLVER (gesvdjBatched for matrices up to 32×32, gesvdj for one matrix of
 * any size), bound with FFM when libcusolver is found at run time. Amalgam does not compute with
 * them: they are the baseline of the SVD benchmark and a second opinion in the GPU tests.
 *
 * <p>Implementation notes. Column-major, economy vectors (jobz = CUSOLVER_EIG_MODE_VECTOR),
 * singular values sorted descending (cuSOLVER's default); the tolerance and sweep cap are set on
 * one gesvdjInfo_t. Statuses are checked; a failure names the call and the cusolverStatus_t.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public final class Cusolver implements AutoCloseable {

    public static final int EIG_MODE_VECTOR = 1;
    /** gesvdjBatched's size limit. */
    public static final int BATCHED_MAX_DIM = 32;
    private static final Linker LINKER = Linker.nativeLinker();

    private final OptionalLibrary library;
    private final MethodHandle destroy, setStream, destroyInfo, batchedBufferSize, batched, bufferSize, single;
    private final long handle, info;
    private boolean closed;

    private Cusolver(OptionalLibrary library, double tolerance, int maxSweeps) {
        this.library = library;
        MethodHandle create = bind("cusolverDnCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = bind("cusolverDnDestroy", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        setStream = bind("cusolverDnSetStream", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
        MethodHandle createInfo = bind("cusolverDnCreateGesvdjInfo", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroyInfo = bind("cusolverDnDestroyGesvdjInfo", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        MethodHandle setTolerance = bind("cusolverDnXgesvdjSetTolerance", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_DOUBLE));
        MethodHandle setSweeps = bind("cusolverDnXgesvdjSetMaxSweeps", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
        // (handle, jobz, m, n, A, lda, S, U, ldu, V, ldv, *lwork, params, batch)
        batchedBufferSize = bind("cusolverDnSgesvdjBatched_bufferSize", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG,
                JAVA_INT));
        // (handle, jobz, m, n, A, lda, S, U, ldu, V, ldv, work, lwork, info, params, batch)
        batched = bind("cusolverDnSgesvdjBatched", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG,
                JAVA_INT));
        // (handle, jobz, econ, m, n, A, lda, S, U, ldu, V, ldv, *lwork, params)
        bufferSize = bind("cusolverDnSgesvdj_bufferSize", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
        // (handle, jobz, econ, m, n, A, lda, S, U, ldu, V, ldv, work, lwork, info, params)
        single = bind("cusolverDnSgesvdj", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) create.invokeExact(out), "cusolverDnCreate");
            handle = out.get(JAVA_LONG, 0);
            check((int) createInfo.invokeExact(out), "cusolverDnCreateGesvdjInfo");
            info = out.get(JAVA_LONG, 0);
            check((int) setTolerance.invokeExact(info, tolerance), "cusolverDnXgesvdjSetTolerance");
            check((int) setSweeps.invokeExact(info, maxSweeps), "cusolverDnXgesvdjSetMaxSweeps");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private MethodHandle bind(String symbol, FunctionDescriptor d) {
        MemorySegment address = library.lookup().find(symbol)
                .orElseThrow(() -> new IllegalStateException(library.soname() + " has no symbol " + symbol));
        return LINKER.downcallHandle(address, d);
    }

    /** cuSOLVER on the current context, or empty with the reason passed to {@code whyNot}. */
    public static Optional<Cusolver> open(OptionalLibrary library, double tolerance, int maxSweeps, Consumer<String> whyNot) {
        if (!library.found()) {
            whyNot.accept(library.reason());
            return Optional.empty();
        }
        try {
            return Optional.of(new Cusolver(library, tolerance, maxSweeps));
        } catch (RuntimeException e) {
            whyNot.accept("cuSOLVER (" + library.soname() + ") unusable: " + e.getMessage());
            return Optional.empty();
        }
    }

    public String soname() {
        return library.soname();
    }

    private static void check(int status, String call) {
        if (status != 0) throw new IllegalStateException(call + " failed: cusolverStatus_t " + status);
    }

    private interface Call {
        int invoke() throws Throwable;
    }

    private static void call(Call c, String name) {
        try {
            check(c.invoke(), name);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    public void setStream(long stream) {
        call(() -> (int) setStream.invokeExact(handle, stream), "cusolverDnSetStream");
    }

    /** Workspace floats of gesvdjBatched for {@code batch} m×n matrices (m, n ≤ 32). */
    public int batchedWorkspace(int m, int n, long a, long s, long u, long v, int batch) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lwork = arena.allocate(JAVA_INT);
            call(() -> (int) batchedBufferSize.invokeExact(handle, EIG_MODE_VECTOR, m, n, a, m, s, u, m, v, n, lwork, info, batch),
                    "cusolverDnSgesvdjBatched_bufferSize");
            return lwork.get(JAVA_INT, 0);
        }
    }

    /** gesvdjBatched: A (m×n column-major, ld m) is overwritten; S min(m,n), U m×m (ld m), V n×n (ld n) per matrix. */
    public void batched(int m, int n, long a, long s, long u, long v, long work, int lwork, long infos, int batch) {
        call(() -> (int) batched.invokeExact(handle, EIG_MODE_VECTOR, m, n, a, m, s, u, m, v, n, work, lwork, infos, info, batch),
                "cusolverDnSgesvdjBatched");
    }

    /** Workspace floats of gesvdj (economy) for one m×n matrix. */
    public int singleWorkspace(int m, int n, long a, long s, long u, long v) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment lwork = arena.allocate(JAVA_INT);
            call(() -> (int) bufferSize.invokeExact(handle, EIG_MODE_VECTOR, 1, m, n, a, m, s, u, m, v, n, lwork, info),
                    "cusolverDnSgesvdj_bufferSize");
            return lwork.get(JAVA_INT, 0);
        }
    }

    /** gesvdj (economy) of one m×n column-major matrix: S min(m,n), U m×min (ld m), V n×min (ld n). */
    public void single(int m, int n, long a, long s, long u, long v, long work, int lwork, long infoOut) {
        call(() -> (int) single.invokeExact(handle, EIG_MODE_VECTOR, 1, m, n, a, m, s, u, m, v, n, work, lwork, infoOut, info),
                "cusolverDnSgesvdj");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        call(() -> (int) destroyInfo.invokeExact(info), "cusolverDnDestroyGesvdjInfo");
        call(() -> (int) destroy.invokeExact(handle), "cusolverDnDestroy");
    }
}

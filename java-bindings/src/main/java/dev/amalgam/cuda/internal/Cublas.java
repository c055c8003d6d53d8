package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * The slice of cuBLAS that the SVD kernels use (batched SGEMM), bound with FFM when libcublas is
 * found at run time. cuBLAS runs in the context current on the calling thread (the runtime
 * adopts the driver's current context), on the stream given to {@link #setStream}.
 *
 * <p>Implementation notes. Column-major, {@code cublasSgemmStridedBatched} with host-side alpha and
 * beta (the default pointer mode) and the default math mode (no TF32: full float32 products,
 * which the SVD's accuracy needs). Every status is checked; a failure names the call and the
 * cublasStatus_t value.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public final class Cublas implements AutoCloseable {

    public static final int OP_N = 0, OP_T = 1;
    private static final Linker LINKER = Linker.nativeLinker();

    private final OptionalLibrary library;
    private final MethodHandle destroy, setStream, sgemmStridedBatched;
    private final long handle;
    private boolean closed;

    private Cublas(OptionalLibrary library) {
        this.library = library;
        MethodHandle create = bind("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = bind("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        setStream = bind("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
        sgemmStridedBatched = bind("cublasSgemmStridedBatched", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS,
                JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check((int) create.invokeExact(out), "cublasCreate_v2");
            handle = out.get(JAVA_LONG, 0);
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

    /**
     * cuBLAS on the current context, if libcublas is found and a handle can be created; otherwise
     * empty with the reason passed to {@code whyNot}.
     */
    public static Optional<Cublas> open(OptionalLibrary library, java.util.function.Consumer<String> whyNot) {
        if (!library.found()) {
            whyNot.accept(library.reason());
            return Optional.empty();
        }
        try {
            return Optional.of(new Cublas(library));
        } catch (RuntimeException e) {
            whyNot.accept("cuBLAS (" + library.soname() + ") unusable: " + e.getMessage());
            return Optional.empty();
        }
    }

    public String soname() {
        return library.soname();
    }

    private static void check(int status, String call) {
        if (status != 0) throw new IllegalStateException(call + " failed: cublasStatus_t " + status);
    }

    public void setStream(long stream) {
        try {
            check((int) setStream.invokeExact(handle, stream), "cublasSetStream_v2");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** C = alpha·op(A)·op(B) + beta·C for {@code batch} matrices at the given element strides. */
    public void sgemmStridedBatched(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                                    long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC,
                                    int batch) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment al = arena.allocateFrom(JAVA_FLOAT, alpha);
            MemorySegment be = arena.allocateFrom(JAVA_FLOAT, beta);
            int status = (int) sgemmStridedBatched.invokeExact(handle, transA ? OP_T : OP_N, transB ? OP_T : OP_N, m, n, k, al,
                    a, lda, strideA, b, ldb, strideB, be, c, ldc, strideC, batch);
            check(status, "cublasSgemmStridedBatched");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            check((int) destroy.invokeExact(handle), "cublasDestroy_v2");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}

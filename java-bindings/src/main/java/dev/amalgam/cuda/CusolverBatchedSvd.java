package dev.amalgam.cuda;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.Cusolver;
import dev.amalgam.cuda.internal.DeviceArena;
import dev.amalgam.cuda.internal.DeviceBuffer;
import dev.amalgam.cuda.internal.OptionalLibrary;
import dev.amalgam.cuda.internal.Transfers;
import dev.amalgam.kernel.svd.FloatMatrix;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * cuSOLVER's Jacobi SVD on a batch of same-shape matrices: the baseline of the SVD benchmark and a
 * second opinion in the GPU tests, never used by merges. gesvdjBatched for matrices up to 32×32,
 * gesvdj (economy) one matrix after another above that. Full singular vectors are computed (the
 * same work as {@link CudaSvdKernels#svdBatch}); only the singular values come back to the host.
 *
 * <p>Implementation notes. A row-major m×n matrix is the column-major n×m matrix Aᵀ, which has
 * the same singular values, so the data goes to cuSOLVER unchanged. Tolerance 1e-7 and 40 sweeps,
 * comparable to {@link CudaSvdKernels}' defaults. A non-zero cuSOLVER info for a matrix is an error.
 */
public final class CusolverBatchedSvd implements AutoCloseable {

    private final Cuda cuda;
    private final int deviceHandle;
    private final long context;
    private final long stream;
    private final Transfers transfers;
    private final DeviceArena arena;
    private final Cusolver solver;
    private boolean closed;

    private CusolverBatchedSvd(Cuda cuda, int deviceHandle, long context, long stream, Transfers transfers, Cusolver solver) {
        this.cuda = cuda;
        this.deviceHandle = deviceHandle;
        this.context = context;
        this.stream = stream;
        this.transfers = transfers;
        this.arena = new DeviceArena(cuda);
        this.solver = solver;
    }

    /** cuSOLVER on device {@code ordinal}, or empty (with the reason given to {@code whyNot}) when libcusolver is absent. */
    public static Optional<CusolverBatchedSvd> open(Cuda cuda, int ordinal, Consumer<String> whyNot) {
        OptionalLibrary lib = OptionalLibrary.find("cusolver", OptionalLibrary.CUSOLVER);
        if (!lib.found()) {
            whyNot.accept(lib.reason());
            return Optional.empty();
        }
        cuda.init();
        int device = cuda.device(ordinal);
        long context = cuda.retainPrimaryContext(device);
        cuda.setCurrent(context);
        long stream = cuda.streamCreate();
        Optional<Cusolver> solver = Cusolver.open(lib, 1e-7, 40, whyNot);
        if (solver.isEmpty()) {
            cuda.streamDestroy(stream);
            cuda.releasePrimaryContext(device);
            return Optional.empty();
        }
        solver.get().setStream(stream);
        return Optional.of(new CusolverBatchedSvd(cuda, device, context, stream, new Transfers(cuda, stream, 8L << 20), solver.get()));
    }

    public String soname() {
        return solver.soname();
    }

    /** The singular values (descending) of every matrix of the batch, all of one shape. */
    public synchronized List<double[]> singularValues(List<FloatMatrix> batch) {
        if (closed) throw new IllegalStateException("cuSOLVER baseline is closed");
        List<double[]> out = new ArrayList<>(batch.size());
        if (batch.isEmpty()) return out;
        cuda.setCurrent(context);
        int rows = batch.getFirst().rows(), cols = batch.getFirst().cols();
        for (FloatMatrix a : batch) {
            if (a.rows() != rows || a.cols() != cols) throw new IllegalArgumentException("cuSOLVER baseline: mixed shapes " + a + " and " + batch.getFirst());
        }
        int m = cols, n = rows, r = Math.min(m, n);  // column-major Aᵀ
        long mn = (long) m * n;
        int count = batch.size();
        boolean batched = m <= Cusolver.BATCHED_MAX_DIM && n <= Cusolver.BATCHED_MAX_DIM;
        int perCall = batched ? count : 1;
        long uFloats = batched ? (long) m * m : (long) m * r, vFloats = batched ? (long) n * n : (long) n * r;
        long fixed = 4L * perCall * (uFloats + vFloats + r + 1);
        arena.reset(DeviceArena.padded(4 * mn * count + fixed, 5));
        long a = arena.take(4 * mn * count), s = arena.take(4L * r * perCall), u = arena.take(4 * uFloats * perCall),
                v = arena.take(4 * vFloats * perCall), info = arena.take(4L * perCall);
        for (int i = 0; i < count; i++) transfers.upload(MemorySegment.ofArray(batch.get(i).data()), 0, a + 4 * mn * i, 4 * mn);
        try (Arena host = Arena.ofConfined(); Workspace ws = new Workspace()) {
            MemorySegment sv = host.allocate(4L * r * count, 4);
            MemorySegment infos = host.allocate(4L * perCall, 4);
            if (batched) {
                int lwork = solver.batchedWorkspace(m, n, a, s, u, v, count);
                long work = ws.take(lwork);
                solver.batched(m, n, a, s, u, v, work, lwork, info, count);
                transfers.download(s, sv, 0, 4L * r * count);
                check(host, info, infos, count, 0);
            } else {
                int lwork = solver.singleWorkspace(m, n, a, s, u, v);
                long work = ws.take(lwork);
                for (int i = 0; i < count; i++) {
                    solver.single(m, n, a + 4 * mn * i, s, u, v, work, lwork, info);
                    transfers.download(s, sv, 4L * r * i, 4L * r);
                    check(host, info, infos, 1, i);
                }
            }
            for (int i = 0; i < count; i++) {
                double[] d = new double[r];
                for (int j = 0; j < r; j++) d[j] = sv.getAtIndex(JAVA_FLOAT, (long) i * r + j);
                out.add(d);
            }
        }
        return out;
    }

    /** cuSOLVER's workspace, sized by its bufferSize query, freed after the call. */
    private final class Workspace implements AutoCloseable {
        private DeviceBuffer buffer;

        long take(int floats) {
            buffer = new DeviceBuffer(cuda, 4L * Math.max(1, floats));
            return buffer.address();
        }

        @Override
        public void close() {
            if (buffer != null) buffer.close();
        }
    }

    private void check(Arena host, long info, MemorySegment infos, int count, int first) {
        transfers.download(info, infos, 0, 4L * count);
        for (int i = 0; i < count; i++) {
            int code = infos.getAtIndex(JAVA_INT, i);
            if (code != 0) throw new IllegalStateException("cuSOLVER gesvdj info " + code + " for matrix #" + (first + i));
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        cuda.setCurrent(context);
        try {
            cuda.streamSynchronize(stream);
        } finally {
            solver.close();
            transfers.close();
            arena.close();
            cuda.streamDestroy(stream);
            cuda.releasePrimaryContext(deviceHandle);
        }
    }
}

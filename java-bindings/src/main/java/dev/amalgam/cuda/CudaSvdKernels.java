package dev.amalgam.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.amalgam.cuda.internal.Cublas;
import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.DeviceArena;
import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.cuda.internal.Gemm;
import dev.amalgam.cuda.internal.JacobiShape;
import dev.amalgam.cuda.internal.KernelAttributes;
import dev.amalgam.cuda.internal.OptionalLibrary;
import dev.amalgam.cuda.internal.OrthonormalCompletion;
import dev.amalgam.cuda.internal.SvdBatchPlan;
import dev.amalgam.cuda.internal.SvdLayouts;
import dev.amalgam.cuda.internal.SvdLayouts.SvdEmitArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdIdentityArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdJacobiArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdNormalizeArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdOrderArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdPrepareArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdScanArgs;
import dev.amalgam.cuda.internal.SvdLayouts.SvdStatus;
import dev.amalgam.cuda.internal.SvdLayouts.SvdSweepArgs;
import dev.amalgam.cuda.internal.SvdModule;
import dev.amalgam.cuda.internal.Transfers;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The CUDA implementation of the SVD kernel family: batched one-sided Jacobi SVDs of many
 * same-shape matrices at once (kernels-cuda/src/svd.cu), the truncated SVD (exact, or a randomized
 * range finder for large matrices), polar factors and the products around them.
 *
 * <p>Implementation notes
 * <ul>
 *   <li>A batch is grouped by shape; each group is cut into {@link SvdBatchPlan} chunks that fit
 *       the device, and each chunk runs as a handful of launches over all its matrices: scan
 *       (max |a| and finiteness), prepare (exact power-of-two scaling, tall column-major layout),
 *       Jacobi (one block per matrix in shared memory when {@link JacobiShape#fitsShared}, else the
 *       blocked variant, one launch per round-robin step), normalize, order, emit.</li>
 *   <li>Accuracy (float32 outputs; dot products and rotations in double): S matches the double
 *       reference within about 1e-6·σ₁, U and V are orthonormal within the Jacobi tolerance
 *       ({@link JacobiShape#tolerance}) plus rounding, ‖A − UΣVh‖/‖A‖ within a few 1e-7·√q.
 *       Singular vectors of σ = 0 are completed on the host ({@link OrthonormalCompletion}).</li>
 *   <li>{@link #truncated}: exact (the full Jacobi SVD cut to k) unless min(m, n) ≥
 *       {@code randomizedMinDim} and k + oversampling ≤ min(m, n)/2; then the randomized range
 *       finder with power iterations ({@link #randomizedBatch}), whose σ_i error is of the order of
 *       (σ_{l+1}/σ_k)^{2·iterations+1}·σ_i for l = k + oversampling: accurate for the decaying
 *       spectra of task matrices, approximate for flat ones. {@code -Damalgam.svd.randomizedMinDim=0}
 *       turns it off.</li>
 *   <li>Products run on cuBLAS when libcublas is found at run time, else on amalgam_sgemm; both
 *       accumulate in float32.</li>
 *   <li>Deterministic: a matrix's result does not depend on the batch, the chunking or timing
 *       (disjoint pairs per step, fixed reduction orders, a fixed-seed Ω per shape).</li>
 *   <li>Methods serialize on the session (with the backend that handed these kernels out, if any);
 *       each call makes the session's context current.</li>
 * </ul>
 */
public final class CudaSvdKernels implements SvdKernels, AutoCloseable {

    private static final long MIB = 1L << 20;

    /**
     * Tunables. {@code maxSweeps}: cap of the Jacobi iteration. {@code randomizedMinDim}: smallest
     * min(m, n) that may take the randomized truncated path (0: never). {@code oversampling},
     * {@code powerIterations}: of the range finder. {@code maxChunkBytes}: device bytes per chunk
     * (tests force chunking). {@code stagingBytes}: each of the two pinned staging buffers.
     */
    public record Options(int maxSweeps, int randomizedMinDim, int oversampling, int powerIterations, long maxChunkBytes,
                          long stagingBytes) {

        public Options {
            if (maxSweeps < 1) throw new IllegalArgumentException("amalgam.svd.maxSweeps must be ≥ 1, got " + maxSweeps);
            if (randomizedMinDim < 0 || oversampling < 0 || powerIterations < 0) {
                throw new IllegalArgumentException("amalgam.svd.randomizedMinDim, oversampling and powerIterations must be ≥ 0");
            }
        }

        public static Options defaults() {
            return new Options(40, 512, 16, 2, Long.MAX_VALUE, 8 * MIB);
        }

        /** The defaults, overridden by {@code -Damalgam.svd.*} and {@code -Damalgam.cuda.*} properties. */
        public static Options fromSystemProperties() {
            Options d = defaults();
            return new Options(Integer.getInteger("amalgam.svd.maxSweeps", d.maxSweeps),
                    Integer.getInteger("amalgam.svd.randomizedMinDim", d.randomizedMinDim),
                    Integer.getInteger("amalgam.svd.oversampling", d.oversampling),
                    Integer.getInteger("amalgam.svd.powerIterations", d.powerIterations),
                    Long.getLong("amalgam.cuda.maxChunkBytes", d.maxChunkBytes),
                    Long.getLong("amalgam.cuda.stagingBytes", d.stagingBytes));
        }

        public Options withRandomizedMinDim(int dim) {
            return new Options(maxSweeps, dim, oversampling, powerIterations, maxChunkBytes, stagingBytes);
        }

        public Options withMaxChunkBytes(long bytes) {
            return new Options(maxSweeps, randomizedMinDim, oversampling, powerIterations, bytes, stagingBytes);
        }
    }

    private final CudaSession session;
    private final boolean ownsSession;  // opened by the public constructor, not borrowed from a CudaKernels
    private final Cuda cuda;
    private final SvdModule module;
    private final long stream;
    private final Transfers transfers;
    private final DeviceArena arena;
    private final Optional<Cublas> cublas;
    private final Gemm gemm;
    private final String gemmReason;
    private final KernelAttributes attributes;
    private final long sharedLimit;
    private final Options options;
    private long sharedGranted = JacobiShape.DEFAULT_SHARED_LIMIT;
    private long activeCounter;

    /**
     * Opens device {@code ordinal} for the SVD kernels alone: retains its primary context, loads
     * {@code fatbin}, creates its streams, and binds cuBLAS from {@code cublasLibrary} when found.
     * {@link #close()} releases all of it. ({@link CudaKernels#svd()} gives the same kernels on
     * that backend's session instead.)
     */
    public CudaSvdKernels(Cuda cuda, int ordinal, byte[] fatbin, KernelAttributes attributes, OptionalLibrary cublasLibrary,
                          Options options) {
        this(CudaSession.primary(cuda, ordinal, fatbin, attributes, options.maxChunkBytes(), options.stagingBytes()),
                options, cublasLibrary, true);
    }

    /** The SVD family borrowing {@code session} (its context, module, compute stream, arena and budget). */
    CudaSvdKernels(CudaSession session, Options options, OptionalLibrary cublasLibrary) {
        this(session, options, cublasLibrary, false);
    }

    private CudaSvdKernels(CudaSession session, Options options, OptionalLibrary cublasLibrary, boolean ownsSession) {
        this.session = session;
        this.ownsSession = ownsSession;
        this.cuda = session.cuda();
        this.options = options;
        this.attributes = session.attributes();
        try {
            session.enter();
            this.module = SvdModule.borrowing(cuda, session.module());
        } catch (RuntimeException e) {
            if (ownsSession) session.close();
            throw e;
        }
        this.stream = session.computeStream();     // copies and kernels in order on one stream
        this.transfers = session.computeTransfers();
        this.arena = session.arena();
        this.sharedLimit = Math.max(JacobiShape.DEFAULT_SHARED_LIMIT, session.maxSharedOptin());
        StringBuilder why = new StringBuilder();
        this.cublas = Cublas.open(cublasLibrary, why::append);
        cublas.ifPresent(c -> c.setStream(stream));
        cublas.ifPresent(session::borrowedBy);
        this.gemm = cublas.map(Gemm::cublas).orElseGet(() -> Gemm.kernel(module, stream));
        this.gemmReason = cublas.isPresent() ? "cuBLAS " + cublas.get().soname() : why + "; using amalgam_sgemm";
    }

    /** Device {@code ordinal} with the embedded fatbin, cuBLAS if present, and options from system properties. */
    public static CudaSvdKernels open(Cuda cuda, int ordinal) {
        return new CudaSvdKernels(cuda, ordinal, FatbinResource.read(), KernelAttributes.of(cuda),
                OptionalLibrary.find("cublas", OptionalLibrary.CUBLAS), Options.fromSystemProperties());
    }

    /** The CUDA context these kernels run in (the primary one, or the one a {@link CudaKernels} was attached to). */
    public long context() {
        return session.context();
    }

    /** The session these kernels borrow (tests check that a backend and its SVD kernels share one). */
    CudaSession session() {
        return session;
    }

    @Override
    public String name() {
        return "cuda";
    }

    public Options options() {
        return options;
    }

    /** What serves the matrix products and why: {@code cuBLAS libcublas.so.12} or the reason it is not used. */
    public String gemmDescription() {
        return gemmReason;
    }

    /** The largest per-block shared memory the one-block-per-matrix Jacobi may use on this device. */
    public long sharedMemoryLimit() {
        return sharedLimit;
    }

    private void enter() {
        if (session.closed()) throw new IllegalStateException("CUDA SVD kernels are closed");
        session.enter();
    }

    /** Device bytes for one chunk: the session's budget, shared with the other kernel families. */
    private long budget() {
        return session.dataBudget(0, options.maxChunkBytes());
    }

    // ------------------------------------------------------------------------------------------
    // SvdKernels

    @Override
    public Svd svd(FloatMatrix a) {
        return svdBatch(List.of(a)).getFirst();
    }

    @Override
    public Svd truncated(FloatMatrix a, int k) {
        return truncatedBatch(List.of(a), k).getFirst();
    }

    @Override
    public FloatMatrix polar(FloatMatrix a) {
        return polarBatch(List.of(a)).getFirst();
    }

    @Override
    public List<Svd> svdBatch(List<FloatMatrix> batch) {
        synchronized (session) {
            return byShape(batch, (shape, group) -> decompose(shape, group, shape.q()), CudaSvdKernels::emptySvd);
        }
    }

    @Override
    public List<Svd> truncatedBatch(List<FloatMatrix> batch, int k) {
        synchronized (session) {
            return byShape(batch, (shape, group) -> {
                int kk = Math.max(0, Math.min(k, shape.q()));
                if (kk == 0) {
                    List<Svd> out = new ArrayList<>();
                    for (FloatMatrix a : group) {
                        SvdKernels.requireFinite(a);
                        out.add(emptySvd(a.rows(), a.cols()));
                    }
                    return out;
                }
                if (useRandomized(shape, kk)) return randomized(shape, group, kk, rangeWidth(shape, kk), options.powerIterations());
                return decompose(shape, group, kk);
            }, CudaSvdKernels::emptySvd);
        }
    }

    /**
     * The randomized truncated SVD regardless of size: range finder with {@code k + oversampling}
     * columns (at most min(m, n)) and {@code powerIterations} power iterations, then the Jacobi SVD
     * of the projected matrix. See the class notes for its accuracy.
     */
    public List<Svd> randomizedBatch(List<FloatMatrix> batch, int k, int oversampling, int powerIterations) {
        synchronized (session) {
            if (oversampling < 0 || powerIterations < 0) throw new IllegalArgumentException("oversampling and powerIterations must be ≥ 0");
            return byShape(batch, (shape, group) -> {
                int kk = Math.max(0, Math.min(k, shape.q()));
                if (kk == 0) return truncatedBatch(group, 0);
                return randomized(shape, group, kk, Math.min(shape.q(), kk + oversampling), powerIterations);
            }, CudaSvdKernels::emptySvd);
        }
    }

    /** Whether {@link #truncated} takes the randomized path for this shape and k. */
    public boolean useRandomized(JacobiShape shape, int k) {
        return options.randomizedMinDim() > 0 && shape.q() >= options.randomizedMinDim()
                && 2L * rangeWidth(shape, k) <= shape.q();
    }

    private int rangeWidth(JacobiShape shape, int k) {
        return Math.min(shape.q(), k + options.oversampling());
    }

    @Override
    public List<FloatMatrix> polarBatch(List<FloatMatrix> batch) {
        synchronized (session) {
            return byShape(batch, this::polarGroup, FloatMatrix::zeros);
        }
    }

    @Override
    public FloatMatrix multiply(FloatMatrix a, FloatMatrix b) {
        synchronized (session) {
            if (a.cols() != b.rows()) throw new IllegalArgumentException("cannot multiply " + a + " by " + b);
            // Row-major X is column-major Xᵀ: (a·b)ᵀ = bᵀ·aᵀ, all untransposed in column-major terms.
            return product(a, b, a.rows(), b.cols(), a.cols(), false);
        }
    }

    @Override
    public FloatMatrix multiplyTransposed(FloatMatrix a, FloatMatrix b) {
        synchronized (session) {
            if (a.rows() != b.rows()) throw new IllegalArgumentException("cannot multiply the transpose of " + a + " by " + b);
            // (aᵀ·b)ᵀ = bᵀ·a: column-major bᵀ (untransposed) times column-major aᵀ transposed.
            return product(a, b, a.cols(), b.cols(), a.rows(), true);
        }
    }

    /** out (rows×cols, row-major) = a·b, or aᵀ·b when {@code transposeA}, with inner dimension {@code inner}. */
    private FloatMatrix product(FloatMatrix a, FloatMatrix b, int rows, int cols, int inner, boolean transposeA) {
        FloatMatrix out = FloatMatrix.zeros(rows, cols);
        if (rows == 0 || cols == 0) return out;
        if (inner == 0) return out;
        enter();
        long aBytes = 4L * a.data().length, bBytes = 4L * b.data().length, outBytes = 4L * rows * cols;
        long need = DeviceArena.padded(aBytes + bBytes + outBytes, 3);
        if (need > budget()) throw new IllegalStateException("a " + rows + "×" + inner + "·" + inner + "×" + cols
                + " product needs " + need + " bytes of device memory, more than is available");
        arena.reset(need);
        long da = arena.take(aBytes), db = arena.take(bBytes), dc = arena.take(outBytes);
        transfers.upload(MemorySegment.ofArray(a.data()), 0, da, aBytes);
        transfers.upload(MemorySegment.ofArray(b.data()), 0, db, bBytes);
        // Column-major: outᵀ (cols×rows) = bᵀ (cols×inner, ld cols) · X, where the column-major view
        // of a is aᵀ (ld a.cols()): X = aᵀ for a·b, X = (aᵀ)ᵀ = a for aᵀ·b.
        gemm.sgemm(false, transposeA, cols, rows, inner, 1f, db, cols, 0, da, a.cols(), 0, 0f, dc, cols, 0, 1);
        transfers.download(dc, MemorySegment.ofArray(out.data()), 0, outBytes);
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Batches by shape and chunk

    private interface GroupJob<T> {
        List<T> run(JacobiShape shape, List<FloatMatrix> group);
    }

    private static Svd emptySvd(int rows, int cols) {
        return new Svd(FloatMatrix.zeros(rows, 0), new double[0], FloatMatrix.zeros(0, cols), 0, 0);
    }

    /**
     * Runs {@code job} per shape (first-appearance order) and puts the results back in batch order;
     * m×0 and 0×n matrices have no singular values and get {@code empty}'s result.
     */
    private <T> List<T> byShape(List<FloatMatrix> batch, GroupJob<T> job, java.util.function.BiFunction<Integer, Integer, T> empty) {
        Map<List<Integer>, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < batch.size(); i++) {
            FloatMatrix a = batch.get(i);
            groups.computeIfAbsent(List.of(a.rows(), a.cols()), s -> new ArrayList<>()).add(i);
        }
        List<T> out = new ArrayList<>(java.util.Collections.nCopies(batch.size(), (T) null));
        for (Map.Entry<List<Integer>, List<Integer>> g : groups.entrySet()) {
            int rows = g.getKey().get(0), cols = g.getKey().get(1);
            List<FloatMatrix> members = new ArrayList<>(g.getValue().size());
            for (int i : g.getValue()) members.add(batch.get(i));
            List<T> results = new ArrayList<>(members.size());
            if (rows == 0 || cols == 0) {
                for (int j = 0; j < members.size(); j++) results.add(empty.apply(rows, cols));
            } else {
                enter();
                results = job.run(new JacobiShape(rows, cols), members);
            }
            for (int j = 0; j < results.size(); j++) out.set(g.getValue().get(j), results.get(j));
        }
        return out;
    }

    /** Uploads the chunk's matrices back to back at {@code input} and checks that they are finite. */
    private MemorySegment uploadAndScan(Arena host, List<FloatMatrix> chunk, int firstIndex, long input, long keys, long elements) {
        int c = chunk.size();
        for (int i = 0; i < c; i++) {
            transfers.upload(MemorySegment.ofArray(chunk.get(i).data()), 0, input + 4L * i * elements, 4L * elements);
        }
        cuda.memsetAsync(keys, 0, 4L * c, stream);
        MemorySegment scan = host.allocate(SvdScanArgs.SIZE, 8);
        scan.set(JAVA_LONG, SvdScanArgs.INPUT, input);
        scan.set(JAVA_LONG, SvdScanArgs.MAX_KEYS, keys);
        scan.set(JAVA_LONG, SvdScanArgs.ELEMENTS, elements);
        scan.set(JAVA_INT, SvdScanArgs.COUNT, c);
        scan.set(JAVA_INT, SvdScanArgs.RESERVED, 0);
        long blocks = Math.max(1, Math.min(64, (elements + 4095) / 4096));
        module.launch(module.scan, "amalgam_svd_scan", blocks, c, 0, stream, scan);
        MemorySegment found = host.allocate(4L * c, 4);
        transfers.download(keys, found, 0, found.byteSize());
        for (int i = 0; i < c; i++) {
            if (Integer.compareUnsigned(found.getAtIndex(JAVA_INT, i), 0x7F800000) >= 0) {
                throw new IllegalArgumentException("SVD input #" + (firstIndex + i) + " (" + chunk.get(i) + ") contains NaN or Inf");
            }
        }
        return found;
    }

    private void prepare(Arena host, JacobiShape shape, int c, long input, long output, long keys, long exponents, boolean transpose) {
        MemorySegment args = host.allocate(SvdPrepareArgs.SIZE, 8);
        args.set(JAVA_LONG, SvdPrepareArgs.INPUT, input);
        args.set(JAVA_LONG, SvdPrepareArgs.OUTPUT, output);
        args.set(JAVA_LONG, SvdPrepareArgs.MAX_KEYS, keys);
        args.set(JAVA_LONG, SvdPrepareArgs.EXPONENTS, exponents);
        args.set(JAVA_INT, SvdPrepareArgs.ROWS, shape.rows());
        args.set(JAVA_INT, SvdPrepareArgs.COLS, shape.cols());
        args.set(JAVA_INT, SvdPrepareArgs.COUNT, c);
        args.set(JAVA_INT, SvdPrepareArgs.TRANSPOSE, transpose ? 1 : 0);
        long tiles = (long) ((shape.rows() + 31) / 32) * ((shape.cols() + 31) / 32);
        module.launch(module.prepare, "amalgam_svd_prepare", tiles, c, 0, stream, args);
    }

    /**
     * The Jacobi iteration on c tall p×q column-major matrices at {@code work}: afterwards
     * work·(V at {@code v}) has orthogonal columns; {@code status} holds sweeps and the last
     * off-diagonal measure per matrix.
     */
    private void jacobi(Arena host, int p, int q, int c, long work, long v, long status) {
        JacobiShape shape = new JacobiShape(p, q);
        MemorySegment args = host.allocate(SvdJacobiArgs.SIZE, 8);
        args.set(JAVA_LONG, SvdJacobiArgs.WORK, work);
        args.set(JAVA_LONG, SvdJacobiArgs.V, v);
        args.set(JAVA_LONG, SvdJacobiArgs.STATUS, status);
        args.set(JAVA_INT, SvdJacobiArgs.P, p);
        args.set(JAVA_INT, SvdJacobiArgs.Q, q);
        args.set(JAVA_INT, SvdJacobiArgs.COUNT, c);
        args.set(JAVA_INT, SvdJacobiArgs.MAX_SWEEPS, options.maxSweeps());
        args.set(JAVA_FLOAT, SvdJacobiArgs.TOLERANCE, shape.tolerance());
        args.set(JAVA_INT, SvdJacobiArgs.STEP, 0);
        if (shape.fitsShared(sharedLimit)) {
            int bytes = (int) shape.sharedBytes();
            if (bytes > sharedGranted) {
                cuda.check(attributes.cuFuncSetAttribute(module.jacobiShared, KernelAttributes.MAX_DYNAMIC_SHARED_SIZE_BYTES,
                        (int) (sharedLimit - 1024)), "cuFuncSetAttribute", "allowing amalgam_svd_jacobi_shared "
                        + (sharedLimit - 1024) + " bytes of shared memory");
                sharedGranted = sharedLimit - 1024;
            }
            module.launch(module.jacobiShared, "amalgam_svd_jacobi_shared", 1, c, bytes, stream, args);
            return;
        }
        MemorySegment id = host.allocate(SvdIdentityArgs.SIZE, 8);
        id.set(JAVA_LONG, SvdIdentityArgs.V, v);
        id.set(JAVA_INT, SvdIdentityArgs.Q, q);
        id.set(JAVA_INT, SvdIdentityArgs.COUNT, c);
        module.launch(module.identity, "amalgam_svd_identity", Math.max(1, Math.min(256, ((long) q * q + 255) / 256)), c, 0,
                stream, id);
        cuda.memsetAsync(status, 0, (long) SvdStatus.SIZE * c, stream);
        long active = activeCounter;
        MemorySegment end = host.allocate(SvdSweepArgs.SIZE, 8);
        end.set(JAVA_LONG, SvdSweepArgs.STATUS, status);
        end.set(JAVA_LONG, SvdSweepArgs.ACTIVE, active);
        end.set(JAVA_INT, SvdSweepArgs.COUNT, c);
        end.set(JAVA_INT, SvdSweepArgs.MAX_SWEEPS, options.maxSweeps());
        end.set(JAVA_FLOAT, SvdSweepArgs.TOLERANCE, shape.tolerance());
        end.set(JAVA_INT, SvdSweepArgs.RESERVED, 0);
        MemorySegment still = host.allocate(4, 4);
        for (int sweep = 0; sweep < options.maxSweeps(); sweep++) {
            cuda.memsetAsync(active, 0, 4, stream);
            for (int step = 0; step < shape.blockSteps(); step++) {
                args.set(JAVA_INT, SvdJacobiArgs.STEP, step);
                module.launch(module.blockStep, "amalgam_svd_block_step", shape.blockPairs(), c, 0, stream, args);
            }
            module.launch(module.sweepEnd, "amalgam_svd_sweep_end", (c + SvdLayouts.THREADS - 1) / SvdLayouts.THREADS, 1, 0,
                    stream, end);
            transfers.download(active, still, 0, 4);
            if (still.get(JAVA_INT, 0) == 0) break;
        }
    }

    /** σ_j = ‖b_j‖ into {@code sigma} (double) and b_j ← b_j/σ_j. */
    private void normalize(Arena host, int p, int q, int c, long work, long sigma) {
        MemorySegment args = host.allocate(SvdNormalizeArgs.SIZE, 8);
        args.set(JAVA_LONG, SvdNormalizeArgs.WORK, work);
        args.set(JAVA_LONG, SvdNormalizeArgs.SIGMA, sigma);
        args.set(JAVA_INT, SvdNormalizeArgs.P, p);
        args.set(JAVA_INT, SvdNormalizeArgs.Q, q);
        args.set(JAVA_INT, SvdNormalizeArgs.COUNT, c);
        args.set(JAVA_INT, SvdNormalizeArgs.RESERVED, 0);
        module.launch(module.normalize, "amalgam_svd_normalize", q, c, 0, stream, args);
    }

    private void order(Arena host, int q, int c, long sigma, long exponents, long perm, long sOut) {
        MemorySegment args = host.allocate(SvdOrderArgs.SIZE, 8);
        args.set(JAVA_LONG, SvdOrderArgs.SIGMA, sigma);
        args.set(JAVA_LONG, SvdOrderArgs.EXPONENTS, exponents);
        args.set(JAVA_LONG, SvdOrderArgs.PERM, perm);
        args.set(JAVA_LONG, SvdOrderArgs.S_OUT, sOut);
        args.set(JAVA_INT, SvdOrderArgs.Q, q);
        args.set(JAVA_INT, SvdOrderArgs.COUNT, c);
        module.launch(module.order, "amalgam_svd_order", (q + SvdLayouts.THREADS - 1) / SvdLayouts.THREADS, c, 0, stream, args);
    }

    private void emit(Arena host, int p, int q, int c, int keep, boolean wide, long work, long v, long perm, long uOut,
                      boolean uColMajor, long vhOut) {
        MemorySegment args = host.allocate(SvdEmitArgs.SIZE, 8);
        args.set(JAVA_LONG, SvdEmitArgs.WORK, work);
        args.set(JAVA_LONG, SvdEmitArgs.V, v);
        args.set(JAVA_LONG, SvdEmitArgs.PERM, perm);
        args.set(JAVA_LONG, SvdEmitArgs.U_OUT, uOut);
        args.set(JAVA_LONG, SvdEmitArgs.VH_OUT, vhOut);
        args.set(JAVA_INT, SvdEmitArgs.P, p);
        args.set(JAVA_INT, SvdEmitArgs.Q, q);
        args.set(JAVA_INT, SvdEmitArgs.COUNT, c);
        args.set(JAVA_INT, SvdEmitArgs.KEEP, keep);
        args.set(JAVA_INT, SvdEmitArgs.WIDE, wide ? 1 : 0);
        args.set(JAVA_INT, SvdEmitArgs.U_COL_MAJOR, uColMajor ? 1 : 0);
        args.set(JAVA_INT, SvdEmitArgs.VH_COL_MAJOR, 0);
        args.set(JAVA_INT, SvdEmitArgs.RESERVED, 0);
        long elements = (long) keep * (p + q);
        module.launch(module.emit, "amalgam_svd_emit", Math.max(1, Math.min(4096, (elements + 255) / 256)), c, 0, stream, args);
    }

    /** Buffers carved from the arena in order; bytes per matrix and per chunk are known up front. */
    private static final class Layout {
        private final List<long[]> parts = new ArrayList<>();  // {bytes per matrix, fixed bytes}

        int add(long perMatrix, long fixed) {
            parts.add(new long[] {perMatrix, fixed});
            return parts.size() - 1;
        }

        long perMatrix() {
            long s = 0;
            for (long[] p : parts) s += p[0];
            return s;
        }

        long fixed() {
            long s = 4 + DeviceArena.ALIGNMENT;  // the Jacobi's active counter
            for (long[] p : parts) s += p[1] + DeviceArena.ALIGNMENT;
            return s;
        }

        long bytes(int matrices) {
            return fixed() + perMatrix() * matrices;
        }
    }

    /** Resets the arena for one chunk: the layout's buffers for {@code matrices}, and the Jacobi's active counter. */
    private long[] carve(Layout layout, int matrices) {
        arena.reset(layout.bytes(matrices));
        long[] at = new long[layout.parts.size()];
        for (int i = 0; i < at.length; i++) {
            long[] p = layout.parts.get(i);
            at[i] = arena.take(Math.max(1, p[0] * matrices + p[1]));
        }
        activeCounter = arena.take(4);
        return at;
    }

    private SvdBatchPlan plan(Layout layout, int matrices) {
        return SvdBatchPlan.plan(matrices, layout.perMatrix(), layout.fixed(), budget());
    }

    // ------------------------------------------------------------------------------------------
    // Exact SVD (full Jacobi), keeping the first `keep` triplets

    private List<Svd> decompose(JacobiShape shape, List<FloatMatrix> group, int keep) {
        int m = shape.rows(), n = shape.cols(), p = shape.p(), q = shape.q();
        long mn = shape.elements();
        Layout l = new Layout();
        int input = l.add(4 * mn, 0), work = l.add(4 * mn, 0), v = l.add(4L * q * q, 0), status = l.add(SvdStatus.SIZE, 0),
                keys = l.add(4, 0), exps = l.add(4, 0), sigma = l.add(8L * q, 0), perm = l.add(4L * q, 0),
                sOut = l.add(8L * q, 0), uOut = l.add(4L * m * keep, 0), vhOut = l.add(4L * keep * n, 0);
        List<Svd> out = new ArrayList<>(group.size());
        for (SvdBatchPlan.Chunk chunk : plan(l, group.size()).chunks()) {
            int c = chunk.count();
            List<FloatMatrix> mats = group.subList(chunk.start(), chunk.start() + c);
            long[] at = carve(l, c);
            try (Arena host = Arena.ofConfined()) {
                uploadAndScan(host, mats, chunk.start(), at[input], at[keys], mn);
                prepare(host, shape, c, at[input], at[work], at[keys], at[exps], !shape.wide());
                jacobi(host, p, q, c, at[work], at[v], at[status]);
                normalize(host, p, q, c, at[work], at[sigma]);
                order(host, q, c, at[sigma], at[exps], at[perm], at[sOut]);
                emit(host, p, q, c, keep, shape.wide(), at[work], at[v], at[perm], at[uOut], false, at[vhOut]);
                out.addAll(collect(host, mats, q, keep, at[sOut], at[status], at[uOut], at[vhOut]));
            }
        }
        return out;
    }

    /** Downloads S (first keep of q per matrix), U (m×keep), Vh (keep×n) and the status; completes σ = 0 vectors. */
    private List<Svd> collect(Arena host, List<FloatMatrix> mats, int q, int keep, long sOut, long status, long uOut, long vhOut) {
        int c = mats.size();
        int m = mats.getFirst().rows(), n = mats.getFirst().cols();
        MemorySegment s = host.allocate(8L * q * c, 8);
        transfers.download(sOut, s, 0, s.byteSize());
        MemorySegment st = host.allocate((long) SvdStatus.SIZE * c, 8);
        transfers.download(status, st, 0, st.byteSize());
        long uBytes = 4L * m * keep, vhBytes = 4L * keep * n;
        MemorySegment us = host.allocate(Math.max(4, uBytes * c), 4);
        transfers.download(uOut, us, 0, uBytes * c);
        MemorySegment vs = host.allocate(Math.max(4, vhBytes * c), 4);
        transfers.download(vhOut, vs, 0, vhBytes * c);
        List<Svd> out = new ArrayList<>(c);
        for (int i = 0; i < c; i++) {
            FloatMatrix u = FloatMatrix.zeros(m, keep);
            FloatMatrix vh = FloatMatrix.zeros(keep, n);
            MemorySegment.copy(us, i * uBytes, MemorySegment.ofArray(u.data()), 0, uBytes);
            MemorySegment.copy(vs, i * vhBytes, MemorySegment.ofArray(vh.data()), 0, vhBytes);
            double[] sv = new double[keep];
            for (int j = 0; j < keep; j++) sv[j] = s.getAtIndex(JAVA_DOUBLE, (long) i * q + j);
            if (keep > 0 && sv[keep - 1] == 0) {
                OrthonormalCompletion.columns(u);
                OrthonormalCompletion.rows(vh);
            }
            long row = (long) i * SvdStatus.SIZE;
            out.add(new Svd(u, sv, vh, st.get(JAVA_INT, row + SvdStatus.SWEEPS), st.get(JAVA_FLOAT, row + SvdStatus.OFF)));
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------
    // Polar factor U·Vh from the unsorted Jacobi factors

    private List<FloatMatrix> polarGroup(JacobiShape shape, List<FloatMatrix> group) {
        int m = shape.rows(), n = shape.cols(), p = shape.p(), q = shape.q();
        long mn = shape.elements();
        Layout l = new Layout();
        int input = l.add(4 * mn, 0), work = l.add(4 * mn, 0), v = l.add(4L * q * q, 0), status = l.add(SvdStatus.SIZE, 0),
                keys = l.add(4, 0), exps = l.add(4, 0), sigma = l.add(8L * q, 0);
        List<FloatMatrix> out = new ArrayList<>(group.size());
        for (SvdBatchPlan.Chunk chunk : plan(l, group.size()).chunks()) {
            int c = chunk.count();
            List<FloatMatrix> mats = group.subList(chunk.start(), chunk.start() + c);
            long[] at = carve(l, c);
            try (Arena host = Arena.ofConfined()) {
                uploadAndScan(host, mats, chunk.start(), at[input], at[keys], mn);
                prepare(host, shape, c, at[input], at[work], at[keys], at[exps], !shape.wide());
                jacobi(host, p, q, c, at[work], at[v], at[status]);
                normalize(host, p, q, c, at[work], at[sigma]);
                completeZeroColumns(host, p, q, c, at[work], at[sigma]);
                // Into the input buffer (no longer needed), row-major m×n = column-major n×m:
                // tall (B = A): Pᵀ = V·U_Bᵀ (q×p); wide (B = Aᵀ): Pᵀ = U_B·Vᵀ (p×q).
                if (shape.wide()) {
                    gemm.sgemm(false, true, p, q, q, 1f, at[work], p, (long) p * q, at[v], q, (long) q * q, 0f, at[input], p,
                            (long) p * q, c);
                } else {
                    gemm.sgemm(false, true, q, p, q, 1f, at[v], q, (long) q * q, at[work], p, (long) p * q, 0f, at[input], q,
                            (long) p * q, c);
                }
                for (int i = 0; i < c; i++) {
                    FloatMatrix r = FloatMatrix.zeros(m, n);
                    transfers.download(at[input] + 4L * i * mn, MemorySegment.ofArray(r.data()), 0, 4L * mn);
                    out.add(r);
                }
            }
        }
        return out;
    }

    /** For matrices with σ_j = 0: completes the zero columns of the normalized B on the host and uploads them back. */
    private void completeZeroColumns(Arena host, int p, int q, int c, long work, long sigma) {
        MemorySegment s = host.allocate(8L * q * c, 8);
        transfers.download(sigma, s, 0, s.byteSize());
        for (int i = 0; i < c; i++) {
            boolean zero = false;
            for (int j = 0; j < q && !zero; j++) zero = s.getAtIndex(JAVA_DOUBLE, (long) i * q + j) == 0;
            if (!zero) continue;
            // Column-major p×q is row-major q×p: its rows are B's columns.
            FloatMatrix b = FloatMatrix.zeros(q, p);
            long at = work + 4L * i * p * q;
            transfers.download(at, MemorySegment.ofArray(b.data()), 0, 4L * p * q);
            OrthonormalCompletion.rows(b);
            transfers.upload(MemorySegment.ofArray(b.data()), 0, at, 4L * p * q);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Randomized truncated SVD

    /** Ω (n×l column-major, Gaussian, fixed seed per shape): the same test matrix for every matrix of a shape. */
    static float[] gaussianTestMatrix(int n, int l) {
        Random r = new Random(0x5EED_0000L ^ ((long) n << 20) ^ l);
        float[] omega = new float[Math.multiplyExact(n, l)];
        for (int i = 0; i < omega.length; i++) omega[i] = (float) r.nextGaussian();
        return omega;
    }

    private List<Svd> randomized(JacobiShape shape, List<FloatMatrix> group, int k, int width, int iterations) {
        int m = shape.rows(), n = shape.cols();
        long mn = shape.elements();
        int lw = width;
        Layout l = new Layout();
        int input = l.add(4 * mn, 0), omega = l.add(0, 4L * n * lw), y = l.add(4L * m * lw, 0), z = l.add(4L * n * lw, 0),
                v = l.add(4L * lw * lw, 0), status = l.add(SvdStatus.SIZE, 0), keys = l.add(4, 0), exps = l.add(4, 0),
                sigma = l.add(8L * lw, 0), perm = l.add(4L * lw, 0), sOut = l.add(8L * lw, 0), uSmall = l.add(4L * lw * k, 0),
                uOut = l.add(4L * m * k, 0), vhOut = l.add(4L * k * n, 0);
        float[] testMatrix = gaussianTestMatrix(n, lw);
        List<Svd> out = new ArrayList<>(group.size());
        for (SvdBatchPlan.Chunk chunk : plan(l, group.size()).chunks()) {
            int c = chunk.count();
            List<FloatMatrix> mats = group.subList(chunk.start(), chunk.start() + c);
            long[] at = carve(l, c);
            try (Arena host = Arena.ofConfined()) {
                transfers.upload(MemorySegment.ofArray(testMatrix), 0, at[omega], 4L * testMatrix.length);
                uploadAndScan(host, mats, chunk.start(), at[input], at[keys], mn);
                prepare(host, shape, c, at[input], at[input], at[keys], at[exps], false);  // scaled in place, row-major
                long a = at[input];
                // Row-major A is column-major Aᵀ (n×m, ld n).
                // Y = A·Ω (m×l): (Aᵀ)ᵀ·Ω.
                gemm.sgemm(true, false, m, lw, n, 1f, a, n, mn, at[omega], n, 0, 0f, at[y], m, (long) m * lw, c);
                orthonormalize(host, m, lw, c, at[y], at[v], at[status], at[sigma]);
                for (int it = 0; it < iterations; it++) {
                    gemm.sgemm(false, false, n, lw, m, 1f, a, n, mn, at[y], m, (long) m * lw, 0f, at[z], n, (long) n * lw, c);
                    orthonormalize(host, n, lw, c, at[z], at[v], at[status], at[sigma]);
                    gemm.sgemm(true, false, m, lw, n, 1f, a, n, mn, at[z], n, (long) n * lw, 0f, at[y], m, (long) m * lw, c);
                    orthonormalize(host, m, lw, c, at[y], at[v], at[status], at[sigma]);
                }
                // Bᵀ = Aᵀ·Q (n×l); its SVD Bᵀ = U_b Σ V_bᵀ gives A ≈ Q·B = (Q·V_b)·Σ·U_bᵀ.
                gemm.sgemm(false, false, n, lw, m, 1f, a, n, mn, at[y], m, (long) m * lw, 0f, at[z], n, (long) n * lw, c);
                jacobi(host, n, lw, c, at[z], at[v], at[status]);
                normalize(host, n, lw, c, at[z], at[sigma]);
                order(host, lw, c, at[sigma], at[exps], at[perm], at[sOut]);
                // B (l×n) is the "wide" form of Bᵀ: U_B = V_b (l×k, column-major for the product), Vh_B = U_bᵀ = Vh_A.
                emit(host, n, lw, c, k, true, at[z], at[v], at[perm], at[uSmall], true, at[vhOut]);
                // U_A (row-major m×k) = column-major (Q·U_B)ᵀ = U_Bᵀ·Qᵀ (k×m).
                gemm.sgemm(true, true, k, m, lw, 1f, at[uSmall], lw, (long) lw * k, at[y], m, (long) m * lw, 0f, at[uOut], k,
                        (long) m * k, c);
                out.addAll(collect(host, mats, lw, k, at[sOut], at[status], at[uOut], at[vhOut]));
            }
        }
        return out;
    }

    /** Replaces the columns of c tall p×q matrices by an orthonormal basis of their span (zero columns stay zero). */
    private void orthonormalize(Arena host, int p, int q, int c, long work, long v, long status, long sigma) {
        jacobi(host, p, q, c, work, v, status);
        normalize(host, p, q, c, work, sigma);
    }

    // ------------------------------------------------------------------------------------------

    /**
     * Releases everything when these kernels opened their own device (the public constructor,
     * {@link #open}); kernels from {@link CudaKernels#svd()} belong to that backend and close
     * with it, so this does nothing for them.
     */
    @Override
    public void close() {
        if (!ownsSession) return;
        synchronized (session) {
            session.close();
        }
    }

    @Override
    public String toString() {
        return "CudaSvdKernels[" + gemmReason + ", shared limit " + sharedLimit + " B, " + Arrays.asList(options) + "]";
    }
}

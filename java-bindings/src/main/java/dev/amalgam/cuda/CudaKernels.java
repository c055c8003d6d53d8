package dev.amalgam.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.amalgam.cuda.ChunkPlan.Chunk;
import dev.amalgam.cuda.ChunkPlan.Piece;
import dev.amalgam.cuda.internal.ChunkPipeline;
import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.DeviceArena;
import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.cuda.internal.KernelAttributes;
import dev.amalgam.cuda.internal.KernelLayouts;
import dev.amalgam.cuda.internal.KernelLayouts.FiniteScanArgs;
import dev.amalgam.cuda.internal.KernelLayouts.GtaMergeArgs;
import dev.amalgam.cuda.internal.KernelLayouts.GtaModel;
import dev.amalgam.cuda.internal.KernelLayouts.GtaStatsArgs;
import dev.amalgam.cuda.internal.KernelLayouts.LinearArgs;
import dev.amalgam.cuda.internal.KernelLayouts.LinearInput;
import dev.amalgam.cuda.internal.KernelLayouts.SelectArgs;
import dev.amalgam.cuda.internal.KernelLayouts.SelectSegment;
import dev.amalgam.cuda.internal.KernelModule;
import dev.amalgam.cuda.internal.PanamaCudaDriver;
import dev.amalgam.cuda.internal.TieCutoff;
import dev.amalgam.cuda.internal.Transfers;
import dev.amalgam.kernel.BackendUnavailableException;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * The CUDA implementation of the kernel SPI, plus the same kernels on device memory the caller
 * owns ({@link #gtaOnDevice}, {@link #selectLargestOnDevice}, {@link #linearOnDevice}).
 *
 * <p>Implementation notes
 * <ul>
 *   <li>Contexts: {@link #CudaKernels(Cuda, int, byte[], long, long)} retains the device's primary
 *       context (the one the CUDA runtime uses); {@link #attachToCurrentContext} runs in whatever
 *       context is current on the calling thread (an application's own, e.g. from JCuda) and
 *       never releases it. Every call makes that context current on the calling thread; the
 *       device-memory calls put back whatever was current before.</li>
 *   <li>Host tensors (usually mmap'd safetensors) are copied through two pinned staging buffers
 *       ({@link Transfers}) into one reused device allocation ({@link DeviceArena}); results come
 *       back the same way. Copies run on a copy stream, kernels and memsets on a compute stream,
 *       and {@link ChunkPipeline} overlaps them chunk by chunk (chunk i+1's upload and chunk
 *       i−1's download with kernel i), ordered by events.</li>
 *   <li>Device-memory budget, per call: free memory (cuMemGetInfo) plus what the arena already
 *       holds, minus a reserve of max(256 MiB, 5% of the device) for the driver and other users,
 *       minus the call's fixed tables and statistics (GTA: 16 bytes per model per 4096-element
 *       tile, about 0.2% of a BF16 input; selection: a 16 KiB histogram and a segment table),
 *       capped by {@code maxChunkBytes}. A call whose inputs and output fit is one chunk, copied
 *       to the device once for all its passes; a bigger one is cut into {@link ChunkPlan} chunks
 *       of half the budget each, two in flight (double buffering; selection packs whole tensors
 *       or tile-aligned pieces of them the same way). The arena is one allocation that only
 *       grows (to the largest call so far) and is freed by {@link #close()}. Host side: two
 *       pinned staging buffers of {@code stagingBytes} each. Device-memory calls use the
 *       caller's buffers in place and allocate only the statistics.</li>
 *   <li>Chunking does not change results: every kernel sees the global flat index (Philox
 *       counter, tie cutoffs), chunk starts are multiples of the statistics tile, and per-tile
 *       statistics are combined on the host in tile order.</li>
 *   <li>GTA is up to three launches per chunk: statistics (non-finite inputs, ties at the
 *       thresholds per tile, Σ|δ| per tile), optionally Σ|δ̂| once the tie cutoffs are known
 *       (l1 rescale), then the fused merge. The tie budget becomes a flat-index cutoff on the
 *       host ({@link TieCutoff}) from one tile of the inputs (read from the host tensor, or
 *       copied from device memory), so it carries across chunks by construction.</li>
 *   <li>Bit-identical to {@link ReferenceKernels} except the l1 rescale factor, whose Σ's are
 *       tree reductions per tile (spec §1.10 tolerance). Inputs in dtypes the kernels do not
 *       read (F64) are delegated to the reference, which rounds them to float32 the same way.</li>
 *   <li>Methods serialize on the backend's {@link CudaSession} (shared with {@link #svd()}): a backend serves one thread at a time, and every call returns
 *       after its results (output tensor included) are complete.</li>
 * </ul>
 */
public final class CudaKernels implements KernelBackend {

    private static final long MIB = 1L << 20;
    private static final int[][] SELECT_PASSES = {{20, 11}, {10, 10}, {0, 10}};
    private static final int HISTOGRAM_BYTES = 2048 * 8;
    /** Dynamic shared memory every kernel may use without cuFuncSetAttribute. */
    private static final int DEFAULT_SHARED = CudaSession.DEFAULT_SHARED;

    private final CudaSession session;
    private final Cuda cuda;
    private final CudaDeviceInfo device;
    private final long context;
    private final KernelModule module;
    private final long computeStream;
    private final Transfers transfers;
    private final ChunkPipeline pipeline;
    private final DeviceArena arena;
    private final ReferenceKernels fallback = new ReferenceKernels();
    private final KernelAttributes attributes;
    private final int sharedOptin;    // the most dynamic shared memory a block may opt in to
    private int mergeSharedGranted = DEFAULT_SHARED;
    private final java.util.Map<String, Double> kernelMillis = new java.util.TreeMap<>();
    private long profileStart, profileEnd;  // timing events, created when profiling is turned on
    private CudaSvdKernels svd;             // the SVD family on this session, opened on first use

    /**
     * Opens device {@code ordinal}: retains its primary context and loads {@code fatbin}.
     * {@code maxChunkBytes} caps the device bytes of one call's chunk data (tests force chunking
     * with it); {@code stagingBytes} is the size of each of the two pinned staging buffers.
     */
    public CudaKernels(Cuda cuda, int ordinal, byte[] fatbin, long maxChunkBytes, long stagingBytes) {
        this(CudaSession.primary(cuda, ordinal, fatbin, KernelAttributes.of(cuda), maxChunkBytes, stagingBytes));
    }

    private CudaKernels(CudaSession session) {
        this.session = session;
        this.cuda = session.cuda();
        this.device = session.device();
        this.context = session.context();
        this.computeStream = session.computeStream();
        this.transfers = session.transfers();
        this.pipeline = session.pipeline();
        this.arena = session.arena();
        this.attributes = session.attributes();
        this.sharedOptin = Math.max(DEFAULT_SHARED, session.maxSharedOptin());
        try {
            session.enter();
            this.module = KernelModule.borrowing(cuda, session.module());
        } catch (RuntimeException e) {
            session.close();
            throw e;
        }
        session.borrowedBy(() -> profileKernels(false));
    }

    /** Opens a device with the limits from system properties {@code amalgam.cuda.maxChunkBytes}, {@code amalgam.cuda.stagingBytes}. */
    public static CudaKernels open(Cuda cuda, int ordinal) {
        return new CudaKernels(cuda, ordinal, FatbinResource.read(), Long.getLong("amalgam.cuda.maxChunkBytes", Long.MAX_VALUE),
                Long.getLong("amalgam.cuda.stagingBytes", 8 * MIB));
    }

    /**
     * Runs in the context current on the calling thread (an application's own): loads the kernels
     * into it and creates two streams there. The context is not retained: keep it alive until
     * {@link #close()}. Pointers passed to the {@code *OnDevice} methods must belong to it.
     */
    public static CudaKernels attachToCurrentContext(Cuda cuda, byte[] fatbin, long maxChunkBytes, long stagingBytes) {
        return new CudaKernels(CudaSession.current(cuda, fatbin, KernelAttributes.of(cuda), maxChunkBytes, stagingBytes));
    }

    /**
     * {@link #attachToCurrentContext(Cuda, byte[], long, long)} over {@code libcuda.so.1} and the
     * bundled fatbin; throws {@link BackendUnavailableException} with the reason if either is missing.
     */
    public static CudaKernels attachToCurrentContext() {
        PanamaCudaDriver.Loaded loaded = PanamaCudaDriver.load();
        if (loaded.driver() == null) throw new BackendUnavailableException("cuda: " + loaded.reason());
        if (!FatbinResource.present()) {
            throw new BackendUnavailableException("cuda: " + FatbinResource.PATH + " is not on the class path"
                    + " (nvcc was not on the PATH when amalgam-native-build was built)");
        }
        Cuda cuda = new Cuda(loaded.driver());
        cuda.init();
        return attachToCurrentContext(cuda, FatbinResource.read(), Long.getLong("amalgam.cuda.maxChunkBytes", Long.MAX_VALUE),
                Long.getLong("amalgam.cuda.stagingBytes", 8 * MIB));
    }

    @Override
    public String name() {
        return "cuda";
    }

    public CudaDeviceInfo device() {
        return device;
    }

    /** The session this backend and its SVD kernels share (for tests). */
    CudaSession session() {
        return session;
    }

    /** The context this backend runs in (the primary context, or the one it was attached to). */
    public long context() {
        return context;
    }

    private void enter() {
        session.enter();
    }

    private long enterForCaller(long callerStream) {
        return session.enterForCaller(callerStream);
    }

    private void leaveForCaller(long previous) {
        session.leaveForCaller(previous);
    }

    /** Device bytes one call may use for chunk data, after {@code fixedBytes} of tables and statistics. */
    private long dataBudget(long fixedBytes) {
        return session.dataBudget(fixedBytes, Long.MAX_VALUE);
    }

    private static boolean readable(Tensor t) {
        return KernelLayouts.dtypeCode(t.dtype()) >= 0;
    }

    private static long bytes(Tensor t) {
        return t.dtype().byteSize();
    }

    private int gridFor(long elements, int block, int perSm) {
        return session.gridFor(elements, block, perSm);
    }

    /**
     * Turns kernel profiling on or off: with it, every launch is bracketed by timing events and
     * waited for, and its device time is added to {@link #kernelMillis()}. It serializes host and
     * device (no overlap), so it is for benchmarks that time kernels, not for merges.
     */
    public void profileKernels(boolean on) {
        synchronized (session) {
            if (on && profileStart == 0) {
                cuda.setCurrent(context);
                profileStart = cuda.eventCreate(0);
                profileEnd = cuda.eventCreate(0);
            }
            if (!on && profileStart != 0) {
                cuda.eventDestroy(profileStart);
                cuda.eventDestroy(profileEnd);
                profileStart = profileEnd = 0;
            }
        }
    }

    /** Device milliseconds per kernel name since the last {@link #resetKernelMillis()} (profiling on). */
    public java.util.Map<String, Double> kernelMillis() {
        synchronized (session) {
            return java.util.Map.copyOf(kernelMillis);
        }
    }

    public void resetKernelMillis() {
        synchronized (session) {
            kernelMillis.clear();
        }
    }

    private void launch(long function, String name, long grid, int block, int sharedBytes, long stream, MemorySegment args) {
        if (profileStart == 0) {
            cuda.launch(function, name, grid, block, sharedBytes, stream, args);
            return;
        }
        cuda.eventRecord(profileStart, stream);
        cuda.launch(function, name, grid, block, sharedBytes, stream, args);
        cuda.eventRecord(profileEnd, stream);
        cuda.eventSynchronize(profileEnd);
        kernelMillis.merge(name, (double) cuda.eventElapsedMillis(profileStart, profileEnd), Double::sum);
    }

    private static long align(long address) {
        return (address + DeviceArena.ALIGNMENT - 1) / DeviceArena.ALIGNMENT * DeviceArena.ALIGNMENT;
    }

    private void checkDeviceTensor(DeviceTensor t) {
        session.checkDeviceTensor(t);
    }

    // ------------------------------------------------------------------------------------------
    // Magnitude selection

    /** Queues one selection chunk's data (if any) and segment table into a slot; returns its tile count. */
    private interface SelectionUpload {
        long upload(Arena host, List<Piece> chunk, int slot, long table, long starts);
    }

    @Override
    public MagnitudeThreshold selectLargest(List<DeltaSource> parts, long k) {
        synchronized (session) {
            long n = 0;
            for (DeltaSource p : parts) n += p.elementCount();
            if (k <= 0) return MagnitudeThreshold.KEEP_NONE;
            if (k >= n) return MagnitudeThreshold.KEEP_ALL;
            for (DeltaSource p : parts) {
                if (!readable(p.base()) || !readable(p.model())) return fallback.selectLargest(parts, k);
            }
            enter();
            int segments = parts.size();
            long[] counts = new long[segments];
            long[] perElement = new long[segments];
            for (int s = 0; s < segments; s++) {
                counts[s] = parts.get(s).elementCount();
                perElement[s] = bytes(parts.get(s).base()) + bytes(parts.get(s).model());
            }
            long tableBytes = selectTableBytes(segments);
            long budget = dataBudget(HISTOGRAM_BYTES + 2 * tableBytes);
            List<List<Piece>> chunks = ChunkPlan.pack(counts, perElement, budget, KernelLayouts.TILE, 2 * DeviceArena.ALIGNMENT);
            if (chunks.size() > 1) {  // double buffering: two chunks in flight, half the budget each
                chunks = ChunkPlan.pack(counts, perElement, budget / 2, KernelLayouts.TILE, 2 * DeviceArena.ALIGNMENT);
            }
            int slots = chunks.size() > 1 ? 2 : 1;
            long dataBytes = 0;
            for (List<Piece> chunk : chunks) {
                long b = 0;
                for (Piece p : chunk) b += DeviceArena.padded(p.count() * perElement[p.segment()], 2);
                dataBytes = Math.max(dataBytes, b);
            }
            arena.reset(HISTOGRAM_BYTES + slots * (tableBytes + dataBytes + DeviceArena.ALIGNMENT));
            long histogram = arena.take(HISTOGRAM_BYTES);
            long[] data = new long[slots];
            for (int s = 0; s < slots; s++) data[s] = arena.take(dataBytes);
            return radixSelect(chunks, slots, histogram, k, (host, chunk, slot, table, starts) -> {
                long cursor = data[slot];
                long[] basePtr = new long[chunk.size()], modelPtr = new long[chunk.size()];
                for (int i = 0; i < chunk.size(); i++) {
                    Piece p = chunk.get(i);
                    Tensor base = parts.get(p.segment()).base(), model = parts.get(p.segment()).model();
                    basePtr[i] = align(cursor);
                    transfers.upload(base.data(), p.start() * bytes(base), basePtr[i], p.count() * bytes(base));
                    modelPtr[i] = align(basePtr[i] + p.count() * bytes(base));
                    transfers.upload(model.data(), p.start() * bytes(model), modelPtr[i], p.count() * bytes(model));
                    cursor = modelPtr[i] + p.count() * bytes(model);
                }
                return uploadSegmentTable(host, chunk, basePtr, modelPtr, s -> parts.get(s).base().dtype(),
                        s -> parts.get(s).model().dtype(), table, starts);
            });
        }
    }

    /**
     * {@link #selectLargest} over deltas in device memory: the k largest |model − base| over the
     * concatenation of {@code parts}, exactly as the SPI defines it. Work is ordered after
     * everything already queued on {@code callerStream} (0: the legacy default stream).
     */
    public MagnitudeThreshold selectLargestOnDevice(List<DeviceDeltaSource> parts, long k, long callerStream) {
        synchronized (session) {
            long n = 0;
            for (DeviceDeltaSource p : parts) n += p.elementCount();
            if (k <= 0) return MagnitudeThreshold.KEEP_NONE;
            if (k >= n) return MagnitudeThreshold.KEEP_ALL;
            long previous = enterForCaller(callerStream);
            try {
                List<Piece> all = new ArrayList<>();
                for (int s = 0; s < parts.size(); s++) {
                    checkDeviceTensor(parts.get(s).base());
                    checkDeviceTensor(parts.get(s).model());
                    if (parts.get(s).elementCount() > 0) all.add(new Piece(s, 0, parts.get(s).elementCount()));
                }
                long tableBytes = selectTableBytes(parts.size());
                arena.reset(HISTOGRAM_BYTES + tableBytes);
                long histogram = arena.take(HISTOGRAM_BYTES);
                return radixSelect(List.of(all), 1, histogram, k, (host, chunk, slot, table, starts) -> {
                    long[] basePtr = new long[chunk.size()], modelPtr = new long[chunk.size()];
                    for (int i = 0; i < chunk.size(); i++) {
                        basePtr[i] = parts.get(chunk.get(i).segment()).base().address();
                        modelPtr[i] = parts.get(chunk.get(i).segment()).model().address();
                    }
                    return uploadSegmentTable(host, chunk, basePtr, modelPtr, s -> parts.get(s).base().dtype(),
                            s -> parts.get(s).model().dtype(), table, starts);
                });
            } finally {
                leaveForCaller(previous);
            }
        }
    }

    public MagnitudeThreshold selectLargestOnDevice(List<DeviceDeltaSource> parts, long k) {
        return selectLargestOnDevice(parts, k, 0);
    }

    private static long selectTableBytes(int segments) {
        return DeviceArena.padded((long) (segments + 1) * SelectSegment.SIZE + (segments + 2) * 8L, 2);
    }

    /** Three histogram passes over every chunk; a single chunk is uploaded once for all three. */
    private MagnitudeThreshold radixSelect(List<List<Piece>> chunks, int slots, long histogram, long k, SelectionUpload upload) {
        int segmentsMax = 0;
        for (List<Piece> c : chunks) segmentsMax = Math.max(segmentsMax, c.size());
        long[] table = new long[slots], starts = new long[slots];
        for (int s = 0; s < slots; s++) {
            table[s] = arena.take((long) (segmentsMax + 1) * SelectSegment.SIZE);
            starts[s] = arena.take((segmentsMax + 2) * 8L);
        }
        List<Chunk> order = new ArrayList<>();
        for (int c = 0; c < chunks.size(); c++) order.add(new Chunk(c, 0, 0));
        long[] tiles = new long[chunks.size()];
        try (Arena host = Arena.ofConfined()) {
            MemorySegment args = host.allocate(SelectArgs.SIZE, 8);
            MemorySegment bins = host.allocate(HISTOGRAM_BYTES, 8);
            long above = 0;
            int prefix = 0;
            for (int pass = 0; pass < SELECT_PASSES.length; pass++) {
                final int shift = SELECT_PASSES[pass][0], bits = SELECT_PASSES[pass][1], pfx = prefix;
                final boolean uploadNow = pass == 0 || chunks.size() > 1;
                cuda.memsetAsync(histogram, 0, (1L << bits) * 8, computeStream);
                pipeline.run(order, slots, new ChunkPipeline.Step() {
                    @Override
                    public void upload(Chunk chunk, int slot) {
                        if (uploadNow) tiles[chunk.index()] = upload.upload(host, chunks.get(chunk.index()), slot, table[slot], starts[slot]);
                    }

                    @Override
                    public void compute(Chunk chunk, int slot) {
                        long t = tiles[chunk.index()];
                        args.fill((byte) 0);
                        args.set(JAVA_LONG, SelectArgs.SEGMENTS, table[slot]);
                        args.set(JAVA_LONG, SelectArgs.TILE_STARTS, starts[slot]);
                        args.set(JAVA_LONG, SelectArgs.HISTOGRAM, histogram);
                        args.set(JAVA_LONG, SelectArgs.TOTAL_TILES, t);
                        args.set(JAVA_INT, SelectArgs.SEGMENT_COUNT, chunks.get(chunk.index()).size());
                        args.set(JAVA_INT, SelectArgs.SHIFT, shift);
                        args.set(JAVA_INT, SelectArgs.BITS, bits);
                        args.set(JAVA_INT, SelectArgs.PREFIX, pfx);
                        launch(module.magnitudeHistogram, "amalgam_magnitude_histogram",
                                Math.max(1, Math.min(t, (long) device.multiprocessors() * 8)), KernelLayouts.BLOCK, 0,
                                computeStream, args);
                    }
                });
                transfers.download(histogram, bins, 0, (1L << bits) * 8);
                int b = (1 << bits) - 1;
                while (above + bins.getAtIndex(JAVA_LONG, b) < k) {
                    above += bins.getAtIndex(JAVA_LONG, b);
                    if (--b < 0) throw new IllegalStateException("magnitude histogram lost elements in pass " + pass);
                }
                prefix = (prefix << bits) | b;
            }
            return new MagnitudeThreshold(prefix, k - above);
        }
    }

    /** Writes and queues the segment table and tile starts of one chunk; returns its tile count. */
    private long uploadSegmentTable(Arena host, List<Piece> chunk, long[] basePtr, long[] modelPtr,
                                    java.util.function.IntFunction<DType> baseType, java.util.function.IntFunction<DType> modelType,
                                    long table, long tileStarts) {
        MemorySegment rows = host.allocate((long) chunk.size() * SelectSegment.SIZE, 8);
        MemorySegment starts = host.allocate((chunk.size() + 1) * 8L, 8);
        long tiles = 0;
        for (int i = 0; i < chunk.size(); i++) {
            Piece p = chunk.get(i);
            long row = (long) i * SelectSegment.SIZE;
            rows.set(JAVA_LONG, row + SelectSegment.BASE_PTR, basePtr[i]);
            rows.set(JAVA_LONG, row + SelectSegment.MODEL_PTR, modelPtr[i]);
            rows.set(JAVA_LONG, row + SelectSegment.COUNT, p.count());
            rows.set(JAVA_INT, row + SelectSegment.BASE_DTYPE, KernelLayouts.dtypeCode(baseType.apply(p.segment())));
            rows.set(JAVA_INT, row + SelectSegment.MODEL_DTYPE, KernelLayouts.dtypeCode(modelType.apply(p.segment())));
            starts.setAtIndex(JAVA_LONG, i, tiles);
            tiles += (p.count() + KernelLayouts.TILE - 1) / KernelLayouts.TILE;
        }
        starts.setAtIndex(JAVA_LONG, chunk.size(), tiles);
        transfers.upload(rows, 0, table, rows.byteSize());
        transfers.upload(starts, 0, tileStarts, starts.byteSize());
        return tiles;
    }

    // ------------------------------------------------------------------------------------------
    // The fused GTA pass

    /** One GTA pass as the kernels see it, wherever its tensors are. */
    private record GtaJob(String tensorName, long n, int baseDtype, int[] modelDtypes, int outDtype, int[] modelIndices,
                          float[] weights, Sparsifier[] sparsifiers, RescaleMode rescale, long seed,
                          ConsensusMethod consensus, boolean normalize, float lambda, boolean allowNonfinite) {
        int modelCount() {
            return modelDtypes.length;
        }
    }

    /** Where a GTA pass's tensors are on the device, per slot, and how chunks get there and back. */
    private interface GtaOperands {
        ChunkPlan plan();

        long base(int slot);

        long model(int slot, int m);

        long out(int slot);

        /** Queues the chunk's inputs into the slot (nothing if they are already there). */
        void upload(Chunk chunk, int slot);

        /** Copies the chunk's output out of the slot (nothing if the output is device memory). */
        void download(Chunk chunk, int slot);

        /** Whether δ of model m at flat index i has magnitude key {@code key}; reads stay within one tile per cutoff. */
        LongPredicate deltaKeyIs(int m, int key);
    }

    /** How one model is sparsified and rescaled on the device. */
    private static final class ModelSetup {
        int sparsifier = KernelLayouts.SPARSIFY_NONE;
        MagnitudeThreshold keep, exclude;
        int bound;
        boolean l1;
        int rescaleMode = KernelLayouts.RESCALE_NONE;
        double rescale = 1.0;
        long keepCutoff = TieCutoff.KEEP_ALL_TIES, excludeCutoff = TieCutoff.KEEP_ALL_TIES;
    }

    private static ModelSetup setup(Sparsifier s, RescaleMode mode) {
        ModelSetup m = new ModelSetup();
        switch (s) {
            case Sparsifier.None none -> {
            }
            case Sparsifier.MagnitudeBand band -> {
                if (mode == RescaleMode.INVERSE_DENSITY) {
                    throw new IllegalArgumentException("rescale_mode inverse_density needs a DARE sparsifier");
                }
                m.sparsifier = KernelLayouts.SPARSIFY_BAND;
                m.keep = band.keep();
                m.exclude = band.exclude();
                m.l1 = mode == RescaleMode.L1;
            }
            case Sparsifier.Bernoulli b -> {
                if (b.density() < 1) {  // density >= 1 draws nothing and rescales by exactly 1
                    m.sparsifier = KernelLayouts.SPARSIFY_BERNOULLI;
                    m.bound = (int) BernoulliMask.keepBound(b.density());
                    m.l1 = mode == RescaleMode.L1;
                    if (mode == RescaleMode.INVERSE_DENSITY && b.density() > 0) {
                        m.rescaleMode = KernelLayouts.RESCALE_DIVIDE;
                        m.rescale = b.density();
                    }
                }
            }
        }
        return m;
    }

    private static ModelSetup[] setups(GtaJob job) {
        ModelSetup[] setups = new ModelSetup[job.modelCount()];
        for (int m = 0; m < setups.length; m++) setups[m] = setup(job.sparsifiers()[m], job.rescale());
        return setups;
    }

    private static int[] dtypeCodes(List<DType> dtypes) {
        int[] codes = new int[dtypes.size()];
        for (int i = 0; i < codes.length; i++) codes[i] = KernelLayouts.dtypeCode(dtypes.get(i));
        return codes;
    }

    /** Device bytes of a GTA call's statistics and tables (model tables for {@code slots} slots). */
    private static long gtaStatsBytes(int t, long tiles, int slots) {
        return DeviceArena.padded((long) t * tiles * (4 + 4 + 8) + (t + 1) * 4L + (t + 2) * 8L
                + (long) slots * t * GtaModel.SIZE, 5 + slots);
    }

    @Override
    public GtaResult gta(GtaPass pass) {
        synchronized (session) {
            final int t = pass.modelCount();
            final long n = pass.elementCount();
            GtaJob job = new GtaJob(pass.tensorName(), n, KernelLayouts.dtypeCode(pass.base().dtype()),
                    dtypeCodes(pass.models().stream().map(Tensor::dtype).toList()), KernelLayouts.dtypeCode(pass.out().dtype()),
                    pass.modelIndices(), pass.weights(), pass.sparsifiers(), pass.rescale(), pass.seed(), pass.consensus(),
                    pass.normalize(), pass.lambda(), pass.allowNonfinite());
            ModelSetup[] setups = setups(job);  // validates the sparsifier / rescale combination first
            if (n == 0) return new GtaResult(new long[t], new long[t], 0, -1, 0);
            boolean readable = readable(pass.base()) && readable(pass.out());
            for (Tensor model : pass.models()) readable &= readable(model);
            if (!readable) return fallback.gta(pass);
            enter();

            long perElement = bytes(pass.base()) + bytes(pass.out());
            for (Tensor model : pass.models()) perElement += bytes(model);
            long tiles = (n + KernelLayouts.TILE - 1) / KernelLayouts.TILE;
            long statsBytes = gtaStatsBytes(t, tiles, 2);
            ChunkPlan plan = ChunkPlan.plan(n, perElement, dataBudget(statsBytes + 2 * (t + 2) * DeviceArena.ALIGNMENT),
                    KernelLayouts.TILE);
            int slots = plan.slots();
            long chunkElements = plan.chunkElements();
            arena.reset(statsBytes + slots * DeviceArena.padded(chunkElements * perElement, t + 2));
            long[] basePtr = new long[slots], outPtr = new long[slots];
            long[][] modelPtr = new long[slots][t];
            for (int s = 0; s < slots; s++) {
                basePtr[s] = arena.take(chunkElements * bytes(pass.base()));
                for (int m = 0; m < t; m++) modelPtr[s][m] = arena.take(chunkElements * bytes(pass.models().get(m)));
                outPtr[s] = arena.take(chunkElements * bytes(pass.out()));
            }
            GtaOperands operands = new GtaOperands() {
                private boolean resident;  // a single-chunk plan is uploaded once for every pass

                @Override public ChunkPlan plan() { return plan; }
                @Override public long base(int slot) { return basePtr[slot]; }
                @Override public long model(int slot, int m) { return modelPtr[slot][m]; }
                @Override public long out(int slot) { return outPtr[slot]; }

                @Override
                public void upload(Chunk chunk, int slot) {
                    if (resident) return;
                    transfers.upload(pass.base().data(), chunk.start() * bytes(pass.base()), basePtr[slot],
                            chunk.count() * bytes(pass.base()));
                    for (int m = 0; m < t; m++) {
                        Tensor model = pass.models().get(m);
                        transfers.upload(model.data(), chunk.start() * bytes(model), modelPtr[slot][m], chunk.count() * bytes(model));
                    }
                    resident = plan.singleChunk();
                }

                @Override
                public void download(Chunk chunk, int slot) {
                    transfers.download(outPtr[slot], pass.out().data(), chunk.start() * bytes(pass.out()),
                            chunk.count() * bytes(pass.out()));
                }

                @Override
                public LongPredicate deltaKeyIs(int m, int key) {
                    Tensor base = pass.base(), model = pass.models().get(m);
                    int k = KernelLayouts.canonicalKey(key);
                    return i -> KernelLayouts.deviceKey(model.getFloat(i) - base.getFloat(i)) == k;
                }
            };
            return runGta(job, setups, operands, tiles);
        }
    }

    /**
     * {@link #gta} on tensors in device memory the caller owns: the same pass, bit for bit, with
     * the output written to {@code pass.out()} in place. Work is ordered after everything already
     * queued on {@code callerStream} (0: the legacy default stream); the call returns when the
     * output is written, so the caller may use it on any stream at once.
     */
    public GtaResult gtaOnDevice(DeviceGtaPass pass, long callerStream) {
        synchronized (session) {
            final int t = pass.modelCount();
            final long n = pass.elementCount();
            List<DType> modelTypes = pass.models().stream().map(DeviceTensor::dtype).toList();
            GtaJob job = new GtaJob(pass.tensorName(), n, KernelLayouts.dtypeCode(pass.base().dtype()), dtypeCodes(modelTypes),
                    KernelLayouts.dtypeCode(pass.out().dtype()), pass.modelIndices(), pass.weights(), pass.sparsifiers(),
                    pass.rescale(), pass.seed(), pass.consensus(), pass.normalize(), pass.lambda(), pass.allowNonfinite());
            ModelSetup[] setups = setups(job);
            if (n == 0) return new GtaResult(new long[t], new long[t], 0, -1, 0);
            long previous = enterForCaller(callerStream);
            try (Arena tileMemory = Arena.ofConfined()) {
                checkDeviceTensor(pass.base());
                for (DeviceTensor m : pass.models()) checkDeviceTensor(m);
                checkDeviceTensor(pass.out());
                long tiles = (n + KernelLayouts.TILE - 1) / KernelLayouts.TILE;
                arena.reset(gtaStatsBytes(t, tiles, 1));
                ChunkPlan plan = new ChunkPlan(n, n, List.of(new Chunk(0, 0, n)));
                GtaOperands operands = new GtaOperands() {
                    @Override public ChunkPlan plan() { return plan; }
                    @Override public long base(int slot) { return pass.base().address(); }
                    @Override public long model(int slot, int m) { return pass.models().get(m).address(); }
                    @Override public long out(int slot) { return pass.out().address(); }
                    @Override public void upload(Chunk chunk, int slot) { }
                    @Override public void download(Chunk chunk, int slot) { }

                    @Override
                    public LongPredicate deltaKeyIs(int m, int key) {
                        DeviceTileReader base = new DeviceTileReader(pass.base(), tileMemory);
                        DeviceTileReader model = new DeviceTileReader(pass.models().get(m), tileMemory);
                        int k = KernelLayouts.canonicalKey(key);
                        return i -> KernelLayouts.deviceKey(model.get(i) - base.get(i)) == k;
                    }
                };
                return runGta(job, setups, operands, tiles);
            } finally {
                leaveForCaller(previous);
            }
        }
    }

    public GtaResult gtaOnDevice(DeviceGtaPass pass) {
        return gtaOnDevice(pass, 0);
    }

    /** Reads a device tensor one tile at a time into host memory (for tie cutoffs). */
    private final class DeviceTileReader {
        private final DeviceTensor tensor;
        private final Tensor tile;
        private long cached = -1;

        DeviceTileReader(DeviceTensor tensor, Arena memory) {
            this.tensor = tensor;
            TensorInfo info = new TensorInfo(tensor.name(), tensor.dtype(), new long[] {KernelLayouts.TILE});
            this.tile = new Tensor(info, memory.allocate(info.byteSize(), 8));
        }

        float get(long i) {
            long index = i / KernelLayouts.TILE;
            if (index != cached) {
                long first = index * KernelLayouts.TILE;
                long count = Math.min(KernelLayouts.TILE, tensor.elementCount() - first);
                long size = tensor.dtype().byteSize();
                transfers.download(tensor.address() + first * size, tile.data(), 0, count * size);
                cached = index;
            }
            return tile.getFloat(i - index * KernelLayouts.TILE);
        }
    }

    private GtaResult runGta(GtaJob job, ModelSetup[] setups, GtaOperands operands, long tiles) {
        final int t = job.modelCount();
        final long n = job.n();
        ChunkPlan plan = operands.plan();
        int slots = plan.slots();
        boolean anyBand = false, anyL1 = false;
        for (ModelSetup s : setups) {
            anyBand |= s.sparsifier == KernelLayouts.SPARSIFY_BAND;
            anyL1 |= s.l1;
        }
        long[] table = new long[slots];
        for (int s = 0; s < slots; s++) table[s] = arena.take((long) t * GtaModel.SIZE);
        long tiesKeep = arena.take((long) t * tiles * 4);
        long tiesExclude = arena.take((long) t * tiles * 4);
        long l1 = arena.take((long) t * tiles * 8);
        long nonfinite = arena.take((t + 1) * 4L);
        long counters = arena.take((t + 2) * 8L);
        int nameHash = Fnv1a32.hash(job.tensorName());

        try (Arena host = Arena.ofConfined()) {
            MemorySegment stats = host.allocate(GtaStatsArgs.SIZE, 8);
            stats.set(JAVA_LONG, GtaStatsArgs.TIES_KEEP, tiesKeep);
            stats.set(JAVA_LONG, GtaStatsArgs.TIES_EXCLUDE, tiesExclude);
            stats.set(JAVA_LONG, GtaStatsArgs.L1, l1);
            stats.set(JAVA_LONG, GtaStatsArgs.NONFINITE, nonfinite);
            stats.set(JAVA_LONG, GtaStatsArgs.TOTAL_TILES, tiles);
            stats.set(JAVA_INT, GtaStatsArgs.BASE_DTYPE, job.baseDtype());
            stats.set(JAVA_INT, GtaStatsArgs.MODEL_COUNT, t);
            stats.set(JAVA_INT, GtaStatsArgs.NAME_HASH, nameHash);
            stats.set(JAVA_INT, GtaStatsArgs.SEED_LO, (int) job.seed());
            stats.set(JAVA_INT, GtaStatsArgs.SEED_HI, (int) (job.seed() >>> 32));
            ChunkPipeline.Step statsStep = new ChunkPipeline.Step() {
                @Override
                public void upload(Chunk chunk, int slot) {
                    operands.upload(chunk, slot);
                }

                @Override
                public void compute(Chunk chunk, int slot) {
                    stats.set(JAVA_LONG, GtaStatsArgs.BASE_PTR, operands.base(slot));
                    stats.set(JAVA_LONG, GtaStatsArgs.MODELS, table[slot]);
                    stats.set(JAVA_LONG, GtaStatsArgs.CHUNK_START, chunk.start());
                    stats.set(JAVA_LONG, GtaStatsArgs.COUNT, chunk.count());
                    launch(module.gtaStats, "amalgam_gta_stats", (chunk.count() + KernelLayouts.TILE - 1) / KernelLayouts.TILE,
                            KernelLayouts.BLOCK, 0, computeStream, stats);
                }
            };

            long[] keepTies = new long[t];
            double[] l1Before = new double[t];
            if (!job.allowNonfinite() || anyBand || anyL1) {
                // Statistics, mode 0: non-finite inputs, ties at the thresholds, Σ|δ| per tile.
                writeModelTables(host, table, job, setups, operands);
                cuda.memsetAsync(nonfinite, 0, (t + 1) * 4L, computeStream);
                stats.set(JAVA_INT, GtaStatsArgs.MODE, 0);
                pipeline.run(plan.chunks(), slots, statsStep);
                MemorySegment flags = host.allocate((t + 1) * 4L, 4);
                transfers.download(nonfinite, flags, 0, flags.byteSize());
                if (!job.allowNonfinite()) {
                    for (int j = 0; j <= t; j++) {
                        if (flags.getAtIndex(JAVA_INT, j) != 0) return new GtaResult(new long[t], new long[t], 0, j, 0);
                    }
                }
                if (anyBand) {
                    int[][] keepCounts = downloadTileCounts(host, tiesKeep, t, tiles);
                    int[][] excludeCounts = downloadTileCounts(host, tiesExclude, t, tiles);
                    for (int m = 0; m < t; m++) {
                        ModelSetup s = setups[m];
                        if (s.sparsifier != KernelLayouts.SPARSIFY_BAND) continue;
                        for (int c : keepCounts[m]) keepTies[m] += Integer.toUnsignedLong(c);
                        s.keepCutoff = TieCutoff.find(keepCounts[m], s.keep.tiesToKeep(), KernelLayouts.TILE, n,
                                operands.deltaKeyIs(m, s.keep.key()));
                        if (s.exclude != null) {
                            s.excludeCutoff = TieCutoff.find(excludeCounts[m], s.exclude.tiesToKeep(), KernelLayouts.TILE, n,
                                    operands.deltaKeyIs(m, s.exclude.key()));
                        }
                    }
                }
                if (anyL1) l1Before = sumTiles(host, l1, t, tiles);
            }
            if (anyL1) {
                // Statistics, mode 1: Σ|δ̂| with the full mask, then the factors A/B (§1.9).
                writeModelTables(host, table, job, setups, operands);
                stats.set(JAVA_INT, GtaStatsArgs.MODE, 1);
                pipeline.run(plan.chunks(), slots, statsStep);
                double[] l1After = sumTiles(host, l1, t, tiles);
                for (int m = 0; m < t; m++) {
                    ModelSetup s = setups[m];
                    if (!s.l1 || l1Before[m] < 1e-7 || l1After[m] < 1e-7) continue;
                    s.rescaleMode = KernelLayouts.RESCALE_MULTIPLY;
                    s.rescale = l1Before[m] / l1After[m];
                }
            }
            writeModelTables(host, table, job, setups, operands);

            float allWeights = 0f;
            for (float w : job.weights()) allWeights += w;
            MemorySegment merge = host.allocate(GtaMergeArgs.SIZE, 8);
            merge.set(JAVA_LONG, GtaMergeArgs.COUNTERS, counters);
            merge.set(JAVA_INT, GtaMergeArgs.BASE_DTYPE, job.baseDtype());
            merge.set(JAVA_INT, GtaMergeArgs.OUT_DTYPE, job.outDtype());
            merge.set(JAVA_INT, GtaMergeArgs.MODEL_COUNT, t);
            merge.set(JAVA_INT, GtaMergeArgs.CONSENSUS, consensusCode(job.consensus()));
            merge.set(JAVA_INT, GtaMergeArgs.NORMALIZE, job.normalize() ? 1 : 0);
            merge.set(JAVA_FLOAT, GtaMergeArgs.DIVISOR, Math.abs((double) allWeights) < 1e-8 ? 1f : allWeights);
            merge.set(JAVA_FLOAT, GtaMergeArgs.LAMBDA, job.lambda());
            merge.set(JAVA_INT, GtaMergeArgs.NAME_HASH, nameHash);
            merge.set(JAVA_INT, GtaMergeArgs.SEED_LO, (int) job.seed());
            merge.set(JAVA_INT, GtaMergeArgs.SEED_HI, (int) (job.seed() >>> 32));

            boolean consensus = job.consensus() != ConsensusMethod.NONE;
            // Consensus keeps T contributions per thread in shared memory: halve the block to stay
            // within the default 48 KiB down to 64 threads, then opt in to more (the device's limit).
            int block = KernelLayouts.BLOCK;
            while (consensus && sharedBytes(t, block, true) > DEFAULT_SHARED && block > 64) block /= 2;
            while (consensus && sharedBytes(t, block, true) > sharedOptin && block > 32) block /= 2;
            final int mergeBlock = block;
            int shared = sharedBytes(t, block, consensus);
            if (shared > sharedOptin) {
                throw new IllegalArgumentException("tensor " + job.tensorName() + ": " + t
                        + " models exceed what the CUDA GTA kernel holds in shared memory (" + sharedOptin + " bytes)");
            }
            if (shared > mergeSharedGranted) {
                cuda.check(attributes.cuFuncSetAttribute(module.gtaMerge, KernelAttributes.MAX_DYNAMIC_SHARED_SIZE_BYTES,
                        sharedOptin), "cuFuncSetAttribute", "allowing amalgam_gta_merge " + sharedOptin + " bytes of shared memory");
                mergeSharedGranted = sharedOptin;
            }
            cuda.memsetAsync(counters, 0, (t + 2) * 8L, computeStream);
            pipeline.run(plan.chunks(), slots, new ChunkPipeline.Step() {
                @Override
                public void upload(Chunk chunk, int slot) {
                    operands.upload(chunk, slot);
                }

                @Override
                public void compute(Chunk chunk, int slot) {
                    merge.set(JAVA_LONG, GtaMergeArgs.BASE_PTR, operands.base(slot));
                    merge.set(JAVA_LONG, GtaMergeArgs.OUT_PTR, operands.out(slot));
                    merge.set(JAVA_LONG, GtaMergeArgs.MODELS, table[slot]);
                    merge.set(JAVA_LONG, GtaMergeArgs.CHUNK_START, chunk.start());
                    merge.set(JAVA_LONG, GtaMergeArgs.COUNT, chunk.count());
                    launch(module.gtaMerge, "amalgam_gta_merge", gridFor(chunk.count(), mergeBlock, 16), mergeBlock, shared,
                            computeStream, merge);
                }

                @Override
                public void download(Chunk chunk, int slot) {
                    operands.download(chunk, slot);
                }
            });
            MemorySegment count = host.allocate((t + 2) * 8L, 8);
            transfers.download(counters, count, 0, count.byteSize());
            long[] kept = new long[t];
            for (int m = 0; m < t; m++) kept[m] = count.getAtIndex(JAVA_LONG, m);
            return new GtaResult(kept, keepTies, count.getAtIndex(JAVA_LONG, t), -1, count.getAtIndex(JAVA_LONG, t + 1));
        }
    }

    /** amalgam_gta_merge's dynamic shared memory: the staged model records, the counters, the contributions. */
    private static int sharedBytes(int models, int block, boolean consensus) {
        return models * GtaModel.SIZE + (models + 2) * 4 + (consensus ? models * block * 4 : 0);
    }

    private static int consensusCode(ConsensusMethod c) {
        return switch (c) {
            case NONE -> KernelLayouts.CONSENSUS_NONE;
            case SUM -> KernelLayouts.CONSENSUS_SUM;
            case COUNT -> KernelLayouts.CONSENSUS_COUNT;
        };
    }

    /** Queues the model table of every slot (the slots differ only in the model pointers). */
    private void writeModelTables(Arena host, long[] table, GtaJob job, ModelSetup[] setups, GtaOperands operands) {
        int t = setups.length;
        if (t == 0) return;
        MemorySegment rows = host.allocate((long) t * GtaModel.SIZE, 8);
        for (int slot = 0; slot < table.length; slot++) {
            for (int m = 0; m < t; m++) {
                ModelSetup s = setups[m];
                long r = (long) m * GtaModel.SIZE;
                rows.set(JAVA_LONG, r + GtaModel.MODEL_PTR, operands.model(slot, m));
                rows.set(JAVA_LONG, r + GtaModel.KEEP_CUTOFF, s.keepCutoff);
                rows.set(JAVA_LONG, r + GtaModel.EXCLUDE_CUTOFF, s.excludeCutoff);
                rows.set(JAVA_DOUBLE, r + GtaModel.RESCALE, s.rescale);
                rows.set(JAVA_INT, r + GtaModel.DTYPE, job.modelDtypes()[m]);
                rows.set(JAVA_INT, r + GtaModel.SPARSIFIER, s.sparsifier);
                rows.set(JAVA_INT, r + GtaModel.KEEP_KEY, s.keep == null ? 0 : KernelLayouts.canonicalKey(s.keep.key()));
                rows.set(JAVA_INT, r + GtaModel.EXCLUDE_KEY, s.exclude == null ? 0 : KernelLayouts.canonicalKey(s.exclude.key()));
                rows.set(JAVA_INT, r + GtaModel.HAS_EXCLUDE, s.exclude == null ? 0 : 1);
                rows.set(JAVA_INT, r + GtaModel.RESCALE_MODE, s.rescaleMode);
                rows.set(JAVA_INT, r + GtaModel.MODEL_INDEX, job.modelIndices()[m]);
                rows.set(JAVA_INT, r + GtaModel.KEEP_BOUND, s.bound);
                rows.set(JAVA_FLOAT, r + GtaModel.WEIGHT, job.weights()[m]);
                rows.set(JAVA_INT, r + GtaModel.RESERVED, 0);
            }
            transfers.upload(rows, 0, table[slot], rows.byteSize());
        }
    }

    private int[][] downloadTileCounts(Arena host, long device, int t, long tiles) {
        MemorySegment all = host.allocate(Math.max(4, (long) t * tiles * 4), 4);
        transfers.download(device, all, 0, (long) t * tiles * 4);
        int[][] out = new int[t][];
        for (int m = 0; m < t; m++) {
            out[m] = all.asSlice((long) m * tiles * 4, tiles * 4).toArray(JAVA_INT);
        }
        return out;
    }

    /** Per model, the per-tile doubles added in tile order (deterministic, chunking-independent). */
    private double[] sumTiles(Arena host, long device, int t, long tiles) {
        MemorySegment all = host.allocate(Math.max(8, (long) t * tiles * 8), 8);
        transfers.download(device, all, 0, (long) t * tiles * 8);
        double[] sums = new double[t];
        for (int m = 0; m < t; m++) {
            double s = 0;
            for (long i = 0; i < tiles; i++) s += all.getAtIndex(JAVA_DOUBLE, m * tiles + i);
            sums[m] = s;
        }
        return sums;
    }

    // ------------------------------------------------------------------------------------------
    // linear

    /** One linear pass as the kernels see it. */
    private record LinearJob(String tensorName, long n, int[] inputDtypes, float[] weights, float divisor, int outDtype,
                             boolean allowNonfinite) {
    }

    /** Where a linear pass's tensors are on the device, per slot. */
    private interface LinearOperands {
        ChunkPlan plan();

        long input(int slot, int j);

        long out(int slot);

        void upload(Chunk chunk, int slot);

        void download(Chunk chunk, int slot);
    }

    private static long linearFixedBytes(int count, int slots) {
        return DeviceArena.padded((long) slots * count * LinearInput.SIZE + count * 4L + 8, 2 + slots);
    }

    @Override
    public LinearResult linear(LinearPass pass) {
        synchronized (session) {
            List<Tensor> inputs = pass.inputs();
            int count = inputs.size();
            long n = pass.out().elementCount();
            boolean readable = readable(pass.out());
            for (Tensor x : inputs) readable &= readable(x);
            if (!readable) return fallback.linear(pass);
            if (n == 0) return new LinearResult(-1, 0);
            enter();

            long perElement = bytes(pass.out());
            for (Tensor x : inputs) perElement += bytes(x);
            long fixed = linearFixedBytes(count, 2);
            ChunkPlan plan = ChunkPlan.plan(n, perElement, dataBudget(fixed + 2 * (count + 1) * DeviceArena.ALIGNMENT),
                    KernelLayouts.TILE);
            int slots = plan.slots();
            long chunkElements = plan.chunkElements();
            arena.reset(fixed + slots * DeviceArena.padded(chunkElements * perElement, count + 1));
            long[][] inputPtr = new long[slots][count];
            long[] outPtr = new long[slots];
            for (int s = 0; s < slots; s++) {
                for (int j = 0; j < count; j++) inputPtr[s][j] = arena.take(chunkElements * bytes(inputs.get(j)));
                outPtr[s] = arena.take(chunkElements * bytes(pass.out()));
            }
            LinearJob job = new LinearJob(pass.tensorName(), n, dtypeCodes(inputs.stream().map(Tensor::dtype).toList()),
                    pass.weights(), pass.divisor(), KernelLayouts.dtypeCode(pass.out().dtype()), pass.allowNonfinite());
            return runLinear(job, new LinearOperands() {
                private boolean resident;

                @Override public ChunkPlan plan() { return plan; }
                @Override public long input(int slot, int j) { return inputPtr[slot][j]; }
                @Override public long out(int slot) { return outPtr[slot]; }

                @Override
                public void upload(Chunk chunk, int slot) {
                    if (resident) return;
                    for (int j = 0; j < count; j++) {
                        Tensor x = inputs.get(j);
                        transfers.upload(x.data(), chunk.start() * bytes(x), inputPtr[slot][j], chunk.count() * bytes(x));
                    }
                    resident = plan.singleChunk();
                }

                @Override
                public void download(Chunk chunk, int slot) {
                    transfers.download(outPtr[slot], pass.out().data(), chunk.start() * bytes(pass.out()),
                            chunk.count() * bytes(pass.out()));
                }
            });
        }
    }

    /**
     * {@link #linear} on tensors in device memory the caller owns, bit for bit, writing
     * {@code pass.out()} in place; ordered after {@code callerStream} (0: the legacy default
     * stream) and complete when it returns.
     */
    public LinearResult linearOnDevice(DeviceLinearPass pass, long callerStream) {
        synchronized (session) {
            List<DeviceTensor> inputs = pass.inputs();
            long n = pass.out().elementCount();
            if (n == 0) return new LinearResult(-1, 0);
            long previous = enterForCaller(callerStream);
            try {
                for (DeviceTensor x : inputs) checkDeviceTensor(x);
                checkDeviceTensor(pass.out());
                arena.reset(linearFixedBytes(inputs.size(), 1));
                ChunkPlan plan = new ChunkPlan(n, n, List.of(new Chunk(0, 0, n)));
                LinearJob job = new LinearJob(pass.tensorName(), n, dtypeCodes(inputs.stream().map(DeviceTensor::dtype).toList()),
                        pass.weights(), pass.divisor(), KernelLayouts.dtypeCode(pass.out().dtype()), pass.allowNonfinite());
                return runLinear(job, new LinearOperands() {
                    @Override public ChunkPlan plan() { return plan; }
                    @Override public long input(int slot, int j) { return inputs.get(j).address(); }
                    @Override public long out(int slot) { return pass.out().address(); }
                    @Override public void upload(Chunk chunk, int slot) { }
                    @Override public void download(Chunk chunk, int slot) { }
                });
            } finally {
                leaveForCaller(previous);
            }
        }
    }

    public LinearResult linearOnDevice(DeviceLinearPass pass) {
        return linearOnDevice(pass, 0);
    }

    private LinearResult runLinear(LinearJob job, LinearOperands operands) {
        int count = job.inputDtypes().length;
        ChunkPlan plan = operands.plan();
        int slots = plan.slots();
        long[] table = new long[slots];
        for (int s = 0; s < slots; s++) table[s] = arena.take((long) count * LinearInput.SIZE);
        long flags = arena.take(count * 4L);
        long counters = arena.take(8);

        try (Arena host = Arena.ofConfined()) {
            if (count > 0) {
                MemorySegment rows = host.allocate((long) count * LinearInput.SIZE, 8);
                for (int s = 0; s < slots; s++) {
                    for (int j = 0; j < count; j++) {
                        long r = (long) j * LinearInput.SIZE;
                        rows.set(JAVA_LONG, r + LinearInput.PTR, operands.input(s, j));
                        rows.set(JAVA_INT, r + LinearInput.DTYPE, job.inputDtypes()[j]);
                        rows.set(JAVA_FLOAT, r + LinearInput.WEIGHT, job.weights()[j]);
                    }
                    transfers.upload(rows, 0, table[s], rows.byteSize());
                }
            }
            if (!job.allowNonfinite() && count > 0) {
                MemorySegment scan = host.allocate(FiniteScanArgs.SIZE, 8);
                scan.set(JAVA_LONG, FiniteScanArgs.FLAGS, flags);
                scan.set(JAVA_INT, FiniteScanArgs.INPUT_COUNT, count);
                cuda.memsetAsync(flags, 0, count * 4L, computeStream);
                pipeline.run(plan.chunks(), slots, new ChunkPipeline.Step() {
                    @Override
                    public void upload(Chunk chunk, int slot) {
                        operands.upload(chunk, slot);
                    }

                    @Override
                    public void compute(Chunk chunk, int slot) {
                        scan.set(JAVA_LONG, FiniteScanArgs.INPUTS, table[slot]);
                        scan.set(JAVA_LONG, FiniteScanArgs.COUNT, chunk.count());
                        launch(module.finiteScan, "amalgam_finite_scan", gridFor(chunk.count(), KernelLayouts.BLOCK, 8),
                                KernelLayouts.BLOCK, 0, computeStream, scan);
                    }
                });
                MemorySegment found = host.allocate(count * 4L, 4);
                transfers.download(flags, found, 0, found.byteSize());
                for (int j = 0; j < count; j++) {
                    if (found.getAtIndex(JAVA_INT, j) != 0) return new LinearResult(j, 0);
                }
            }
            MemorySegment args = host.allocate(LinearArgs.SIZE, 8);
            args.set(JAVA_LONG, LinearArgs.COUNTERS, counters);
            args.set(JAVA_INT, LinearArgs.INPUT_COUNT, count);
            args.set(JAVA_INT, LinearArgs.OUT_DTYPE, job.outDtype());
            args.set(JAVA_FLOAT, LinearArgs.DIVISOR, job.divisor());
            cuda.memsetAsync(counters, 0, 8, computeStream);
            pipeline.run(plan.chunks(), slots, new ChunkPipeline.Step() {
                @Override
                public void upload(Chunk chunk, int slot) {
                    operands.upload(chunk, slot);
                }

                @Override
                public void compute(Chunk chunk, int slot) {
                    args.set(JAVA_LONG, LinearArgs.INPUTS, table[slot]);
                    args.set(JAVA_LONG, LinearArgs.OUT_PTR, operands.out(slot));
                    args.set(JAVA_LONG, LinearArgs.COUNT, chunk.count());
                    launch(module.linear, "amalgam_linear", gridFor(chunk.count(), KernelLayouts.BLOCK, 16),
                            KernelLayouts.BLOCK, 0, computeStream, args);
                }

                @Override
                public void download(Chunk chunk, int slot) {
                    operands.download(chunk, slot);
                }
            });
            MemorySegment nonFinite = host.allocate(8, 8);
            transfers.download(counters, nonFinite, 0, 8);
            return new LinearResult(-1, nonFinite.get(JAVA_LONG, 0));
        }
    }

    /**
     * The CUDA SVD kernels on this backend's session (opened on first use): same context, same
     * streams and device arena, one memory budget; closed with this backend.
     */
    @Override
    public dev.amalgam.kernel.svd.SvdKernels svd() {
        synchronized (session) {
            if (svd == null) {
                session.enter();
                svd = new CudaSvdKernels(session, CudaSvdKernels.Options.fromSystemProperties(),
                        dev.amalgam.cuda.internal.OptionalLibrary.find("cublas", dev.amalgam.cuda.internal.OptionalLibrary.CUBLAS));
            }
            return svd;
        }
    }

    // ------------------------------------------------------------------------------------------

    /** Closes the SVD kernels, frees the session and puts back the caller's context (see {@link CudaSession#close()}). */
    @Override
    public void close() {
        synchronized (session) {
            session.close();
        }
    }
}

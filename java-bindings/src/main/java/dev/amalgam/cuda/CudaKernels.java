package dev.amalgam.cuda;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.DeviceArena;
import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.cuda.internal.KernelLayouts;
import dev.amalgam.cuda.internal.KernelLayouts.GtaMergeArgs;
import dev.amalgam.cuda.internal.KernelLayouts.GtaModel;
import dev.amalgam.cuda.internal.KernelLayouts.GtaStatsArgs;
import dev.amalgam.cuda.internal.KernelLayouts.LinearArgs;
import dev.amalgam.cuda.internal.KernelLayouts.LinearInput;
import dev.amalgam.cuda.internal.KernelLayouts.SelectArgs;
import dev.amalgam.cuda.internal.KernelLayouts.SelectSegment;
import dev.amalgam.cuda.internal.KernelModule;
import dev.amalgam.cuda.internal.TieCutoff;
import dev.amalgam.cuda.internal.Transfers;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.MagnitudeKey;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The CUDA implementation of the kernel SPI.
 *
 * <p>Implementation notes
 * <ul>
 *   <li>Inputs are host memory segments (usually mmap'd safetensors). They are copied through
 *       pinned staging buffers ({@link Transfers}) into one reused device allocation
 *       ({@link DeviceArena}); results come back the same way. One stream orders everything.</li>
 *   <li>A tensor larger than the device budget is processed in {@link ChunkPlan} chunks. Every
 *       kernel sees the global flat index (Philox counter, tie cutoffs) and chunk starts are
 *       multiples of the statistics tile, so results do not depend on the chunking. A tensor
 *       that fits is copied once for all passes.</li>
 *   <li>GTA is up to three launches per chunk: statistics (non-finite inputs, ties at the
 *       thresholds per tile, Σ|δ| per tile), optionally Σ|δ̂| once the tie cutoffs are known
 *       (l1 rescale), then the fused merge. The tie budget becomes a flat-index cutoff on the
 *       host ({@link TieCutoff}), so it carries across chunks by construction.</li>
 *   <li>Bit-identical to {@link ReferenceKernels} except the l1 rescale factor, whose Σ's are
 *       tree reductions (spec §1.10 tolerance). Inputs in dtypes the kernels do not read (F64)
 *       are delegated to the reference, which rounds them to float32 the same way.</li>
 *   <li>Methods are synchronized: a backend serves one merge thread at a time, and each call
 *       makes the context current on the calling thread.</li>
 * </ul>
 */
public final class CudaKernels implements KernelBackend {

    private static final long MIB = 1L << 20;
    private static final int[][] SELECT_PASSES = {{20, 11}, {10, 10}, {0, 10}};

    private final Cuda cuda;
    private final CudaDeviceInfo device;
    private final int deviceHandle;
    private final long context;
    private final KernelModule module;
    private final long stream;
    private final Transfers transfers;
    private final DeviceArena arena;
    private final long maxChunkBytes;
    private final ReferenceKernels fallback = new ReferenceKernels();
    private boolean closed;

    /**
     * Opens device {@code ordinal}: retains its primary context and loads {@code fatbin}.
     * {@code maxChunkBytes} caps the device bytes of one chunk (tests force chunking with it);
     * {@code stagingBytes} is the size of each of the two pinned staging buffers.
     */
    public CudaKernels(Cuda cuda, int ordinal, byte[] fatbin, long maxChunkBytes, long stagingBytes) {
        this.cuda = cuda;
        cuda.init();
        this.device = CudaDeviceInfo.query(cuda, ordinal);
        this.deviceHandle = cuda.device(ordinal);
        this.context = cuda.retainPrimaryContext(deviceHandle);
        this.maxChunkBytes = maxChunkBytes;
        KernelModule m = null;
        long s = 0;
        Transfers t = null;
        try {
            cuda.setCurrent(context);
            m = new KernelModule(cuda, fatbin);
            s = cuda.streamCreate();
            t = new Transfers(cuda, s, stagingBytes);
        } catch (RuntimeException e) {
            if (t != null) t.close();
            if (s != 0) cuda.streamDestroy(s);
            if (m != null) m.close();
            cuda.releasePrimaryContext(deviceHandle);
            throw e;
        }
        this.module = m;
        this.stream = s;
        this.transfers = t;
        this.arena = new DeviceArena(cuda);
    }

    /** Opens a device with the limits from system properties {@code amalgam.cuda.maxChunkBytes}, {@code amalgam.cuda.stagingBytes}. */
    public static CudaKernels open(Cuda cuda, int ordinal) {
        return new CudaKernels(cuda, ordinal, FatbinResource.read(), Long.getLong("amalgam.cuda.maxChunkBytes", Long.MAX_VALUE),
                Long.getLong("amalgam.cuda.stagingBytes", 8 * MIB));
    }

    @Override
    public String name() {
        return "cuda";
    }

    public CudaDeviceInfo device() {
        return device;
    }

    private void enter() {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        cuda.setCurrent(context);
    }

    /** Device bytes one call may use for chunk data, after {@code fixedBytes} of tables and statistics. */
    private long dataBudget(long fixedBytes) {
        long[] info = cuda.memInfo();
        long reserve = Math.max(256 * MIB, info[1] / 20);
        long usable = info[0] + arena.capacity() - reserve - fixedBytes;
        return Math.max(0, Math.min(usable, maxChunkBytes));
    }

    private static boolean readable(Tensor t) {
        return KernelLayouts.dtypeCode(t.dtype()) >= 0;
    }

    private static long bytes(Tensor t) {
        return t.dtype().byteSize();
    }

    private int gridFor(long elements, int block, int perSm) {
        long blocks = (elements + block - 1) / block;
        return (int) Math.max(1, Math.min(blocks, (long) device.multiprocessors() * perSm));
    }

    // ------------------------------------------------------------------------------------------
    // Magnitude selection

    @Override
    public synchronized MagnitudeThreshold selectLargest(List<DeltaSource> parts, long k) {
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
        long tableBytes = DeviceArena.padded((long) (segments + 1) * SelectSegment.SIZE + (segments + 2) * 8L + 2048 * 8, 4);
        long budget = dataBudget(tableBytes);
        List<List<ChunkPlan.Piece>> chunks = ChunkPlan.pack(counts, perElement, budget, KernelLayouts.TILE,
                2 * DeviceArena.ALIGNMENT);
        long dataBytes = 0;
        for (List<ChunkPlan.Piece> chunk : chunks) {
            long b = 0;
            for (ChunkPlan.Piece p : chunk) b += DeviceArena.padded(p.count() * perElement[p.segment()], 2);
            dataBytes = Math.max(dataBytes, b);
        }
        arena.reset(tableBytes + dataBytes);
        long histogram = arena.take(2048 * 8);
        long segmentTable = arena.take((long) (segments + 1) * SelectSegment.SIZE);
        long tileStarts = arena.take((segments + 2) * 8L);
        long data = arena.take(dataBytes);

        try (Arena host = Arena.ofConfined()) {
            MemorySegment args = host.allocate(SelectArgs.SIZE, 8);
            MemorySegment bins = host.allocate(2048 * 8L, 8);
            long above = 0;
            int prefix = 0;
            for (int pass = 0; pass < SELECT_PASSES.length; pass++) {
                int shift = SELECT_PASSES[pass][0], bits = SELECT_PASSES[pass][1];
                cuda.memsetAsync(histogram, 0, (1L << bits) * 8, stream);
                for (List<ChunkPlan.Piece> chunk : chunks) {
                    long tiles = (pass == 0 || chunks.size() > 1)
                            ? uploadSelectChunk(host, parts, chunk, data, segmentTable, tileStarts)
                            : tileCount(chunk);
                    args.fill((byte) 0);
                    args.set(JAVA_LONG, SelectArgs.SEGMENTS, segmentTable);
                    args.set(JAVA_LONG, SelectArgs.TILE_STARTS, tileStarts);
                    args.set(JAVA_LONG, SelectArgs.HISTOGRAM, histogram);
                    args.set(JAVA_LONG, SelectArgs.TOTAL_TILES, tiles);
                    args.set(JAVA_INT, SelectArgs.SEGMENT_COUNT, chunk.size());
                    args.set(JAVA_INT, SelectArgs.SHIFT, shift);
                    args.set(JAVA_INT, SelectArgs.BITS, bits);
                    args.set(JAVA_INT, SelectArgs.PREFIX, prefix);
                    cuda.launch(module.magnitudeHistogram, "amalgam_magnitude_histogram",
                            Math.max(1, Math.min(tiles, (long) device.multiprocessors() * 8)), KernelLayouts.BLOCK, 0,
                            stream, args);
                }
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

    private static long tileCount(List<ChunkPlan.Piece> chunk) {
        long tiles = 0;
        for (ChunkPlan.Piece p : chunk) tiles += (p.count() + KernelLayouts.TILE - 1) / KernelLayouts.TILE;
        return tiles;
    }

    /** Copies the pieces of one chunk and their segment table to the device; returns the chunk's tile count. */
    private long uploadSelectChunk(Arena host, List<DeltaSource> parts, List<ChunkPlan.Piece> chunk, long data,
                                   long segmentTable, long tileStarts) {
        MemorySegment table = host.allocate((long) chunk.size() * SelectSegment.SIZE, 8);
        MemorySegment starts = host.allocate((chunk.size() + 1) * 8L, 8);
        long cursor = data, tiles = 0;
        for (int i = 0; i < chunk.size(); i++) {
            ChunkPlan.Piece p = chunk.get(i);
            Tensor base = parts.get(p.segment()).base(), model = parts.get(p.segment()).model();
            long basePtr = align(cursor);
            transfers.upload(base.data(), p.start() * bytes(base), basePtr, p.count() * bytes(base));
            long modelPtr = align(basePtr + p.count() * bytes(base));
            transfers.upload(model.data(), p.start() * bytes(model), modelPtr, p.count() * bytes(model));
            cursor = modelPtr + p.count() * bytes(model);
            long row = (long) i * SelectSegment.SIZE;
            table.set(JAVA_LONG, row + SelectSegment.BASE_PTR, basePtr);
            table.set(JAVA_LONG, row + SelectSegment.MODEL_PTR, modelPtr);
            table.set(JAVA_LONG, row + SelectSegment.COUNT, p.count());
            table.set(JAVA_INT, row + SelectSegment.BASE_DTYPE, KernelLayouts.dtypeCode(base.dtype()));
            table.set(JAVA_INT, row + SelectSegment.MODEL_DTYPE, KernelLayouts.dtypeCode(model.dtype()));
            starts.setAtIndex(JAVA_LONG, i, tiles);
            tiles += (p.count() + KernelLayouts.TILE - 1) / KernelLayouts.TILE;
        }
        starts.setAtIndex(JAVA_LONG, chunk.size(), tiles);
        transfers.upload(table, 0, segmentTable, table.byteSize());
        transfers.upload(starts, 0, tileStarts, starts.byteSize());
        return tiles;
    }

    private static long align(long address) {
        return (address + DeviceArena.ALIGNMENT - 1) / DeviceArena.ALIGNMENT * DeviceArena.ALIGNMENT;
    }

    // ------------------------------------------------------------------------------------------
    // The fused GTA pass

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

    @Override
    public synchronized GtaResult gta(GtaPass pass) {
        final int t = pass.modelCount();
        final long n = pass.elementCount();
        ModelSetup[] setups = new ModelSetup[t];
        for (int m = 0; m < t; m++) setups[m] = setup(pass.sparsifiers()[m], pass.rescale());
        if (n == 0) return new GtaResult(new long[t], new long[t], 0, -1, 0);
        boolean readable = readable(pass.base()) && readable(pass.out());
        for (Tensor model : pass.models()) readable &= readable(model);
        if (!readable) return fallback.gta(pass);
        enter();

        boolean anyBand = false, anyL1 = false;
        for (ModelSetup s : setups) {
            anyBand |= s.sparsifier == KernelLayouts.SPARSIFY_BAND;
            anyL1 |= s.l1;
        }
        long perElement = bytes(pass.base()) + bytes(pass.out());
        for (Tensor model : pass.models()) perElement += bytes(model);
        long tiles = (n + KernelLayouts.TILE - 1) / KernelLayouts.TILE;
        long statsBytes = DeviceArena.padded((long) t * tiles * (4 + 4 + 8) + (t + 1) * 4L + (t + 2) * 8L
                + (long) t * GtaModel.SIZE, 6);
        ChunkPlan plan = ChunkPlan.plan(n, perElement, dataBudget(statsBytes + (t + 2) * DeviceArena.ALIGNMENT),
                KernelLayouts.TILE);
        long chunkElements = plan.chunkElements();
        arena.reset(statsBytes + DeviceArena.padded(chunkElements * perElement, t + 2));
        long basePtr = arena.take(chunkElements * bytes(pass.base()));
        long[] modelPtr = new long[t];
        for (int m = 0; m < t; m++) modelPtr[m] = arena.take(chunkElements * bytes(pass.models().get(m)));
        long outPtr = arena.take(chunkElements * bytes(pass.out()));
        long table = arena.take((long) t * GtaModel.SIZE);
        long tiesKeep = arena.take((long) t * tiles * 4);
        long tiesExclude = arena.take((long) t * tiles * 4);
        long l1 = arena.take((long) t * tiles * 8);
        long nonfinite = arena.take((t + 1) * 4L);
        long counters = arena.take((t + 2) * 8L);
        int nameHash = Fnv1a32.hash(pass.tensorName());

        try (Arena host = Arena.ofConfined()) {
            Uploader uploader = new Uploader(plan, chunk -> {
                transfers.upload(pass.base().data(), chunk.start() * bytes(pass.base()), basePtr,
                        chunk.count() * bytes(pass.base()));
                for (int m = 0; m < t; m++) {
                    Tensor model = pass.models().get(m);
                    transfers.upload(model.data(), chunk.start() * bytes(model), modelPtr[m], chunk.count() * bytes(model));
                }
            });
            MemorySegment stats = host.allocate(GtaStatsArgs.SIZE, 8);
            stats.set(JAVA_LONG, GtaStatsArgs.BASE_PTR, basePtr);
            stats.set(JAVA_LONG, GtaStatsArgs.MODELS, table);
            stats.set(JAVA_LONG, GtaStatsArgs.TIES_KEEP, tiesKeep);
            stats.set(JAVA_LONG, GtaStatsArgs.TIES_EXCLUDE, tiesExclude);
            stats.set(JAVA_LONG, GtaStatsArgs.L1, l1);
            stats.set(JAVA_LONG, GtaStatsArgs.NONFINITE, nonfinite);
            stats.set(JAVA_LONG, GtaStatsArgs.TOTAL_TILES, tiles);
            stats.set(JAVA_INT, GtaStatsArgs.BASE_DTYPE, KernelLayouts.dtypeCode(pass.base().dtype()));
            stats.set(JAVA_INT, GtaStatsArgs.MODEL_COUNT, t);
            stats.set(JAVA_INT, GtaStatsArgs.NAME_HASH, nameHash);
            stats.set(JAVA_INT, GtaStatsArgs.SEED_LO, (int) pass.seed());
            stats.set(JAVA_INT, GtaStatsArgs.SEED_HI, (int) (pass.seed() >>> 32));

            long[] keepTies = new long[t];
            double[] l1Before = new double[t];
            if (!pass.allowNonfinite() || anyBand || anyL1) {
                // Statistics, mode 0: non-finite inputs, ties at the thresholds, Σ|δ| per tile.
                writeModelTable(host, table, pass, setups, modelPtr);
                cuda.memsetAsync(nonfinite, 0, (t + 1) * 4L, stream);
                runStats(stats, 0, plan, uploader);
                MemorySegment flags = host.allocate((t + 1) * 4L, 4);
                transfers.download(nonfinite, flags, 0, flags.byteSize());
                if (!pass.allowNonfinite()) {
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
                        s.keepCutoff = cutoff(pass, m, keepCounts[m], s.keep, n);
                        if (s.exclude != null) s.excludeCutoff = cutoff(pass, m, excludeCounts[m], s.exclude, n);
                    }
                }
                if (anyL1) l1Before = sumTiles(host, l1, t, tiles);
            }
            if (anyL1) {
                // Statistics, mode 1: Σ|δ̂| with the full mask, then the factors A/B (§1.9).
                writeModelTable(host, table, pass, setups, modelPtr);
                runStats(stats, 1, plan, uploader);
                double[] l1After = sumTiles(host, l1, t, tiles);
                for (int m = 0; m < t; m++) {
                    ModelSetup s = setups[m];
                    if (!s.l1 || l1Before[m] < 1e-7 || l1After[m] < 1e-7) continue;
                    s.rescaleMode = KernelLayouts.RESCALE_MULTIPLY;
                    s.rescale = l1Before[m] / l1After[m];
                }
            }
            writeModelTable(host, table, pass, setups, modelPtr);

            float allWeights = 0f;
            for (float w : pass.weights()) allWeights += w;
            MemorySegment merge = host.allocate(GtaMergeArgs.SIZE, 8);
            merge.set(JAVA_LONG, GtaMergeArgs.BASE_PTR, basePtr);
            merge.set(JAVA_LONG, GtaMergeArgs.OUT_PTR, outPtr);
            merge.set(JAVA_LONG, GtaMergeArgs.MODELS, table);
            merge.set(JAVA_LONG, GtaMergeArgs.COUNTERS, counters);
            merge.set(JAVA_INT, GtaMergeArgs.BASE_DTYPE, KernelLayouts.dtypeCode(pass.base().dtype()));
            merge.set(JAVA_INT, GtaMergeArgs.OUT_DTYPE, KernelLayouts.dtypeCode(pass.out().dtype()));
            merge.set(JAVA_INT, GtaMergeArgs.MODEL_COUNT, t);
            merge.set(JAVA_INT, GtaMergeArgs.CONSENSUS, consensusCode(pass.consensus()));
            merge.set(JAVA_INT, GtaMergeArgs.NORMALIZE, pass.normalize() ? 1 : 0);
            merge.set(JAVA_FLOAT, GtaMergeArgs.DIVISOR, Math.abs((double) allWeights) < 1e-8 ? 1f : allWeights);
            merge.set(JAVA_FLOAT, GtaMergeArgs.LAMBDA, pass.lambda());
            merge.set(JAVA_INT, GtaMergeArgs.NAME_HASH, nameHash);
            merge.set(JAVA_INT, GtaMergeArgs.SEED_LO, (int) pass.seed());
            merge.set(JAVA_INT, GtaMergeArgs.SEED_HI, (int) (pass.seed() >>> 32));

            boolean consensus = pass.consensus() != ConsensusMethod.NONE;
            int block = KernelLayouts.BLOCK;
            while (consensus && sharedBytes(t, block, true) > 48 * 1024 && block > 32) block /= 2;
            int shared = sharedBytes(t, block, consensus);
            if (shared > 48 * 1024) {
                throw new IllegalArgumentException("tensor " + pass.tensorName() + ": " + t
                        + " models exceed what the CUDA GTA kernel holds in shared memory");
            }
            cuda.memsetAsync(counters, 0, (t + 2) * 8L, stream);
            for (ChunkPlan.Chunk chunk : plan.chunks()) {
                uploader.ensure(chunk);
                merge.set(JAVA_LONG, GtaMergeArgs.CHUNK_START, chunk.start());
                merge.set(JAVA_LONG, GtaMergeArgs.COUNT, chunk.count());
                cuda.launch(module.gtaMerge, "amalgam_gta_merge", gridFor(chunk.count(), block, 16), block, shared,
                        stream, merge);
                transfers.download(outPtr, pass.out().data(), chunk.start() * bytes(pass.out()),
                        chunk.count() * bytes(pass.out()));
            }
            MemorySegment count = host.allocate((t + 2) * 8L, 8);
            transfers.download(counters, count, 0, count.byteSize());
            long[] kept = new long[t];
            for (int m = 0; m < t; m++) kept[m] = count.getAtIndex(JAVA_LONG, m);
            return new GtaResult(kept, keepTies, count.getAtIndex(JAVA_LONG, t), -1, count.getAtIndex(JAVA_LONG, t + 1));
        }
    }

    private static int sharedBytes(int models, int block, boolean consensus) {
        return (models + 2) * 4 + (consensus ? models * block * 4 : 0);
    }

    private static int consensusCode(ConsensusMethod c) {
        return switch (c) {
            case NONE -> KernelLayouts.CONSENSUS_NONE;
            case SUM -> KernelLayouts.CONSENSUS_SUM;
            case COUNT -> KernelLayouts.CONSENSUS_COUNT;
        };
    }

    /** Uploads a chunk's inputs unless they are already on the device (a single-chunk plan is uploaded once). */
    private static final class Uploader {
        private final ChunkPlan plan;
        private final java.util.function.Consumer<ChunkPlan.Chunk> upload;
        private int resident = -1;

        Uploader(ChunkPlan plan, java.util.function.Consumer<ChunkPlan.Chunk> upload) {
            this.plan = plan;
            this.upload = upload;
        }

        void ensure(ChunkPlan.Chunk chunk) {
            if (resident == chunk.index()) return;
            upload.accept(chunk);
            resident = plan.singleChunk() ? chunk.index() : -1;
        }
    }

    private void runStats(MemorySegment stats, int mode, ChunkPlan plan, Uploader uploader) {
        stats.set(JAVA_INT, GtaStatsArgs.MODE, mode);
        for (ChunkPlan.Chunk chunk : plan.chunks()) {
            uploader.ensure(chunk);
            stats.set(JAVA_LONG, GtaStatsArgs.CHUNK_START, chunk.start());
            stats.set(JAVA_LONG, GtaStatsArgs.COUNT, chunk.count());
            cuda.launch(module.gtaStats, "amalgam_gta_stats", (chunk.count() + KernelLayouts.TILE - 1) / KernelLayouts.TILE,
                    KernelLayouts.BLOCK, 0, stream, stats);
        }
    }

    private void writeModelTable(Arena host, long table, GtaPass pass, ModelSetup[] setups, long[] modelPtr) {
        int t = setups.length;
        if (t == 0) return;
        MemorySegment rows = host.allocate((long) t * GtaModel.SIZE, 8);
        for (int m = 0; m < t; m++) {
            ModelSetup s = setups[m];
            long r = (long) m * GtaModel.SIZE;
            rows.set(JAVA_LONG, r + GtaModel.MODEL_PTR, modelPtr[m]);
            rows.set(JAVA_LONG, r + GtaModel.KEEP_CUTOFF, s.keepCutoff);
            rows.set(JAVA_LONG, r + GtaModel.EXCLUDE_CUTOFF, s.excludeCutoff);
            rows.set(JAVA_DOUBLE, r + GtaModel.RESCALE, s.rescale);
            rows.set(JAVA_INT, r + GtaModel.DTYPE, KernelLayouts.dtypeCode(pass.models().get(m).dtype()));
            rows.set(JAVA_INT, r + GtaModel.SPARSIFIER, s.sparsifier);
            rows.set(JAVA_INT, r + GtaModel.KEEP_KEY, s.keep == null ? 0 : s.keep.key());
            rows.set(JAVA_INT, r + GtaModel.EXCLUDE_KEY, s.exclude == null ? 0 : s.exclude.key());
            rows.set(JAVA_INT, r + GtaModel.HAS_EXCLUDE, s.exclude == null ? 0 : 1);
            rows.set(JAVA_INT, r + GtaModel.RESCALE_MODE, s.rescaleMode);
            rows.set(JAVA_INT, r + GtaModel.MODEL_INDEX, pass.modelIndices()[m]);
            rows.set(JAVA_INT, r + GtaModel.KEEP_BOUND, s.bound);
            rows.set(JAVA_FLOAT, r + GtaModel.WEIGHT, pass.weights()[m]);
            rows.set(JAVA_INT, r + GtaModel.RESERVED, 0);
        }
        transfers.upload(rows, 0, table, rows.byteSize());
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

    private static long cutoff(GtaPass pass, int m, int[] tileTies, MagnitudeThreshold threshold, long n) {
        Tensor base = pass.base(), model = pass.models().get(m);
        int key = threshold.key();
        return TieCutoff.find(tileTies, threshold.tiesToKeep(), KernelLayouts.TILE, n,
                i -> MagnitudeKey.of(model.getFloat(i) - base.getFloat(i)) == key);
    }

    // ------------------------------------------------------------------------------------------
    // linear

    @Override
    public synchronized LinearResult linear(LinearPass pass) {
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
        long fixed = DeviceArena.padded((long) count * LinearInput.SIZE + count * 4L + 8, 3);
        ChunkPlan plan = ChunkPlan.plan(n, perElement, dataBudget(fixed + (count + 1) * DeviceArena.ALIGNMENT),
                KernelLayouts.TILE);
        long chunkElements = plan.chunkElements();
        arena.reset(fixed + DeviceArena.padded(chunkElements * perElement, count + 1));
        long[] inputPtr = new long[count];
        for (int j = 0; j < count; j++) inputPtr[j] = arena.take(chunkElements * bytes(inputs.get(j)));
        long outPtr = arena.take(chunkElements * bytes(pass.out()));
        long table = arena.take((long) count * LinearInput.SIZE);
        long flags = arena.take(count * 4L);
        long counters = arena.take(8);

        try (Arena host = Arena.ofConfined()) {
            if (count > 0) {
                MemorySegment rows = host.allocate((long) count * LinearInput.SIZE, 8);
                for (int j = 0; j < count; j++) {
                    long r = (long) j * LinearInput.SIZE;
                    rows.set(JAVA_LONG, r + LinearInput.PTR, inputPtr[j]);
                    rows.set(JAVA_INT, r + LinearInput.DTYPE, KernelLayouts.dtypeCode(inputs.get(j).dtype()));
                    rows.set(JAVA_FLOAT, r + LinearInput.WEIGHT, pass.weights()[j]);
                }
                transfers.upload(rows, 0, table, rows.byteSize());
            }
            Uploader uploader = new Uploader(plan, chunk -> {
                for (int j = 0; j < count; j++) {
                    Tensor x = inputs.get(j);
                    transfers.upload(x.data(), chunk.start() * bytes(x), inputPtr[j], chunk.count() * bytes(x));
                }
            });
            if (!pass.allowNonfinite() && count > 0) {
                MemorySegment scan = host.allocate(KernelLayouts.FiniteScanArgs.SIZE, 8);
                scan.set(JAVA_LONG, KernelLayouts.FiniteScanArgs.INPUTS, table);
                scan.set(JAVA_LONG, KernelLayouts.FiniteScanArgs.FLAGS, flags);
                scan.set(JAVA_INT, KernelLayouts.FiniteScanArgs.INPUT_COUNT, count);
                cuda.memsetAsync(flags, 0, count * 4L, stream);
                for (ChunkPlan.Chunk chunk : plan.chunks()) {
                    uploader.ensure(chunk);
                    scan.set(JAVA_LONG, KernelLayouts.FiniteScanArgs.COUNT, chunk.count());
                    cuda.launch(module.finiteScan, "amalgam_finite_scan", gridFor(chunk.count(), KernelLayouts.BLOCK, 8),
                            KernelLayouts.BLOCK, 0, stream, scan);
                }
                MemorySegment found = host.allocate(count * 4L, 4);
                transfers.download(flags, found, 0, found.byteSize());
                for (int j = 0; j < count; j++) {
                    if (found.getAtIndex(JAVA_INT, j) != 0) return new LinearResult(j, 0);
                }
            }
            MemorySegment args = host.allocate(LinearArgs.SIZE, 8);
            args.set(JAVA_LONG, LinearArgs.INPUTS, table);
            args.set(JAVA_LONG, LinearArgs.OUT_PTR, outPtr);
            args.set(JAVA_LONG, LinearArgs.COUNTERS, counters);
            args.set(JAVA_INT, LinearArgs.INPUT_COUNT, count);
            args.set(JAVA_INT, LinearArgs.OUT_DTYPE, KernelLayouts.dtypeCode(pass.out().dtype()));
            args.set(JAVA_FLOAT, LinearArgs.DIVISOR, pass.divisor());
            cuda.memsetAsync(counters, 0, 8, stream);
            for (ChunkPlan.Chunk chunk : plan.chunks()) {
                uploader.ensure(chunk);
                args.set(JAVA_LONG, LinearArgs.COUNT, chunk.count());
                cuda.launch(module.linear, "amalgam_linear", gridFor(chunk.count(), KernelLayouts.BLOCK, 16),
                        KernelLayouts.BLOCK, 0, stream, args);
                transfers.download(outPtr, pass.out().data(), chunk.start() * bytes(pass.out()),
                        chunk.count() * bytes(pass.out()));
            }
            MemorySegment nonFinite = host.allocate(8, 8);
            transfers.download(counters, nonFinite, 0, 8);
            return new LinearResult(-1, nonFinite.get(JAVA_LONG, 0));
        }
    }

    /** The CUDA SVD kernels on this backend's device (opened on first use, see {@link CudaSvdKernels#attachedTo}). */
    @Override
    public dev.amalgam.kernel.svd.SvdKernels svd() {
        return CudaSvdKernels.attachedTo(this, cuda, device.ordinal());
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        cuda.setCurrent(context);
        try {
            cuda.streamSynchronize(stream);
        } finally {
            transfers.close();
            arena.close();
            cuda.streamDestroy(stream);
            module.close();
            cuda.releasePrimaryContext(deviceHandle);
        }
    }
}

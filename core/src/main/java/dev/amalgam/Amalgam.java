package dev.amalgam;

import dev.amalgam.analysis.MergeAnalysis;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.checkpoint.CheckpointSink;
import dev.amalgam.checkpoint.InMemoryCheckpoint;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.ModelRef;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.cpu.CpuPools;
import dev.amalgam.merge.AnalysisCollector;
import dev.amalgam.merge.MergeContext;
import dev.amalgam.merge.MergeExecutor;
import dev.amalgam.merge.MergeJob;
import dev.amalgam.merge.MergeReport;
import dev.amalgam.merge.MergeWarnings;
import dev.amalgam.merge.OutputSink;
import dev.amalgam.merge.PlanEntry;
import dev.amalgam.merge.ProgressListener;
import dev.amalgam.merge.TensorObserver;
import dev.amalgam.merge.TensorReport;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The entry point for applications: holds one kernel backend (chosen once, by name or device)
 * across many merges, and merges checkpoints from anywhere — model folders, tensors in memory —
 * into memory or into a folder.
 *
 * <pre>{@code
 * try (Amalgam amalgam = Amalgam.builder().backend("cpu").parallelism(4).build()) {
 *     MergeConfig ties = MergeConfig.builder("ties").baseModel("base")
 *             .model("a", m -> m.weight(1).density(0.3)).model("b", m -> m.weight(1).density(0.3))
 *             .build();
 *     try (MergedCheckpoint merged = amalgam.merge(ties, Map.of("base", base, "a", a, "b", b))) {
 *         MemorySegment w = merged.segment("layer.weight");
 *     }
 * }
 * }</pre>
 *
 * <p>Inputs are given by the model names of the config ({@code model:} as written); a model the
 * map does not supply is opened as a folder at its path. Supplied checkpoints are read in place
 * and never closed or written by the merge. Every failure is an {@link AmalgamException} whose
 * message names the model, tensor or config key; NaN or Inf in an input fails the merge unless
 * the config sets {@code allow_nonfinite}.
 *
 * <p>Explicit choices win: {@link Builder#backend(String)} or a device other than
 * {@link Device#AUTO} ignores the {@code amalgam.backend} and {@code amalgam.device} system
 * properties, which only steer {@code AUTO}.
 *
 * <p>Thread-safety: safe to share; merges called from several threads run one after another,
 * because a backend serves one merge at a time. {@link #close()} waits for a running merge.
 */
public final class Amalgam implements AutoCloseable {

    private final KernelBackends.Selection selection;
    private final KernelBackend backend;
    private final ForkJoinPool pool;
    private final boolean ownsPool;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean closed;

    private Amalgam(KernelBackends.Selection selection, ForkJoinPool pool, boolean ownsPool) {
        this.selection = selection;
        this.backend = selection.backend();
        this.pool = pool;
        this.ownsPool = ownsPool;
    }

    /**
     * @return an instance on the best backend of this machine ({@link Device#AUTO}), all cores
     * @throws AmalgamException if no backend is usable
     */
    public static Amalgam open() {
        return builder().build();
    }

    /** @return a builder: device {@code AUTO}, all cores */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the serving backend's name: {@code reference}, {@code cpu}, {@code cuda}, … */
    public String backendName() {
        return selection.provider();
    }

    /** @return why that backend serves, and why better ones did not */
    public String backendReason() {
        return selection.reason();
    }

    /** @return the device the kernels run on */
    public Device device() {
        return selection.device();
    }

    /**
     * The kernels of the serving backend, for calling one kernel on your own memory; the CPU
     * kernels run on this instance's threads. Use from one thread at a time, and not while
     * this instance merges on another thread.
     *
     * @return the backend; closed by {@link #close()}
     */
    public KernelBackend kernels() {
        return new PooledBackend(backend, pool);
    }

    /**
     * Merges into memory that the returned checkpoint owns: close it to free the output.
     *
     * @param config the merge
     * @param inputs checkpoints by model name; models not in the map are opened as folders
     * @return the merged tensors
     */
    public MergedCheckpoint merge(MergeConfig config, Map<String, ? extends Checkpoint> inputs) {
        return merge(config, inputs, MergeOptions.defaults());
    }

    /**
     * Merges into memory that the returned checkpoint owns: close it to free the output.
     *
     * @param config  the merge
     * @param inputs  checkpoints by model name
     * @param options seed override, progress listener
     * @return the merged tensors
     */
    public MergedCheckpoint merge(MergeConfig config, Map<String, ? extends Checkpoint> inputs, MergeOptions options) {
        Arena arena = Arena.ofShared();
        try {
            return toMemory(config, inputs, arena, arena, options);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Merges into {@code arena}, which the caller closes (the returned checkpoint's
     * {@code close()} does nothing).
     *
     * @param config the merge
     * @param inputs checkpoints by model name
     * @param arena  where the output tensors are allocated
     * @return the merged tensors
     */
    public MergedCheckpoint merge(MergeConfig config, Map<String, ? extends Checkpoint> inputs, Arena arena) {
        return toMemory(config, inputs, arena, null, MergeOptions.defaults());
    }

    /**
     * Merges into segments the sink hands out (for example the caller's own weights via
     * {@link CheckpointSink#into(Map)}).
     *
     * @param config  the merge
     * @param inputs  checkpoints by model name
     * @param sink    the output segments
     * @param options seed override, progress listener
     * @return what the merge did
     */
    public MergeSummary merge(MergeConfig config, Map<String, ? extends Checkpoint> inputs, CheckpointSink sink,
                              MergeOptions options) {
        return run(config, inputs, sink, options, new ArrayList<>());
    }

    /**
     * Merges into a Hugging Face style folder of safetensors shards, written atomically: nothing
     * appears under {@code output} unless the merge succeeds. Non-weight files ({@code config.json},
     * tokenizer) are copied from the base when it is a model folder.
     *
     * @param config  the merge
     * @param inputs  checkpoints by model name (empty: open every model as a folder)
     * @param output  the target folder
     * @param options shard size, force, seed, progress listener
     * @return what the merge did
     */
    public MergeSummary mergeToFolder(MergeConfig config, Map<String, ? extends Checkpoint> inputs, Path output,
                                      MergeOptions options) {
        long start = System.nanoTime();
        return locked(() -> {
            try (MergeJob.Opened opened = MergeJob.open(config, lookup(config, inputs))) {
                AnalysisCollector collector = options.analysis() ? new AnalysisCollector() : null;
                MergeJob.Options o = new MergeJob.Options(output, selection.device(), options.maxShardSize(),
                        options.force(), options.seed());
                MergeReport report = CpuPools.callWith(pool, () -> {
                    try {
                        return MergeJob.run(opened, backend, selection, o, listener(options.listener()), start,
                                collector == null ? TensorObserver.NONE : collector);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
                return MergeSummary.of(report, false, collector == null ? null : collector.analysis());
            }
        });
    }

    /**
     * Merges the config's model folders into a folder with the default options.
     *
     * @param config the merge
     * @param output the target folder
     * @return what the merge did
     */
    public MergeSummary mergeToFolder(MergeConfig config, Path output) {
        return mergeToFolder(config, Map.of(), output, MergeOptions.defaults());
    }

    /**
     * Reads the inputs of {@code config} and computes their task-vector statistics (norms,
     * pairwise cosine similarity, sign conflicts) without merging or writing anything: what
     * {@code amalgam analyze} reports. One read of every input tensor.
     *
     * @param config   the merge whose inputs are analysed
     * @param inputs   checkpoints by model name (empty: open every model as a folder)
     * @param listener receives progress; may cancel
     * @return the statistics per tensor, per layer and kind, per layer and for the whole model
     */
    public MergeAnalysis analyze(MergeConfig config, Map<String, ? extends Checkpoint> inputs, MergeListener listener) {
        return locked(() -> {
            try (MergeJob.Opened opened = MergeJob.open(config, lookup(config, inputs))) {
                AnalysisCollector collector = new AnalysisCollector();
                CpuPools.callWith(pool, () -> {
                    MergeExecutor.analyze(opened.plan(), collector, listener(listener));
                    return null;
                });
                return collector.analysis();
            }
        });
    }

    /**
     * The plan of a merge in words (inputs, tensors, bytes, peak memory), from the headers alone:
     * what {@code amalgam merge --dry-run} prints. Validates every input header.
     *
     * @param config the merge
     * @param inputs checkpoints by model name
     * @return the plan as text
     */
    public static String describePlan(MergeConfig config, Map<String, ? extends Checkpoint> inputs) {
        return guard(() -> {
            try (MergeJob.Opened opened = MergeJob.open(config, lookup(config, inputs))) {
                return opened.plan().describe();
            }
        });
    }

    /** Closes the backend (and the thread pool this instance made); waits for a running merge. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) return;
            closed = true;
            try {
                backend.close();
            } finally {
                if (ownsPool) pool.shutdown();
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------------------------------

    private MergedCheckpoint toMemory(MergeConfig config, Map<String, ? extends Checkpoint> inputs, Arena arena,
                                      Arena owned, MergeOptions options) {
        return locked(() -> {
            List<Tensor> outputs = new ArrayList<>();
            MergeSummary summary = run(config, inputs, CheckpointSink.in(arena), options, outputs);
            InMemoryCheckpoint.Builder b = InMemoryCheckpoint.builder().label("merged " + config.mergeMethod());
            for (Tensor t : outputs) b.add(t);
            referenceMetadata.forEach(b::metadata);
            return new MergedCheckpoint(b.build(), owned, summary);
        });
    }

    /** Metadata of the last run's reference input (set and read under the lock). */
    private Map<String, String> referenceMetadata = Map.of();

    private MergeSummary run(MergeConfig config, Map<String, ? extends Checkpoint> inputs, CheckpointSink sink,
                             MergeOptions options, List<Tensor> written) {
        long start = System.nanoTime();
        return locked(() -> {
            try (MergeJob.Opened opened = MergeJob.open(config, lookup(config, inputs))) {
                Map<String, TensorInfo> infos = new HashMap<>();
                for (PlanEntry e : opened.plan().entries()) infos.put(e.name(), e.output());
                OutputSink out = name -> {
                    TensorInfo info = infos.get(name);
                    MemorySegment s = Objects.requireNonNull(sink.segmentFor(info), "sink returned no segment for " + name);
                    Tensor t = new Tensor(info, s);
                    written.add(t);
                    return t;
                };
                MergeWarnings warnings = new MergeWarnings();
                MergeContext ctx = MergeJob.context(opened, backend, options.seed(), warnings);
                var plan = opened.plan();
                var reference = plan.baseInput() >= 0 ? plan.inputs().get(plan.baseInput()) : plan.inputs().getFirst();
                referenceMetadata = reference.checkpoint().metadata();
                AnalysisCollector collector = options.analysis() ? new AnalysisCollector() : null;
                List<TensorReport> reports = CpuPools.callWith(pool,
                        () -> MergeExecutor.execute(ctx, opened.merger(), out, listener(options.listener()),
                                collector == null ? TensorObserver.NONE : collector));
                long bytesWritten = infos.values().stream().mapToLong(TensorInfo::byteSize).sum();
                MergeReport r = new MergeReport(null, plan.method(), selection.provider(), selection.reason(), reports,
                        plan.bytesToRead(), bytesWritten, System.nanoTime() - start, warnings.lines());
                return MergeSummary.of(r, true, collector == null ? null : collector.analysis());
            }
        });
    }

    /** Supplied checkpoints by model name; unknown names are an error (a typo would silently open a folder). */
    private static java.util.function.Function<ModelRef, Checkpoint> lookup(MergeConfig config,
                                                                           Map<String, ? extends Checkpoint> inputs) {
        Set<String> names = new LinkedHashSet<>();
        for (ModelRef r : config.allModels()) names.add(r.path());
        for (String k : inputs.keySet()) {
            if (!names.contains(k)) {
                throw new AmalgamException("inputs: `" + k + "` is not a model of the config; models: " + String.join(", ", names));
            }
        }
        return ref -> inputs.get(ref.path());
    }

    private static ProgressListener listener(MergeListener l) {
        return new ProgressListener() {
            private MergeProgress progress;

            @Override
            public void started(int tensors, long bytes) {
                progress = new MergeProgress(tensors, bytes);
                report(null);
            }

            @Override
            public void tensorDone(String name, int tensorsDone, long bytesDone) {
                progress.advance(name, tensorsDone, bytesDone);
                report(name);
            }

            private void report(String name) {
                l.progress(progress);
                if (progress.cancelled() || Thread.currentThread().isInterrupted()) {
                    throw new MergeCancelledException("merge cancelled " + (name == null ? "before the first tensor"
                            : "after tensor " + name + " (" + progress.tensorsDone() + " of " + progress.tensors() + ")"));
                }
            }
        };
    }

    private <T> T locked(Supplier<T> body) {
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("this Amalgam instance is closed");
            return guard(body);
        } finally {
            lock.unlock();
        }
    }

    /** Every failure as an {@link AmalgamException}; I/O failures keep their message (it names the path). */
    private static <T> T guard(Supplier<T> body) {
        try {
            return body.get();
        } catch (UncheckedIOException e) {
            throw new CheckpointException(e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Chooses the backend and the CPU threads of an {@link Amalgam}.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private String backendName;
        private Device device = Device.AUTO;
        private int parallelism;
        private ForkJoinPool pool;
        private boolean systemProperties;

        private Builder() {
        }

        /**
         * @param name a backend by name ({@code reference}, {@code cpu}, {@code cuda}); beats
         *             the device and every system property
         * @return this builder
         */
        public Builder backend(String name) {
            this.backendName = name;
            return this;
        }

        /**
         * @param device {@code AUTO} (default: a usable GPU, else the best CPU backend), {@code CPU}
         *               or {@code CUDA} (an error without a usable GPU)
         * @return this builder
         */
        public Builder device(Device device) {
            this.device = device;
            return this;
        }

        /**
         * @param honour let {@code amalgam.backend} and {@code amalgam.device} steer any device,
         *               not only {@code AUTO} (what the command line does; default false)
         * @return this builder
         */
        public Builder systemProperties(boolean honour) {
            this.systemProperties = honour;
            return this;
        }

        /**
         * @param threads threads for the CPU kernels (default: all cores); this instance makes
         *                and shuts down its own pool
         * @return this builder
         */
        public Builder parallelism(int threads) {
            if (threads < 1) throw new IllegalArgumentException("parallelism must be at least 1, got " + threads);
            this.parallelism = threads;
            return this;
        }

        /**
         * @param pool runs the CPU kernels (the caller's executor; not shut down by this instance)
         * @return this builder
         */
        public Builder cpuPool(ForkJoinPool pool) {
            this.pool = pool;
            return this;
        }

        /**
         * @return the instance, its backend open
         * @throws AmalgamException if the chosen backend is not usable here, with the reason
         */
        public Amalgam build() {
            KernelBackends.Selection s = backendName != null ? KernelBackends.byName(backendName)
                    : device != Device.AUTO && !systemProperties ? KernelBackends.forDevice(device)
                    : KernelBackends.select(device);
            if (pool != null) return new Amalgam(s, pool, false);
            if (parallelism > 0) return new Amalgam(s, new ForkJoinPool(parallelism), true);
            return new Amalgam(s, null, false);
        }
    }
}

package dev.amalgam.merge;

import dev.amalgam.config.InputRoles;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.config.InputRoles;
import dev.amalgam.config.LayerPosition;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.MethodSpec;
import dev.amalgam.config.ModelRef;
import dev.amalgam.source.ModelSources;
import dev.amalgam.source.tokenizer.ChatTemplates;
import dev.amalgam.source.tokenizer.TokenizerOutput;
import dev.amalgam.source.tokenizer.VocabularyMerge;
import dev.amalgam.config.ParameterResolver;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.ShardWriter;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;

/**
 * One merge from a config to an output folder: open the inputs, plan from their headers, choose
 * the kernels, stream every tensor into the output shards, finish atomically. Used by the CLI
 * and by applications that merge in-process.
 */
public final class MergeJob {

    /** Files of a model folder that belong to its tokenizer (taken from {@code tokenizer_source}). */
    private static final Set<String> TOKENIZER_FILES = Set.of("special_tokens_map.json", "vocab.json", "vocab.txt",
            "merges.txt", "added_tokens.json", "spiece.model", "sentencepiece.bpe.model");

    private MergeJob() {
    }

    /**
     * @param output         target folder
     * @param device         where the kernels run
     * @param maxShardSize   data bytes per output shard
     * @param force          replace a non-empty target
     * @param seed           overrides {@code random_seed}
     * @param writeModelCard write {@code README.md} and {@code mergekit_config.yml} (mergekit's default)
     * @param copyTokenizer  copy the tokenizer files of {@code tokenizer_source}
     */
    public record Options(Path output, Device device, long maxShardSize, boolean force, OptionalLong seed,
                          boolean writeModelCard, boolean copyTokenizer) {

        public Options(Path output, Device device, long maxShardSize, boolean force, OptionalLong seed) {
            this(output, device, maxShardSize, force, seed, true, true);
        }
    }

    /**
     * One merge pass over one set of inputs: the whole merge for {@code models:}, one slice for
     * {@code slices:}.
     *
     * @param label  what it is, for messages ({@code models} or {@code slices[i]})
     * @param plan   its plan
     * @param params its parameter lookup
     */
    public record Segment(String label, MergePlan plan, ParameterResolver params) {
    }

    /** Opens the inputs and plans the merge from their headers (what {@code --dry-run} does). */
    public static Opened open(MergeConfig config) {
        return open(config, ref -> null);
    }

    /**
     * Plans the merge over the given checkpoints: {@code supplied} returns the checkpoint of a
     * model (by the caller, not closed by {@link Opened#close}), or null to open the model's
     * folder (closed by {@link Opened#close}).
     */
    public static Opened open(MergeConfig config, Function<ModelRef, Checkpoint> supplied) {
        List<MergeInput> opened = new ArrayList<>();
        List<Checkpoint> owned = new ArrayList<>();
        try {
            Map<ModelRef, MergeInput> byRef = new LinkedHashMap<>();
            Map<Path, MergeInput> byPath = new LinkedHashMap<>();
            for (ModelRef ref : config.allModels()) {
                Checkpoint folder = supplied.apply(ref);
                if (folder == null) {
                    try {
                        folder = ModelSources.open(config.source(ref));
                    } catch (IOException | UncheckedIOException e) {
                        throw new MergeException("model " + ref.path() + ": " + e.getMessage(), e);
                    }
                    owned.add(folder);
                }
                MergeInput in = new MergeInput(ref, folder);
                opened.add(in);
                byRef.put(ref, in);
                byPath.putIfAbsent(ref.resolvedPath(), in);
            }
            MethodSpec method = config.method();
            if (!method.implemented()) throw new MergeException("merge_method: " + method.name() + " is not available yet");
            boolean baseFirst = method.inputs().layout() == InputRoles.Layout.BASE_FIRST;
            DType outDtype = config.outputDtype().orElse(null);
            if (config.sliced()) {
                SlicePlanner.Result r = SlicePlanner.plan(config, byPath, (views, base, layerT) -> {
                    List<MergeInput> inputs = new ArrayList<>();
                    int baseInput;
                    if (baseFirst) {
                        if (base != null) inputs.add(base);
                        for (MergeInput v : views) if (v != base) inputs.add(v);
                        baseInput = base != null ? 0 : -1;
                    } else {
                        inputs.addAll(views);
                        baseInput = base == null ? -1 : inputs.indexOf(base);
                    }
                    return MergePlanner.plan(method, inputs, baseInput, outDtype, layerT::apply);
                });
                List<Segment> segments = new ArrayList<>();
                for (SlicePlanner.Segment s : r.segments()) {
                    segments.add(new Segment(s.slice().keyPath(), s.plan(), s.params()));
                }
                return new Opened(config, segments, method.newMerger(), opened, owned, r.layerMap());
            }
            if (config.tokenizerSpec().isPresent()) permuteVocabularies(config, byRef, opened);
            List<MergeInput> inputs = new ArrayList<>();
            int baseInput;
            ModelRef base = config.baseModel().orElse(null);
            if (baseFirst) {
                if (base != null) inputs.add(byRef.get(base));
                for (ModelRef m : config.nonBaseModels()) inputs.add(byRef.get(m));
                baseInput = base != null ? 0 : -1;
            } else {
                for (ModelRef m : config.inputs()) inputs.add(byRef.get(m));
                baseInput = base == null ? -1 : config.inputs().indexOf(base);
            }
            MergeInput reference = baseInput >= 0 ? inputs.get(baseInput) : inputs.getFirst();
            LayerPosition layers = LayerPosition.of(reference.checkpoint().tensors().stream().map(TensorInfo::name).toList());
            MergePlan plan = MergePlanner.plan(method, inputs, baseInput, outDtype, layers::t);
            return new Opened(config, List.of(new Segment("models", plan, config.parameters())), method.newMerger(), opened,
                    owned, null);
        } catch (RuntimeException e) {
            for (Checkpoint c : owned) c.close();
            throw e;
        }
    }

    /**
     * Inputs opened and planned; close to unmap them.
     *
     * @param segments one for {@code models:}, one per slice for {@code slices:}
     * @param owned    the checkpoints it opened (closed by {@link #close}; supplied ones stay open)
     * @param layerMap the output layer map of a {@code slices:} merge, else null
     */
    public record Opened(MergeConfig config, List<Segment> segments, TensorMerger merger, List<MergeInput> folders,
                         List<Checkpoint> owned, LayerMap layerMap) implements AutoCloseable {

        public Opened {
            segments = List.copyOf(segments);
            folders = List.copyOf(folders);
            owned = List.copyOf(owned);
        }

        /** The plan of a {@code models:} merge, or the first slice's. */
        public MergePlan plan() {
            return segments.getFirst().plan();
        }

        /** Every output tensor, in write order. */
        public List<PlanEntry> entries() {
            List<PlanEntry> all = new ArrayList<>();
            for (Segment s : segments) all.addAll(s.plan().entries());
            return all;
        }

        /** The model whose config.json, metadata and other files the output takes (the base, else the first input). */
        public MergeInput reference() {
            MergePlan first = plan();
            if (config.sliced()) {
                ModelRef base = config.baseModel().orElse(null);
                if (base != null) {
                    for (MergeInput in : folders) if (in.ref().resolvedPath().equals(base.resolvedPath())) return in;
                }
                for (MergeInput in : folders) if (in.ref().resolvedPath().equals(first.inputs().getFirst().ref().resolvedPath())) return in;
            }
            return first.baseInput() >= 0 ? first.inputs().get(first.baseInput()) : first.inputs().getFirst();
        }

        /** The plan in words, for {@code --dry-run}: one block per segment, then the output layer map. */
        public String describe() {
            if (!config.sliced()) return plan().describe();
            StringBuilder sb = new StringBuilder();
            long bytes = 0, read = 0, peak = 0;
            int tensors = 0;
            for (Segment s : segments) {
                sb.append(s.label()).append(":\n");
                for (String line : s.plan().describe().split("\n")) {
                    if (line.startsWith("input bytes") || line.startsWith("output size") || line.startsWith("expected peak")) continue;
                    sb.append("  ").append(line).append('\n');
                }
                bytes += s.plan().outputBytes();
                read += s.plan().bytesToRead();
                peak = Math.max(peak, s.plan().peakScratchBytes());
                tensors += s.plan().entries().size();
            }
            sb.append(layerMap.describe());
            sb.append("output tensors: ").append(tensors).append('\n');
            sb.append("input bytes to read: ").append(MergePlan.bytes(read)).append('\n');
            sb.append("output size: ").append(MergePlan.bytes(bytes)).append('\n');
            sb.append("expected peak memory: ").append(MergePlan.bytes(peak))
                    .append(" off-heap scratch + the JVM heap (inputs and output are memory-mapped)\n");
            return sb.toString();
        }

        @Override
        public void close() {
            for (Checkpoint c : owned) c.close();
        }
    }

    /** Runs the whole merge; nothing appears under the target name unless it succeeds. */
    public static MergeReport run(MergeConfig config, Options options, ProgressListener progress) throws IOException {
        return run(config, options, progress, TensorObserver.NONE);
    }

    /** As {@link #run(MergeConfig, Options, ProgressListener)}, showing each merged tensor and its inputs to {@code observer}. */
    public static MergeReport run(MergeConfig config, Options options, ProgressListener progress, TensorObserver observer)
            throws IOException {
        long start = System.nanoTime();
        try (Opened opened = open(config)) {
            KernelBackends.Selection selection = KernelBackends.select(options.device());
            try (KernelBackend backend = selection.backend()) {
                return run(opened, backend, selection, options, progress, start, observer);
            }
        }
    }

    /**
     * Runs a planned merge into a folder on a backend the caller holds (and closes); nothing
     * appears under the target name unless it succeeds. Non-weight files are copied only from
     * inputs that are model folders; the model card and the config as run are written always
     * (unless {@link Options#writeModelCard()} is false).
     */
    public static MergeReport run(Opened opened, KernelBackend backend, KernelBackends.Selection selection,
                                  Options options, ProgressListener progress, long start) throws IOException {
        return run(opened, backend, selection, options, progress, start, TensorObserver.NONE);
    }

    /** As {@link #run(Opened, KernelBackend, KernelBackends.Selection, Options, ProgressListener, long)}, showing each merged tensor to {@code observer}. */
    public static MergeReport run(Opened opened, KernelBackend backend, KernelBackends.Selection selection,
                                  Options options, ProgressListener progress, long start, TensorObserver observer)
            throws IOException {
        MergeConfig config = opened.config();
        MergeWarnings warnings = new MergeWarnings();
        config.warnings().forEach(w -> warnings.add("config", w));
        for (Segment s : opened.segments()) s.plan().warnings().forEach(w -> warnings.add("plan", w));
        Path scratch = Files.createTempDirectory("amalgam-meta");
        try {
            List<PlanEntry> entries = opened.entries();
            List<TensorInfo> outputs = entries.stream().map(PlanEntry::output).toList();
            MergeInput reference = opened.reference();
            List<Path> files = OutputMetadata.write(scratch, opened, options,
                    opened.owned().contains(reference.checkpoint()) || TokenizerOutput.mergeOf(reference.checkpoint()).isPresent()
                            ? outputFiles(config, reference, Files.createDirectories(scratch.resolve("tokenizer")), options)
                            : List.of());
            ShardWriter.Builder output = ShardWriter.builder(options.output(), outputs)
                    .maxShardSize(options.maxShardSize())
                    .metadata(reference.checkpoint().metadata().isEmpty() ? ShardWriter.DEFAULT_METADATA : reference.checkpoint().metadata())
                    .copyFiles(files)
                    .force(options.force())
                    .notices(progress::notice)
                    // No input file may have changed since its header was read (size, inode, mtime, ctime).
                    .beforeInstall(() -> {
                        for (Segment seg : opened.segments()) {
                            for (MergeInput in : seg.plan().inputs()) {
                                if (in.checkpoint() instanceof ModelFolder folder) folder.checkUnchanged();
                            }
                        }
                    });
            protectInputs(output, config);
            ShardWriter writer = output.open();
            List<TensorReport> reports = new ArrayList<>();
            long read = 0;
            ProgressListener.Spanning total = ProgressListener.spanning(progress, entries.size(),
                    opened.segments().stream().mapToLong(s -> s.plan().bytesToRead()).sum());
            try {
                for (Segment s : opened.segments()) {
                    MergeContext ctx = context(s, backend, options.seed(), warnings);
                    reports.addAll(MergeExecutor.execute(ctx, opened.merger(), OutputSink.of(writer), total, observer));
                    read += s.plan().bytesToRead();
                }
                total.done();
                writer.finish();
            } catch (RuntimeException | Error | IOException e) {
                total.done();
                try {
                    writer.abort();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            long written = outputs.stream().mapToLong(TensorInfo::byteSize).sum();
            return new MergeReport(writer.target(), config.mergeMethod(), selection.provider(), selection.reason(), reports,
                    read, written, System.nanoTime() - start, warnings.lines());
        } finally {
            OutputMetadata.deleteScratch(scratch);
        }
    }

    /**
     * The context of a one-pass run (a {@code models:} merge): config and plan warnings
     * collected, {@code allow_nonfinite}, the seed (override wins). A {@code slices:} merge has a
     * pass per slice: run it with {@link #run(Opened, KernelBackend, KernelBackends.Selection, Options, ProgressListener, long)}.
     */
    public static MergeContext context(Opened opened, KernelBackend backend, OptionalLong seedOverride, MergeWarnings warnings) {
        if (opened.segments().size() != 1) {
            throw new MergeException("a slices: merge runs one pass per slice; merge it into a folder (MergeJob.run)");
        }
        opened.config().warnings().forEach(w -> warnings.add("config", w));
        opened.plan().warnings().forEach(w -> warnings.add("plan", w));
        return context(opened.segments().getFirst(), backend, seedOverride, warnings);
    }

    private static MergeContext context(Segment s, KernelBackend backend, OptionalLong seedOverride, MergeWarnings warnings) {
        var params = s.params();
        boolean allowNonfinite = params.bool("allow_nonfinite", null, "", 0);
        long seed = seedOverride.isPresent() ? seedOverride.getAsLong() : params.randomSeed();
        return new MergeContext(s.plan(), backend, params, warnings, allowNonfinite, seed);
    }

    /** The output may never be, or contain, an input model or the config's folder. */
    static void protectInputs(ShardWriter.Builder output, MergeConfig config) {
        for (ModelRef ref : config.allModels()) {
            if (ref.resolvedPath() != null) output.protect("input model " + ref.path(), ref.resolvedPath());
        }
        if (config.tokenizerSource() != null && config.tokenizerSource().resolvedPath() != null) {
            output.protect("the tokenizer source " + config.tokenizerSource().asWritten(), config.tokenizerSource().resolvedPath());
        }
        config.file().ifPresent(f -> {
            Path dir = f.toAbsolutePath().getParent();
            if (dir != null) output.protect("the folder of the config " + f.getFileName(), dir);
        });
    }

    /**
     * The non-weight files of the output: {@link #extraFiles}, with the merged tokenizer's files
     * and config.json's vocab_size (a vocabulary merge) and the chat template (spec §16.5)
     * written into {@code scratch} replacing their copies.
     */
    static List<Path> outputFiles(MergeConfig config, MergeInput reference, Path scratch, Options options) throws IOException {
        Optional<VocabularyMerge> vocab = TokenizerOutput.mergeOf(reference.checkpoint());
        Path referenceDir = folderOf(ModelSources.currentFolder(config.source(reference.ref()).model()));
        List<Path> files = extraFiles(config, reference, options, vocab.map(v -> v.sourceModel().folder()).orElse(null));
        if (vocab.isPresent()) files = TokenizerOutput.replace(files, TokenizerOutput.write(vocab.get(), referenceDir, scratch));
        if (config.chatTemplate().isPresent()) {
            List<Path> folders = new ArrayList<>();
            config.baseModel().ifPresent(b -> folders.add(ModelSources.currentFolder(config.source(b).model())));
            for (ModelRef m : config.allModels()) {
                Path f = ModelSources.currentFolder(config.source(m).model());
                if (!folders.contains(f)) folders.add(f);
            }
            String template = ChatTemplates.resolve(config.chatTemplate().get(), folders);
            if (template != null) {
                Path current = files.stream().filter(p -> p.getFileName().toString().equals("tokenizer_config.json")).findFirst().orElse(null);
                files = TokenizerOutput.replace(files, List.of(ChatTemplates.write(template, current, scratch)));
                files.removeIf(p -> p.getFileName().toString().startsWith("chat_template."));
            }
        }
        return files;
    }

    /** Wraps every input so its embedding rows follow the merged vocabulary (mergekit's PermutedEmbeddings). */
    private static void permuteVocabularies(MergeConfig config, Map<ModelRef, MergeInput> byRef, List<MergeInput> opened) {
        List<ModelRef> refs = new ArrayList<>(byRef.keySet());
        List<VocabularyMerge.Model> models = new ArrayList<>();
        for (ModelRef r : refs) {
            models.add(new VocabularyMerge.Model(r.path(), folderOf(ModelSources.currentFolder(config.source(r).model())),
                    byRef.get(r).checkpoint(), r.base()));
        }
        VocabularyMerge merge;
        try {
            merge = VocabularyMerge.build(models, config.tokenizerSpec().orElseThrow());
        } catch (IOException e) {
            throw new MergeException("tokenizer: " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new MergeException("tokenizer" + e.getMessage(), e);
        }
        opened.clear();
        for (int i = 0; i < refs.size(); i++) {
            MergeInput in = new MergeInput(refs.get(i), merge.permuted(i));
            byRef.put(refs.get(i), in);
            opened.add(in);
        }
    }

    private static void deleteTree(Path dir) {
        try (var walk = java.nio.file.Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a scratch folder left in the temp directory is harmless
        }
    }

    /** config.json and friends from the base (else the first model); tokenizer files from {@code tokenizer_source}. */
    static List<Path> extraFiles(MergeConfig config, MergeInput reference, Options options) throws IOException {
        return extraFiles(config, reference, options, null);
    }

    private static List<Path> extraFiles(MergeConfig config, MergeInput reference, Options options, Path tokenizerFrom)
            throws IOException {
        Path referenceDir = folderOf(ModelSources.currentFolder(config.source(reference.ref()).model()));
        Path tokenizerDir = tokenizerFrom != null ? folderOf(tokenizerFrom)
                : config.tokenizerSource() != null && config.tokenizerSource().resolvedPath() != null
                ? folderOf(config.tokenizerSource().resolvedPath()) : referenceDir;
        List<Path> files = new ArrayList<>();
        for (Path p : ShardWriter.nonWeightFiles(referenceDir)) {
            if ((!tokenizerDir.equals(referenceDir) || !options.copyTokenizer()) && isTokenizerFile(p)) continue;
            files.add(p);
        }
        if (!tokenizerDir.equals(referenceDir) && options.copyTokenizer()) {
            for (Path p : ShardWriter.nonWeightFiles(tokenizerDir)) {
                if (isTokenizerFile(p)) files.add(p);
            }
        }
        return files;
    }

    static boolean isTokenizerFile(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.startsWith("tokenizer") || name.startsWith("chat_template") || TOKENIZER_FILES.contains(name);
    }

    private static Path folderOf(Path p) {
        return java.nio.file.Files.isDirectory(p) ? p : p.getParent();
    }
}

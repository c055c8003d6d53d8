package dev.amalgam.merge;

import dev.amalgam.config.InputRoles;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.config.InputRoles;
import dev.amalgam.config.LayerPosition;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.MethodSpec;
import dev.amalgam.config.ModelRef;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.ShardWriter;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
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
     * @param output       target folder
     * @param device       where the kernels run
     * @param maxShardSize data bytes per output shard
     * @param force        replace a non-empty target
     * @param seed         overrides {@code random_seed}
     */
    public record Options(Path output, Device device, long maxShardSize, boolean force, OptionalLong seed) {
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
            for (ModelRef ref : config.allModels()) {
                Checkpoint folder = supplied.apply(ref);
                if (folder == null) {
                    try {
                        folder = ModelFolder.open(ref.resolvedPath());
                    } catch (IOException | UncheckedIOException e) {
                        throw new MergeException("model " + ref.path() + ": " + e.getMessage(), e);
                    }
                    owned.add(folder);
                }
                MergeInput in = new MergeInput(ref, folder);
                opened.add(in);
                byRef.put(ref, in);
            }
            MethodSpec method = config.method();
            if (!method.implemented()) throw new MergeException("merge_method: " + method.name() + " is not available yet");
            List<MergeInput> inputs = new ArrayList<>();
            int baseInput;
            ModelRef base = config.baseModel().orElse(null);
            if (method.inputs().layout() == InputRoles.Layout.BASE_FIRST) {
                if (base != null) inputs.add(byRef.get(base));
                for (ModelRef m : config.nonBaseModels()) inputs.add(byRef.get(m));
                baseInput = base != null ? 0 : -1;
            } else {
                for (ModelRef m : config.inputs()) inputs.add(byRef.get(m));
                baseInput = base == null ? -1 : config.inputs().indexOf(base);
            }
            MergeInput reference = baseInput >= 0 ? inputs.get(baseInput) : inputs.getFirst();
            LayerPosition layers = LayerPosition.of(reference.checkpoint().tensors().stream().map(TensorInfo::name).toList());
            MergePlan plan = MergePlanner.plan(method, inputs, baseInput, config.outputDtype().orElse(null), layers::t);
            TensorMerger merger = method.newMerger();
            return new Opened(config, plan, merger, opened, owned);
        } catch (RuntimeException e) {
            for (Checkpoint c : owned) c.close();
            throw e;
        }
    }

    /** Inputs opened and planned; close to unmap the folders it opened (supplied checkpoints stay open). */
    public record Opened(MergeConfig config, MergePlan plan, TensorMerger merger, List<MergeInput> folders,
                         List<Checkpoint> owned) implements AutoCloseable {
        public Opened {
            folders = List.copyOf(folders);
            owned = List.copyOf(owned);
        }

        @Override
        public void close() {
            for (Checkpoint c : owned) c.close();
        }
    }

    /** Runs the whole merge; nothing appears under the target name unless it succeeds. */
    public static MergeReport run(MergeConfig config, Options options, ProgressListener progress) throws IOException {
        long start = System.nanoTime();
        try (Opened opened = open(config)) {
            KernelBackends.Selection selection = KernelBackends.select(options.device());
            try (KernelBackend backend = selection.backend()) {
                return run(opened, backend, selection, options, progress, start);
            }
        }
    }

    /**
     * Runs a planned merge into a folder on a backend the caller holds (and closes); nothing
     * appears under the target name unless it succeeds. Non-weight files are copied only from
     * inputs that are model folders.
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
        MergePlan plan = opened.plan();
        MergeWarnings warnings = new MergeWarnings();
        MergeContext ctx = context(opened, backend, options.seed(), warnings);
        List<TensorInfo> outputs = plan.entries().stream().map(PlanEntry::output).toList();
        MergeInput reference = plan.baseInput() >= 0 ? plan.inputs().get(plan.baseInput()) : plan.inputs().getFirst();
        ShardWriter writer = ShardWriter.builder(options.output(), outputs)
                .maxShardSize(options.maxShardSize())
                .metadata(reference.checkpoint().metadata().isEmpty() ? ShardWriter.DEFAULT_METADATA : reference.checkpoint().metadata())
                .copyFiles(reference.checkpoint() instanceof ModelFolder ? extraFiles(config, reference) : List.of())
                .force(options.force())
                .open();
        List<TensorReport> reports;
        try {
            reports = MergeExecutor.execute(ctx, opened.merger(), OutputSink.of(writer), progress, observer);
            writer.finish();
        } catch (RuntimeException | Error | IOException e) {
            try {
                writer.abort();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        long written = outputs.stream().mapToLong(TensorInfo::byteSize).sum();
        return new MergeReport(writer.target(), plan.method(), selection.provider(), selection.reason(), reports,
                plan.bytesToRead(), written, System.nanoTime() - start, warnings.lines());
    }

    /** config.json and friends from the base (else the first model); tokenizer files from {@code tokenizer_source}. */
    static List<Path> extraFiles(MergeConfig config, MergeInput reference) throws IOException {
        Path referenceDir = folderOf(reference.ref().resolvedPath());
        Path tokenizerDir = config.tokenizerSource() != null && config.tokenizerSource().resolvedPath() != null
                ? folderOf(config.tokenizerSource().resolvedPath()) : referenceDir;
        List<Path> files = new ArrayList<>();
        for (Path p : ShardWriter.nonWeightFiles(referenceDir)) {
            if (!tokenizerDir.equals(referenceDir) && isTokenizerFile(p)) continue;
            files.add(p);
        }
        if (!tokenizerDir.equals(referenceDir)) {
            for (Path p : ShardWriter.nonWeightFiles(tokenizerDir)) {
                if (isTokenizerFile(p)) files.add(p);
            }
        }
        return files;
    }

    /** The context of one run: config and plan warnings collected, {@code allow_nonfinite}, the seed (override wins). */
    public static MergeContext context(Opened opened, KernelBackend backend, OptionalLong seedOverride, MergeWarnings warnings) {
        opened.config().warnings().forEach(w -> warnings.add("config", w));
        opened.plan().warnings().forEach(w -> warnings.add("plan", w));
        var params = opened.config().parameters();
        boolean allowNonfinite = params.bool("allow_nonfinite", null, "", 0);
        long seed = seedOverride.isPresent() ? seedOverride.getAsLong() : params.randomSeed();
        return new MergeContext(opened.plan(), backend, params, warnings, allowNonfinite, seed);
    }

    static boolean isTokenizerFile(Path p) {
        String name = p.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.startsWith("tokenizer") || name.startsWith("chat_template") || TOKENIZER_FILES.contains(name);
    }

    private static Path folderOf(Path p) {
        return java.nio.file.Files.isDirectory(p) ? p : p.getParent();
    }
}

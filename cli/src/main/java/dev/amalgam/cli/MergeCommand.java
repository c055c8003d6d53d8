package dev.amalgam.cli;

import dev.amalgam.Amalgam;
import dev.amalgam.CheckpointException;
import dev.amalgam.MergeOptions;
import dev.amalgam.MergeSummary;
import dev.amalgam.analysis.HtmlReport;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.kernel.Device;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code amalgam merge CONFIG.yaml OUTPUT_DIR}: runs a merge (or, with --dry-run, only plans it). */
@Command(name = "merge", description = "Merge the models of a mergekit-style YAML config into OUTPUT_DIR.")
final class MergeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONFIG.yaml", description = "Merge config (mergekit-compatible YAML).")
    Path config;

    @Parameters(index = "1", paramLabel = "OUTPUT_DIR", description = "Output folder (Hugging Face layout).")
    Path output;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda",
            description = "Where kernels run (default: ${DEFAULT-VALUE}). cuda fails if no GPU is usable.")
    String device;

    @Option(names = "--max-shard-size", defaultValue = "5GB", paramLabel = "SIZE",
            description = "Largest output shard, e.g. 5GB, 500MB (default: ${DEFAULT-VALUE}).")
    String maxShardSize;

    @Option(names = "--force", description = "Replace a non-empty OUTPUT_DIR (only once the merge has succeeded).")
    boolean force;

    @Option(names = "--seed", paramLabel = "N", description = "Override parameters.random_seed (DARE masks).")
    Long seed;

    @Option(names = "--report", paramLabel = "FILE.html|FILE.json",
            description = "Also write a report (repeatable): FILE.html, a self-contained page of task-vector norms, "
                    + "cosine similarity, sign conflicts, what the merge kept and changed; FILE.json, the per-tensor report "
                    + "(action, kept density, sign conflicts, time) with the same statistics under \"analysis\".")
    List<Path> reportFiles = new ArrayList<>();

    @Option(names = "--dry-run", description = "Validate the config and every input header, print the plan, read no weights.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Device dev;
        long shardSize;
        // A bad option value is bad usage: exit code 2, like any other picocli parameter error.
        try {
            dev = Device.parse(device);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--device: " + e.getMessage(), e);
        }
        try {
            shardSize = ByteSize.parse(maxShardSize);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        try {
            ReportFiles.check(reportFiles);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        MergeConfig cfg = MergeConfig.load(config);
        if (dryRun) {
            out.print(Amalgam.describePlan(cfg, Map.of()));
            cfg.warnings().forEach(w -> out.println("warning: " + w));
            out.println("dry run: config and headers are valid; nothing was written");
            return 0;
        }
        ProgressBar bar = new ProgressBar(System.err, System.console() != null);
        MergeOptions.Builder options = MergeOptions.builder().maxShardSize(shardSize).force(force).listener(bar)
                .analysis(!reportFiles.isEmpty());
        if (seed != null) options.seed(seed);
        MergeSummary report;
        // The CLI keeps -Damalgam.backend / -Damalgam.device working with any --device.
        try (Amalgam amalgam = Amalgam.builder().device(dev).systemProperties(true).build()) {
            report = amalgam.mergeToFolder(cfg, Map.of(), output, options.build());
        } catch (CheckpointException e) {
            // The file error itself, so the command's messages stay those of the I/O layer.
            if (e.getCause() instanceof java.io.IOException io) throw io;
            throw e;
        } finally {
            bar.finished();
        }
        printSummary(out, report);
        if (!reportFiles.isEmpty()) {
            HtmlReport.RunInfo run = new HtmlReport.RunInfo(config.getFileName().toString(), ReportFiles.configText(config),
                    report.backend(), report.backendReason(), report.seconds(), timings(report), report.warnings(),
                    report.output().map(Path::toString).orElse(null));
            ReportFiles.write(reportFiles, json(report), report.analysis().orElseThrow(), run);
            for (Path f : reportFiles) out.println("  report:    " + f);
        }
        return 0;
    }

    /** The --report document: the summary's fields, with the output folder as a path. */
    static Map<String, Object> json(MergeSummary r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("output", r.output().orElse(null));
        m.put("method", r.method());
        m.put("backend", r.backend());
        m.put("backendReason", r.backendReason());
        m.put("tensors", r.tensors());
        m.put("bytesRead", r.bytesRead());
        m.put("bytesWritten", r.bytesWritten());
        m.put("nanos", r.nanos());
        m.put("warnings", r.warnings());
        return m;
    }

    /** The per-tensor timings of a summary, for the report's timing table. */
    static List<HtmlReport.TensorTiming> timings(MergeSummary r) {
        return r.tensors().stream().map(t -> new HtmlReport.TensorTiming(t.name(), t.action(), t.elements(), t.nanos())).toList();
    }

    static void printSummary(PrintWriter out, MergeSummary r) {
        long merged = r.tensors().stream().filter(t -> t.action().equals("merged")).count();
        long copied = r.tensors().size() - merged;
        double seconds = r.seconds();
        out.printf(Locale.ROOT, "merged %s with %s into %s%n", r.method(), r.backend(), r.output().orElseThrow());
        out.printf(Locale.ROOT, "  tensors:   %d (%d merged, %d copied)%n", r.tensors().size(), merged, copied);
        out.printf(Locale.ROOT, "  read:      %s, written: %s%n", MergeSummary.bytes(r.bytesRead()), MergeSummary.bytes(r.bytesWritten()));
        out.printf(Locale.ROOT, "  time:      %.2f s (%s/s of input)%n", seconds, MergeSummary.bytes(seconds > 0 ? (long) (r.bytesRead() / seconds) : 0));
        out.printf(Locale.ROOT, "  kept:      %.1f%% of task-vector entries; sign conflicts: %d%n", 100 * r.keptDensity(), r.signConflicts());
        out.printf(Locale.ROOT, "  backend:   %s (%s)%n", r.backend(), r.backendReason());
        for (String w : r.warnings()) out.println("  warning:   " + w);
    }
}

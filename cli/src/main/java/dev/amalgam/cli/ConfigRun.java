package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.amalgam.MergeSummary;
import dev.amalgam.analysis.HtmlReport;
import dev.amalgam.config.ConfigException;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.MultiStageConfig;
import dev.amalgam.kernel.Device;
import dev.amalgam.merge.AnalysisCollector;
import dev.amalgam.merge.MergeJob;
import dev.amalgam.merge.MergeReport;
import dev.amalgam.merge.MultiStageMerge;
import dev.amalgam.merge.PlanEntry;
import dev.amalgam.merge.ProgressListener;
import dev.amalgam.merge.TensorObserver;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.ToLongFunction;

/**
 * Runs one config file the way {@code merge} and {@code mergekit-yaml} share: a single config,
 * or a multi-stage file (several YAML documents) stage by stage; {@code --strict} turns config
 * warnings into errors; {@code --dry-run} plans without writing.
 *
 * @param shardBytes        output shard size in bytes for a config (a parameter count needs the output dtype)
 * @param intermediateDir   where stages write (null: a temporary folder next to the output)
 * @param keepIntermediates keep a temporary intermediate folder
 */
record ConfigRun(Path config, Path output, Device device, ToLongFunction<MergeConfig> shardBytes, boolean force,
                 OptionalLong seed, boolean dryRun, List<Path> reportFiles, boolean strict, Path intermediateDir,
                 boolean keepIntermediates, boolean writeModelCard, boolean copyTokenizer, boolean quiet) {

    int run(PrintWriter out) throws IOException {
        if (MultiStageConfig.documentCount(config) > 1) return runStages(out);
        MergeConfig cfg = MergeConfig.load(config);
        checkStrict(cfg, config.getFileName().toString());
        if (dryRun) {
            try (MergeJob.Opened opened = MergeJob.open(cfg)) {
                out.print(opened.describe());
                cfg.warnings().forEach(w -> out.println("warning: " + w));
                out.println("dry run: config and headers are valid; nothing was written");
            }
            return 0;
        }
        AnalysisCollector collector = reportFiles.isEmpty() ? null : new AnalysisCollector();
        MergeReport report = MergeJob.run(cfg, options(cfg, output, force), progress(),
                collector == null ? TensorObserver.NONE : collector);
        MergeSummary summary = MergeSummary.of(report, false);
        if (!quiet) MergeCommand.printSummary(out, summary);
        if (collector != null) {
            HtmlReport.RunInfo run = new HtmlReport.RunInfo(config.getFileName().toString(), ReportFiles.configText(config),
                    summary.backend(), summary.backendReason(), summary.seconds(), MergeCommand.timings(summary),
                    summary.warnings(), summary.output().map(Path::toString).orElse(null));
            ReportFiles.write(reportFiles, MergeCommand.json(summary), collector.analysis(), run);
            if (!quiet) for (Path f : reportFiles) out.println("  report:    " + f);
        }
        return 0;
    }

    private int runStages(PrintWriter out) throws IOException {
        Path parent = output.toAbsolutePath().normalize().getParent();
        boolean temporary = intermediateDir == null;
        Path dir = temporary ? parent.resolve(".amalgam-stages-" + output.getFileName() + "-" + ProcessHandle.current().pid())
                : intermediateDir;
        MultiStageConfig stages = MultiStageConfig.load(config, dir);
        for (MultiStageConfig.Stage s : stages.stages()) checkStrict(s.config(), stageLabel(s));
        if (dryRun) {
            for (MultiStageConfig.Stage s : stages.stages()) {
                out.println("stage " + stageLabel(s) + (s.name() != null ? " -> " + stages.stageOutput(s.name()) : " -> " + output));
                boolean readsStage = s.config().allModels().stream()
                        .anyMatch(m -> m.resolvedPath().startsWith(stages.intermediateDir()) && !Files.exists(m.resolvedPath()));
                if (readsStage) {
                    out.println("  reads earlier stages' outputs: planned when they exist (config is valid)");
                } else {
                    try (MergeJob.Opened opened = MergeJob.open(s.config())) {
                        for (String line : opened.describe().split("\n")) out.println("  " + line);
                    }
                }
                s.config().warnings().forEach(w -> out.println("  warning: " + w));
            }
            out.println("dry run: " + stages.stages().size() + " stages are valid; nothing was written");
            return 0;
        }
        boolean remove = temporary && !keepIntermediates;
        if (temporary && Files.exists(dir)) throw new IOException(dir + ": intermediate folder already exists");
        // An HTML report analyses the final stage: the model that is written and published
        // (intermediates are usually removed); the JSON report lists every stage's summary.
        List<Path> htmlFiles = reportFiles.stream().filter(ReportFiles::isHtml).toList();
        AnalysisCollector collector = htmlFiles.isEmpty() ? null : new AnalysisCollector();
        List<MergeReport> reports = MultiStageMerge.run(stages,
                (s, out1, last) -> options(s.config(), last ? output : out1, last ? force : true), progress(), remove,
                collector == null ? TensorObserver.NONE : collector);
        if (!quiet) {
            for (int i = 0; i < reports.size(); i++) {
                out.println("stage " + stageLabel(stages.stages().get(i)) + ":");
                MergeCommand.printSummary(out, MergeSummary.of(reports.get(i), false));
            }
            if (!remove) out.println("intermediate stages kept in " + dir);
        }
        writeReport(out, reports);
        if (collector != null) {
            MergeSummary last = MergeSummary.of(reports.getLast(), false);
            String label = config.getFileName() + ", final stage " + stageLabel(stages.stages().getLast()) + " of "
                    + stages.stages().size();
            HtmlReport.RunInfo run = new HtmlReport.RunInfo(label, ReportFiles.configText(config), last.backend(),
                    last.backendReason(), last.seconds(), MergeCommand.timings(last), last.warnings(),
                    last.output().map(Path::toString).orElse(null));
            ReportFiles.write(htmlFiles, MergeCommand.json(last), collector.analysis(), run);
            if (!quiet) for (Path f : htmlFiles) out.println("  report:    " + f);
        }
        return 0;
    }

    private static String stageLabel(MultiStageConfig.Stage s) {
        return (s.name() != null ? "`" + s.name() + "`" : "(final)") + " (document " + s.document() + ")";
    }

    private MergeJob.Options options(MergeConfig cfg, Path out, boolean replace) {
        return new MergeJob.Options(out, device, shardBytes.applyAsLong(cfg), replace, seed, writeModelCard, copyTokenizer);
    }

    private ProgressListener progress() {
        if (quiet) return ProgressListener.NONE;
        ProgressBar bar = new ProgressBar(System.err, System.console() != null);
        return new ProgressListener() {
            @Override
            public void started(int tensors, long bytes) {
                bar.started(tensors, bytes);
            }

            @Override
            public void tensorDone(String name, int tensorsDone, long bytesDone) {
                bar.tensorDone(name, tensorsDone, bytesDone);
            }

            @Override
            public void finished() {
                bar.finished();
            }

            @Override
            public void notice(String message) {
                bar.notice(message);
            }
        };
    }

    private void checkStrict(MergeConfig cfg, String source) {
        if (strict && !cfg.warnings().isEmpty()) {
            throw new ConfigException(source, "", cfg.warnings().getFirst() + " (--strict makes config warnings errors"
                    + (cfg.warnings().size() > 1 ? "; " + (cfg.warnings().size() - 1) + " more" : "") + ")");
        }
    }

    private void writeReport(PrintWriter out, List<MergeReport> reports) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        List<Object> docs = reports.stream().<Object>map(r -> MergeCommand.json(MergeSummary.of(r, false))).toList();
        for (Path reportFile : reportFiles) {
            if (ReportFiles.isHtml(reportFile)) continue;  // the final stage's HTML analysis, written by runStages
            json.writeValue(reportFile.toFile(), docs.size() == 1 ? docs.getFirst() : docs);
            if (!quiet) out.println("  report:    " + reportFile);
        }
    }

    /** Bytes per parameter of a config's output: its dtype, else the widest merged output dtype. */
    static int bytesPerParameter(MergeConfig cfg) {
        if (cfg.outputDtype().isPresent()) return (int) cfg.outputDtype().get().byteSize();
        try (MergeJob.Opened opened = MergeJob.open(cfg)) {
            int widest = 1;
            for (PlanEntry e : opened.entries()) widest = Math.max(widest, (int) e.output().dtype().byteSize());
            return widest;
        } catch (RuntimeException e) {
            return 2; // inputs not there yet (a later stage): the common bf16/f16 case; the merge will say what is wrong
        }
    }
}

package dev.amalgam.cli;

import dev.amalgam.Amalgam;
import dev.amalgam.analysis.HtmlReport;
import dev.amalgam.analysis.MergeAnalysis;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.kernel.Device;
import java.util.Map;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code amalgam analyze CONFIG.yaml --report FILE.html}: task-vector statistics of a config's inputs, no merge. */
@Command(name = "analyze", description = "Read a config's inputs and report their task vectors (norms, cosine similarity, "
        + "sign conflicts) without merging or writing a checkpoint.")
final class AnalyzeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONFIG.yaml", description = "Merge config (mergekit-compatible YAML).")
    Path config;

    @Option(names = "--report", required = true, paramLabel = "FILE.html|FILE.json",
            description = "Where to write the report (repeatable): .html for the page, .json for the numbers.")
    List<Path> reportFiles;

    @Override
    public Integer call() throws Exception {
        try {
            ReportFiles.check(reportFiles);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        MergeConfig cfg = MergeConfig.load(config);
        long start = System.nanoTime();
        ProgressBar bar = new ProgressBar(System.err, System.console() != null);
        MergeAnalysis analysis;
        try (Amalgam amalgam = Amalgam.builder().device(Device.CPU).build()) {
            analysis = amalgam.analyze(cfg, Map.of(), bar);
        } finally {
            bar.finished();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        HtmlReport.RunInfo run = new HtmlReport.RunInfo(config.getFileName().toString(), ReportFiles.configText(config), null, null,
                seconds, List.of(), cfg.warnings(), null);
        ReportFiles.write(reportFiles, null, analysis, run);
        out.printf(Locale.ROOT, "analysed %d tensors of %d task model(s) against %s in %.2f s%n", analysis.tensors().size(),
                analysis.models().size(), analysis.base(), seconds);
        if (!analysis.hasBase()) out.println("  note:      no base_model: task vectors are taken against the first input, " + analysis.base());
        for (Path f : reportFiles) out.println("  report:    " + f);
        return 0;
    }
}

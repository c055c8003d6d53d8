package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.analysis.HtmlReport;
import dev.amalgam.analysis.MergeAnalysis;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.Locale;

/**
 * The {@code --report} files of {@code merge} and {@code analyze}: {@code .html} (the
 * self-contained page) or {@code .json} (the merge report plus the same statistics under
 * {@code analysis}); anything else is a usage error.
 */
final class ReportFiles {

    private ReportFiles() {
    }

    /** Rejects report paths whose extension is neither .html/.htm nor .json. */
    static void check(List<Path> files) {
        for (Path f : files) {
            if (!isHtml(f) && !isJson(f)) {
                throw new IllegalArgumentException("--report " + f + ": the file name must end in .html or .json");
            }
        }
    }

    static boolean isHtml(Path f) {
        String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".html") || n.endsWith(".htm");
    }

    static boolean isJson(Path f) {
        return f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json");
    }

    /** Writes every file; {@code report} (the JSON fields of the merge) is null for an analysis without a merge. */
    static void write(List<Path> files, Map<String, Object> report, MergeAnalysis analysis, HtmlReport.RunInfo run) throws IOException {
        for (Path f : files) {
            if (isHtml(f)) {
                HtmlReport.write(f, analysis, run);
            } else {
                ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
                ObjectNode root = report == null ? json.createObjectNode() : json.valueToTree(report);
                if (report == null) {
                    root.put("method", analysis.method());
                    root.put("seconds", run.seconds());
                }
                root.set("analysis", json.valueToTree(analysis));
                Path abs = f.toAbsolutePath();
                Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid());
                try {
                    json.writeValue(tmp.toFile(), root);
                    Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
        }
    }

    /** The config file's text, for "config as run". */
    static String configText(Path config) {
        try {
            return Files.readString(config);
        } catch (IOException e) {
            return null;
        }
    }
}

package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The merge report as a person sees it: rendered by a real browser (headless Chromium, which
 * {@code .ci/run} installs), with a screenshot, every section present and no script errors.
 */
class HtmlReportBrowserTest {

    private static final List<String> SECTIONS = List.of("summary", "norms", "cosine", "conflicts", "kept", "change", "tensors",
            "config", "timings");

    @TempDir
    Path tmp;

    @Test
    void tiesReportRendersInABrowserWithEverySectionAndNoScriptErrors() throws Exception {
        Path chromium = chromium();
        Path html = tmp.resolve("ties.html");
        Path json = tmp.resolve("ties.json");
        Cli.Result r = Cli.run("merge", ExampleFiles.examples().resolve("ties.yaml"), tmp.resolve("out"), "--report", html,
                "--report", json);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("report:    " + html), r.all());

        String dom = browser(chromium, "--dump-dom", html.toUri().toString());
        assertTrue(dom.contains("data-report-ready=\"1\""), "the page's script ran to the end");
        assertFalse(dom.contains("data-script-errors=\""), "no script errors");
        for (String id : SECTIONS) assertTrue(dom.contains("<section id=\"" + id + "\">"), "section " + id + " rendered");
        assertTrue(dom.contains("<svg class=\"chart\""), "charts rendered");

        Path png = tmp.resolve("ties.png");
        browser(chromium, "--screenshot=" + png, "--window-size=1200,4000", html.toUri().toString());
        byte[] bytes = Files.readAllBytes(png);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(bytes, 4), "a PNG screenshot");
        assertTrue(bytes.length > 20_000, "the screenshot shows something: " + bytes.length + " bytes");

        // The numbers the page shows are in the JSON too.
        JsonNode analysis = new ObjectMapper().readTree(json.toFile()).get("analysis");
        assertTrue(analysis.get("merged").asBoolean());
        assertEquals(3, analysis.get("models").size());
        assertEquals(0.3, analysis.get("wholeModel").get("keptFraction").get(0).asDouble(), 0.001, "density 0.3 kept 30%");
    }

    @Test
    void aScriptErrorIsCaught() throws Exception {
        // The check above can fail: a page with a broken script is reported as such.
        Path chromium = chromium();
        Path html = tmp.resolve("ties.html");
        assertEquals(0, Cli.run("merge", ExampleFiles.examples().resolve("ties.yaml"), tmp.resolve("out"), "--report", html).exitCode());
        String page = Files.readString(html).replace("</body>", "<script>undefinedFunction();</script></body>");
        Path broken = tmp.resolve("broken.html");
        Files.writeString(broken, page);
        String dom = browser(chromium, "--dump-dom", broken.toUri().toString());
        assertTrue(dom.contains("data-script-errors=\"1\""), "the error was recorded");
    }

    @Test
    void analyzeReadsTheInputsAndWritesNoCheckpoint() throws IOException {
        Path merged = tmp.resolve("merged.json");
        Path analyzed = tmp.resolve("analyzed.json");
        Path config = ExampleFiles.examples().resolve("ties.yaml");
        assertEquals(0, Cli.run("merge", config, tmp.resolve("out"), "--report", merged).exitCode());
        Cli.Result r = Cli.run("analyze", config, "--report", analyzed, "--report", tmp.resolve("analyzed.html"));
        assertEquals(0, r.exitCode(), r.all());
        try (var files = Files.list(tmp)) {
            assertEquals(List.of("analyzed.html", "analyzed.json", "merged.json", "out"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "analyze wrote only its reports");
        }
        ObjectMapper m = new ObjectMapper();
        JsonNode a = m.readTree(analyzed.toFile()).get("analysis");
        JsonNode b = m.readTree(merged.toFile()).get("analysis");
        assertFalse(a.get("merged").asBoolean());
        // Same inputs, same statistics pass: identical task-vector numbers.
        assertEquals(b.get("wholeModel").get("relativeNorm"), a.get("wholeModel").get("relativeNorm"));
        assertEquals(b.get("wholeModel").get("cosine"), a.get("wholeModel").get("cosine"));
        assertFalse(a.get("wholeModel").has("changeVsModel"), "no merge, no change");
    }

    @Test
    void aReportFileMustBeHtmlOrJson() {
        Cli.Result r = Cli.run("merge", ExampleFiles.examples().resolve("ties.yaml"), tmp.resolve("out"), "--report", tmp.resolve("r.txt"));
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("--report") && r.err().contains(".html or .json"), r.all());
        assertFalse(Files.exists(tmp.resolve("out")));
    }

    private Path chromium() {
        Optional<Path> found = Optional.empty();
        for (String name : List.of("chromium", "chromium-browser", "google-chrome", "chrome")) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) {
                    found = Optional.of(p);
                    break;
                }
            }
            if (found.isPresent()) break;
        }
        Assumptions.assumeTrue(found.isPresent(), "no chromium on the PATH (.ci/run installs Debian's chromium)");
        return found.get();
    }

    private String browser(Path chromium, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--hide-scrollbars", "--user-data-dir=" + tmp.resolve("profile")));
        cmd.addAll(List.of(args));
        Path stdout = tmp.resolve("browser.out");
        Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(tmp.resolve("browser.err").toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish within 120 s");
        }
        assertEquals(0, p.exitValue(), () -> "chromium failed: " + read(tmp.resolve("browser.err")));
        return read(stdout);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }
}

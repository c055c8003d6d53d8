package dev.amalgam.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Renders a {@link MergeAnalysis} as one self-contained HTML page: inline CSS and SVG, one small
 * inline script (table sorting), no network and no external files, so it opens offline and can
 * be mailed around. Sections: summary, task-vector norms per layer and kind, pairwise cosine
 * similarity (per layer and whole model), sign conflicts, what the sparsifier kept, the change of
 * the merge against the base and each input, the config as run, and timings.
 *
 * <p>Size: the page grows with layers × models², not with parameters; a 32-layer, 3-model
 * 7B-shaped merge renders to well under 1 MB.
 */
public final class HtmlReport {

    /**
     * What ran, for the page's header and timing section.
     *
     * @param title         what the page is about (e.g. the config file name)
     * @param configText    the config as run (YAML), or {@code null}
     * @param backend       the kernel backend that served, or {@code null} for an analysis without a merge
     * @param backendReason why it served
     * @param seconds       wall time of the merge (or the analysis)
     * @param tensors       per-tensor reports of the merge (timings), empty for an analysis
     * @param warnings      warnings of the run
     * @param output        the output folder, or {@code null}
     */
    public record RunInfo(String title, String configText, String backend, String backendReason, double seconds,
                          List<TensorTiming> tensors, List<String> warnings, String output) {
        /** Copies the lists; null lists are empty. */
        public RunInfo {
            tensors = tensors == null ? List.of() : List.copyOf(tensors);
            warnings = warnings == null ? List.of() : List.copyOf(warnings);
        }
    }

    /**
     * The time one output tensor took.
     *
     * @param name     tensor name
     * @param action   {@code merged} or {@code copied}
     * @param elements element count
     * @param nanos    time spent on it
     */
    public record TensorTiming(String name, String action, long elements, long nanos) {
    }

    private HtmlReport() {
    }

    /** Writes the page to {@code file} atomically (a temporary file next to it, then a rename). */
    public static void write(Path file, MergeAnalysis analysis, RunInfo run) throws IOException {
        Path abs = file.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try {
            Files.writeString(tmp, render(analysis, run), StandardCharsets.UTF_8);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The page. */
    public static String render(MergeAnalysis a, RunInfo run) {
        StringBuilder sb = new StringBuilder(64 * 1024);
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>Amalgam report: ").append(Html.esc(run.title())).append("</title><style>").append(CSS).append("</style></head><body>");
        sb.append("<header><h1>").append(a.merged() ? "Merge report" : "Analysis").append(": ").append(Html.esc(run.title())).append("</h1>");
        sb.append("<p class=\"sub\">merge_method <b>").append(Html.esc(a.method())).append("</b> · base <b>").append(Html.esc(a.base()))
                .append("</b> · ").append(a.models().size()).append(" task model").append(a.models().size() == 1 ? "" : "s").append("</p></header>");
        summary(sb, a, run);
        if (a.models().isEmpty() || a.tensors().isEmpty()) {
            sb.append("<section id=\"empty\"><p>No task vectors: the merge has no floating tensors with a base and another model.</p></section>");
        } else {
            norms(sb, a);
            cosine(sb, a);
            conflicts(sb, a);
            kept(sb, a);
            change(sb, a);
            tensorTable(sb, a);
        }
        config(sb, run);
        timings(sb, run);
        sb.append("<div id=\"script-errors\" hidden></div><script>").append(SCRIPT).append("</script></body></html>\n");
        return sb.toString();
    }

    private static void summary(StringBuilder sb, MergeAnalysis a, RunInfo run) {
        LayerSummary w = a.wholeModel();
        sb.append("<section id=\"summary\"><h2>Summary</h2><table class=\"kv\">");
        row(sb, "tensors analysed", String.valueOf(a.tensors().size()));
        row(sb, "elements per model", String.format(Locale.ROOT, "%,d", w.elements()));
        for (int m = 0; m < a.models().size(); m++) {
            row(sb, "‖δ‖ / ‖θ0‖ of " + a.models().get(m), Svg.fmt(w.relativeNorm()[m], false));
        }
        row(sb, "sign conflicts between task vectors", Svg.fmt(w.conflictRate(), true) + " of elements");
        if (w.keptFraction() != null) {
            StringBuilder k = new StringBuilder();
            for (int m = 0; m < a.models().size(); m++) k.append(m > 0 ? ", " : "").append(a.models().get(m)).append(' ').append(Svg.fmt(w.keptFraction()[m], true));
            row(sb, "kept by the sparsifier", k.toString());
        }
        if (Double.isFinite(w.mergeConflictRate()) && w.mergeConflictRate() > 0) {
            row(sb, "kept entries against the elected sign", Svg.fmt(w.mergeConflictRate(), true) + " of elements");
        }
        if (a.merged()) row(sb, "‖out − θ0‖ / ‖θ0‖", Svg.fmt(w.changeVsBase(), false));
        if (run.backend() != null) row(sb, "backend", run.backend() + " (" + run.backendReason() + ")");
        row(sb, a.merged() ? "merge time" : "analysis time", String.format(Locale.ROOT, "%.2f s", run.seconds()));
        if (run.output() != null) row(sb, "output", run.output());
        sb.append("</table>");
        if (!run.warnings().isEmpty()) {
            sb.append("<details><summary>").append(run.warnings().size()).append(" warning(s)</summary><ul>");
            for (String x : run.warnings()) sb.append("<li>").append(Html.esc(x)).append("</li>");
            sb.append("</ul></details>");
        }
        sb.append("</section>");
    }

    private static void norms(StringBuilder sb, MergeAnalysis a) {
        sb.append("<section id=\"norms\"><h2>Task-vector norms</h2><p>‖δ_m‖ / ‖θ0‖ per layer and tensor kind: how far each fine-tune moved from the base, relative to the base's weights.</p>");
        int[] layers = layers(a);
        int charts = 0;
        for (TensorKind kind : TensorKind.values()) {
            List<Svg.Series> series = new ArrayList<>();
            boolean any = false;
            for (int m = 0; m < a.models().size(); m++) {
                double[] y = new double[layers.length];
                for (int i = 0; i < layers.length; i++) {
                    LayerSummary s = a.group(layers[i], kind);
                    y[i] = s == null ? Double.NaN : s.relativeNorm()[m];
                    any |= s != null;
                }
                series.add(new Svg.Series(a.models().get(m), y));
            }
            if (!any) continue;
            charts++;
            sb.append("<figure><figcaption>").append(kind.label()).append("</figcaption>")
                    .append(Svg.lineChart("relative task-vector norm, " + kind.label(), layers, series, "‖δ‖/‖θ0‖", false)).append("</figure>");
        }
        if (charts == 0) sb.append("<p>No tensors inside numbered layers.</p>");
        List<LayerSummary> outside = a.byLayerAndKind().stream().filter(s -> s.layer() == -1).toList();
        if (!outside.isEmpty()) {
            sb.append("<h3>Outside layers</h3><table class=\"data\"><thead><tr><th>kind</th>");
            for (String m : a.models()) sb.append("<th>").append(Html.esc(m)).append("</th>");
            sb.append("</tr></thead><tbody>");
            for (LayerSummary s : outside) {
                sb.append("<tr><td>").append(s.kind().label()).append("</td>");
                for (double v : s.relativeNorm()) sb.append("<td class=\"num\">").append(Svg.fmt(v, false)).append("</td>");
                sb.append("</tr>");
            }
            sb.append("</tbody></table>");
        }
        sb.append("</section>");
    }

    private static void cosine(StringBuilder sb, MergeAnalysis a) {
        int t = a.models().size();
        sb.append("<section id=\"cosine\"><h2>Cosine similarity of task vectors</h2>");
        if (t < 2) {
            sb.append("<p>One task model: no pairs to compare.</p></section>");
            return;
        }
        List<String> shortNames = withoutCommonPrefix(a.models());
        List<String> pairs = new ArrayList<>();
        List<int[]> idx = new ArrayList<>();
        for (int i = 0; i < t; i++) {
            for (int j = i + 1; j < t; j++) {
                pairs.add(shortNames.get(i) + " · " + shortNames.get(j));
                idx.add(new int[] {i, j});
            }
        }
        sb.append("<h3>Whole model</h3>");
        double[][] whole = new double[t][t];
        for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) whole[i][j] = a.wholeModel().cosine(i, j);
        sb.append(Svg.heatmap("whole-model cosine similarity", shortNames, shortNames, whole));
        sb.append("<h3>Per layer</h3><p>Rows are layers (and the tensors outside layers), columns model pairs. Red: the fine-tunes moved the same way; blue: opposite ways.</p>");
        List<String> rows = new ArrayList<>();
        List<double[]> vals = new ArrayList<>();
        for (LayerSummary s : a.byLayer()) {
            rows.add(s.layer() < 0 ? "outside layers" : "layer " + s.layer());
            double[] v = new double[idx.size()];
            for (int p = 0; p < idx.size(); p++) v[p] = s.cosine(idx.get(p)[0], idx.get(p)[1]);
            vals.add(v);
        }
        sb.append(Svg.heatmap("per-layer cosine similarity", rows, pairs, vals.toArray(new double[0][])));
        sb.append("</section>");
    }

    private static void conflicts(StringBuilder sb, MergeAnalysis a) {
        sb.append("<section id=\"conflicts\"><h2>Sign conflicts</h2><p>Fraction of elements per layer where one task vector is positive and another negative");
        int[] layers = layers(a);
        List<Svg.Series> series = new ArrayList<>();
        series.add(new Svg.Series("task vectors (before sparsification)", perLayer(a, layers, LayerSummary::conflictRate)));
        boolean elected = a.byLayer().stream().anyMatch(s -> Double.isFinite(s.mergeConflictRate()) && s.mergeConflictRate() > 0);
        if (elected) {
            sb.append("; and, after the merge's sparsification, the fraction where a kept entry disagreed with the elected sign (dropped by TIES-style election)");
            series.add(new Svg.Series("kept entries against the elected sign", perLayer(a, layers, LayerSummary::mergeConflictRate), true));
        }
        sb.append(".</p>");
        if (layers.length > 0) sb.append(Svg.lineChart("sign-conflict rate per layer", layers, series, "elements", true));
        sb.append(tableOutside(a, "conflict rate", s -> Svg.fmt(s.conflictRate(), true)));
        sb.append("</section>");
    }

    private static void kept(StringBuilder sb, MergeAnalysis a) {
        if (a.wholeModel().keptFraction() == null) return;
        sb.append("<section id=\"kept\"><h2>What the sparsifier kept</h2><p>Fraction of each task vector's entries that survived trimming or dropping, per layer.</p>");
        int[] layers = layers(a);
        List<Svg.Series> series = new ArrayList<>();
        for (int m = 0; m < a.models().size(); m++) {
            int mm = m;
            series.add(new Svg.Series(a.models().get(m), perLayer(a, layers, s -> s.keptFraction() == null ? Double.NaN : s.keptFraction()[mm])));
        }
        if (layers.length > 0) sb.append(Svg.lineChart("kept fraction per model and layer", layers, series, "kept", true));
        sb.append("</section>");
    }

    private static void change(StringBuilder sb, MergeAnalysis a) {
        if (!a.merged()) return;
        sb.append("<section id=\"change\"><h2>What the merge changed</h2><p>‖out − θ0‖ / ‖θ0‖ per layer (against the base) and ‖out − θ_m‖ / ‖θ_m‖ (against each input).</p>");
        int[] layers = layers(a);
        List<Svg.Series> series = new ArrayList<>();
        series.add(new Svg.Series("vs base " + a.base(), perLayer(a, layers, LayerSummary::changeVsBase)));
        for (int m = 0; m < a.models().size(); m++) {
            int mm = m;
            series.add(new Svg.Series("vs " + a.models().get(m), perLayer(a, layers, s -> s.changeVsModel()[mm]), true));
        }
        if (layers.length > 0) sb.append(Svg.lineChart("relative change of the merge per layer", layers, series, "relative change", false));
        sb.append(tableOutside(a, "vs base", s -> Svg.fmt(s.changeVsBase(), false)));
        sb.append("</section>");
    }

    private static void tensorTable(StringBuilder sb, MergeAnalysis a) {
        int t = a.models().size();
        sb.append("<section id=\"tensors\"><h2>Per tensor</h2><details><summary>").append(a.tensors().size())
                .append(" tensors (click a column to sort)</summary><table class=\"data sortable\"><thead><tr><th>tensor</th><th>kind</th><th>elements</th>");
        for (String m : a.models()) sb.append("<th>‖δ‖/‖θ0‖ ").append(Html.esc(m)).append("</th>");
        sb.append("<th>conflicts</th>");
        if (a.wholeModel().keptFraction() != null) for (String m : a.models()) sb.append("<th>kept ").append(Html.esc(m)).append("</th>");
        if (a.merged()) sb.append("<th>change vs base</th>");
        sb.append("</tr></thead><tbody>");
        for (TensorStatistics s : a.tensors()) {
            double baseNorm = Math.sqrt(s.baseNormSq());
            sb.append("<tr><td>").append(Html.esc(s.name())).append("</td><td>").append(s.kind().label()).append("</td><td class=\"num\">").append(s.elements()).append("</td>");
            for (int m = 0; m < t; m++) sb.append("<td class=\"num\">").append(Svg.fmt(baseNorm == 0 ? Double.NaN : Math.sqrt(s.deltaNormSq()[m]) / baseNorm, false)).append("</td>");
            sb.append("<td class=\"num\">").append(Svg.fmt(s.elements() == 0 ? 0 : (double) s.conflictElements() / s.elements(), true)).append("</td>");
            if (a.wholeModel().keptFraction() != null) {
                for (int m = 0; m < t; m++) sb.append("<td class=\"num\">").append(s.keptFraction() == null ? "–" : Svg.fmt(s.keptFraction()[m], true)).append("</td>");
            }
            if (a.merged()) sb.append("<td class=\"num\">").append(Svg.fmt(baseNorm == 0 ? Double.NaN : Math.sqrt(s.mergedDeltaNormSq()) / baseNorm, false)).append("</td>");
            sb.append("</tr>");
        }
        sb.append("</tbody></table></details></section>");
    }

    private static void config(StringBuilder sb, RunInfo run) {
        sb.append("<section id=\"config\"><h2>Config as run</h2>");
        if (run.configText() == null) sb.append("<p>(not recorded)</p>");
        else sb.append("<pre>").append(Html.esc(run.configText())).append("</pre>");
        sb.append("</section>");
    }

    private static void timings(StringBuilder sb, RunInfo run) {
        sb.append("<section id=\"timings\"><h2>Timings</h2><p>").append(String.format(Locale.ROOT, "%.2f s in all", run.seconds()));
        if (run.backend() != null) sb.append(" on the ").append(Html.esc(run.backend())).append(" backend");
        sb.append(".</p>");
        if (!run.tensors().isEmpty()) {
            List<TensorTiming> slow = run.tensors().stream().sorted(Comparator.comparingLong(TensorTiming::nanos).reversed()).limit(10).toList();
            sb.append("<table class=\"data\"><thead><tr><th>slowest tensors</th><th>action</th><th>elements</th><th>ms</th></tr></thead><tbody>");
            for (TensorTiming r : slow) {
                sb.append("<tr><td>").append(Html.esc(r.name())).append("</td><td>").append(Html.esc(r.action())).append("</td><td class=\"num\">")
                        .append(r.elements()).append("</td><td class=\"num\">").append(String.format(Locale.ROOT, "%.2f", r.nanos() / 1e6)).append("</td></tr>");
            }
            sb.append("</tbody></table>");
        }
        sb.append("</section>");
    }

    private static String tableOutside(MergeAnalysis a, String what, java.util.function.Function<LayerSummary, String> value) {
        List<LayerSummary> outside = a.byLayerAndKind().stream().filter(s -> s.layer() == -1).toList();
        if (outside.isEmpty()) return "";
        StringBuilder sb = new StringBuilder("<table class=\"data\"><thead><tr><th>outside layers</th><th>").append(Html.esc(what)).append("</th></tr></thead><tbody>");
        for (LayerSummary s : outside) sb.append("<tr><td>").append(s.kind().label()).append("</td><td class=\"num\">").append(value.apply(s)).append("</td></tr>");
        return sb.append("</tbody></table>").toString();
    }

    /** "family/ft-1", "family/ft-2" → "ft-1", "ft-2" (only at a '/' or '-' boundary, and never to empty). */
    static List<String> withoutCommonPrefix(List<String> names) {
        if (names.size() < 2) return names;
        String first = names.getFirst();
        int p = first.length();
        for (String n : names) {
            int k = 0;
            while (k < Math.min(p, n.length()) && n.charAt(k) == first.charAt(k)) k++;
            p = k;
        }
        while (p > 0 && first.charAt(p - 1) != '/') p--;
        int cut = p;
        if (names.stream().anyMatch(n -> n.length() == cut)) return names;
        return names.stream().map(n -> n.substring(cut)).toList();
    }

    private static int[] layers(MergeAnalysis a) {
        return a.byLayer().stream().mapToInt(LayerSummary::layer).filter(l -> l >= 0).toArray();
    }

    private static double[] perLayer(MergeAnalysis a, int[] layers, java.util.function.ToDoubleFunction<LayerSummary> f) {
        double[] y = new double[layers.length];
        for (int i = 0; i < layers.length; i++) {
            int l = layers[i];
            LayerSummary s = a.byLayer().stream().filter(x -> x.layer() == l).findFirst().orElseThrow();
            y[i] = f.applyAsDouble(s);
        }
        return y;
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append("<tr><th>").append(Html.esc(k)).append("</th><td>").append(Html.esc(v)).append("</td></tr>");
    }

    private static final String CSS = """
            body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:0 20px 40px;color:#222}
            header{border-bottom:2px solid #333;margin-bottom:8px}h1{font-size:22px;margin:18px 0 4px}.sub{margin:0 0 10px;color:#555}
            h2{font-size:18px;margin:26px 0 6px;border-bottom:1px solid #ddd}h3{font-size:15px;margin:14px 0 4px}
            table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
            table.kv th{font-weight:600;color:#444}td.num{text-align:right;font-variant-numeric:tabular-nums}
            .chart{width:100%;max-width:760px;height:auto;display:block}.heatmap{max-width:100%;height:auto;display:block}
            .grid{stroke:#e6e6e6}.cell{font-size:10px;fill:#222;pointer-events:none}.tick{font-size:10px;fill:#555}.axis{font-size:11px;fill:#333}
            .legend span{margin-right:14px;font-size:12px;white-space:nowrap}.legend i{display:inline-block;width:12px;height:3px;margin-right:5px;vertical-align:middle}
            .scale{font-size:11px;display:flex;align-items:center;gap:6px;margin:2px 0 10px}.ramp{display:inline-block;width:160px;height:10px;background:linear-gradient(90deg,#2365ff,#fff,#ff3721)}
            figure{margin:8px 0 14px}figcaption{font-weight:600;margin-bottom:2px}pre{background:#f6f6f6;padding:10px;overflow:auto}
            th.sortable-col{cursor:pointer}details summary{cursor:pointer;margin:4px 0}
            """;

    private static final String SCRIPT = """
            (function(){
              var errors=[];
              window.addEventListener('error',function(e){errors.push(String(e.message));var d=document.getElementById('script-errors');d.hidden=false;d.textContent=errors.join('\\n');document.body.setAttribute('data-script-errors',String(errors.length));});
              document.querySelectorAll('table.sortable').forEach(function(t){
                var heads=t.tHead.rows[0].cells;
                Array.prototype.forEach.call(heads,function(th,col){
                  th.className='sortable-col';var asc=true;
                  th.addEventListener('click',function(){
                    var rows=Array.prototype.slice.call(t.tBodies[0].rows);
                    rows.sort(function(a,b){var x=a.cells[col].textContent,y=b.cells[col].textContent;var nx=parseFloat(x),ny=parseFloat(y);
                      var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;});
                    asc=!asc;rows.forEach(function(r){t.tBodies[0].appendChild(r);});
                  });
                });
              });
              document.body.setAttribute('data-report-ready','1');
            })();
            """;
}

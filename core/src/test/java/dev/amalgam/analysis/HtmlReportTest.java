package dev.amalgam.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class HtmlReportTest {

    private static final String[] LLAMA_LAYER = {"input_layernorm.weight", "mlp.down_proj.weight", "mlp.gate_proj.weight",
            "mlp.up_proj.weight", "post_attention_layernorm.weight", "self_attn.k_proj.weight", "self_attn.o_proj.weight",
            "self_attn.q_proj.weight", "self_attn.v_proj.weight"};

    /** Statistics shaped like a Llama-2-7B merge of {@code t} models (32 layers, 291 tensors), random values. */
    static MergeAnalysis llama7b(int t, boolean merged) {
        SplittableRandom rnd = new SplittableRandom(7);
        List<String> names = new ArrayList<>(List.of("lm_head.weight", "model.embed_tokens.weight", "model.norm.weight"));
        for (int l = 0; l < 32; l++) for (String r : LLAMA_LAYER) names.add("model.layers." + l + "." + r);
        List<TensorStatistics> tensors = new ArrayList<>();
        for (String n : names) {
            double[] xs = new double[t], ds = new double[t], dots = new double[t * t], kept = new double[t], tm = new double[t];
            for (int i = 0; i < t; i++) {
                ds[i] = 1 + rnd.nextDouble();
                xs[i] = 100 + ds[i];
                kept[i] = rnd.nextDouble();
                tm[i] = rnd.nextDouble();
            }
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) dots[i * t + j] = i == j ? ds[i] : (rnd.nextDouble() - 0.5) * Math.sqrt(ds[i] * ds[j]);
            }
            for (int i = 0; i < t; i++) for (int j = 0; j < i; j++) dots[i * t + j] = dots[j * t + i];
            tensors.add(new TensorStatistics(n, dev.amalgam.config.LayerPosition.layerIndex(n), TensorKind.of(n), 4096L * 4096,
                    100, xs, ds, dots, 1000, 4000, kept, merged ? 17 : -1, merged ? rnd.nextDouble() : Double.NaN, merged ? tm : null));
        }
        List<String> models = new ArrayList<>();
        for (int i = 0; i < t; i++) models.add("org/fine-tune-" + i);
        return MergeAnalysis.of("ties", "meta-llama/Llama-2-7b-hf", models, tensors);
    }

    private static HtmlReport.RunInfo run() {
        return new HtmlReport.RunInfo("ties.yaml", "merge_method: ties\nmodels: []\n", "cpu", "fast CPU kernels", 12.5, List.of(),
                List.of("a warning <b>"), "/out");
    }

    @Test
    void sevenBShapedReportHasEverySectionAndWeighsUnderOneMegabyte() {
        String html = HtmlReport.render(llama7b(3, true), run());
        int bytes = html.getBytes(StandardCharsets.UTF_8).length;
        assertTrue(bytes < 1_000_000, "report is " + bytes + " bytes");
        for (String id : List.of("summary", "norms", "cosine", "conflicts", "kept", "change", "tensors", "config", "timings")) {
            assertTrue(html.contains("<section id=\"" + id + "\">"), "section " + id);
        }
        assertEquals(291, count(html, Pattern.compile("<tr><td>(model\\.|lm_head)")), "one table row per tensor");
    }

    @Test
    void eightModelsStayUnderOneMegabyte() {
        int bytes = HtmlReport.render(llama7b(8, true), run()).getBytes(StandardCharsets.UTF_8).length;
        assertTrue(bytes < 1_000_000, "report is " + bytes + " bytes");
    }

    @Test
    void pageIsSelfContained() {
        String html = HtmlReport.render(llama7b(2, true), run());
        assertFalse(Pattern.compile("(src|href)\\s*=", Pattern.CASE_INSENSITIVE).matcher(html).find(), "no external resources");
        assertFalse(html.contains("http://") || html.contains("https://"), "no network addresses");
        assertFalse(html.contains("@import") || html.contains("url("), "no CSS imports");
        assertEquals(1, count(html, Pattern.compile("<script>")), "one inline script");
    }

    @Test
    void analysisWithoutMergeLeavesOutTheMergeSections() {
        String html = HtmlReport.render(llama7b(2, false), new HtmlReport.RunInfo("cfg.yaml", null, null, null, 1, null, null, null));
        assertTrue(html.contains("<section id=\"norms\">"));
        assertFalse(html.contains("<section id=\"change\">"));
        assertTrue(html.contains("Analysis: cfg.yaml"));
    }

    @Test
    void namesAndConfigAreEscaped() {
        String html = HtmlReport.render(llama7b(2, true), new HtmlReport.RunInfo("<script>alert(1)</script>", "a: <x>", "cpu", "r", 1,
                List.of(), List.of(), null));
        assertFalse(html.contains("<script>alert"));
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assertTrue(html.contains("a: &lt;x&gt;"));
    }

    @Test
    void commonModelPrefixIsShortenedOnlyAtAFolderBoundary() {
        assertEquals(List.of("ft-1", "ft-2"), HtmlReport.withoutCommonPrefix(List.of("family/ft-1", "family/ft-2")));
        assertEquals(List.of("ft-1", "ft-2"), HtmlReport.withoutCommonPrefix(List.of("ft-1", "ft-2")));
        assertEquals(List.of("b", "b/c"), HtmlReport.withoutCommonPrefix(List.of("a/b", "a/b/c")));
        assertEquals(List.of("a", "a/c"), HtmlReport.withoutCommonPrefix(List.of("a", "a/c")), "never shortened to nothing");
    }

    private static int count(String s, Pattern p) {
        var m = p.matcher(s);
        int c = 0;
        while (m.find()) c++;
        return c;
    }
}

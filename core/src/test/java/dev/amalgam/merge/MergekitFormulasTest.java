package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * slerp, model_stock, nuslerp and nearswap against fixtures computed independently of Amalgam's
 * kernels: literal transcriptions of mergekit's numpy/torch code (normalize the vectors, then
 * dot; mean of the tensors, then interpolate), element by element in float32 with float64 sums
 * in place of numpy's pairwise float32 sums. Inputs look like fine-tunes (a base plus small
 * deltas) and include awkward shapes and a layer gradient. Agreement is within 1e-5 relative
 * (with a 1e-7·max|x| floor for elements near zero), the §1.10 tolerance for results downstream
 * of a reduction.
 */
class MergekitFormulasTest {

    @TempDir
    Path dir;
    MergeFixture fx;

    static final long[][] SHAPES = {{13, 7}, {3}, {64, 33}, {1031}};

    @BeforeEach
    void setUp() {
        fx = new MergeFixture(dir);
    }

    private List<Map<String, float[]>> family(int models, long seed) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        List<Map<String, float[]>> out = new ArrayList<>();
        Map<String, float[]> base = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (int s = 0; s < SHAPES.length; s++) {
            int n = 1;
            for (long d : SHAPES[s]) n *= (int) d;
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextGaussian() * 0.02);
            base.put("model.layers." + s + ".w", v);
            shapes.put("model.layers." + s + ".w", SHAPES[s]);
        }
        out.add(base);
        for (int m = 0; m < models; m++) {
            Map<String, float[]> ft = new LinkedHashMap<>();
            double scale = 0.002 * (1 + m);
            for (var e : base.entrySet()) {
                float[] v = e.getValue().clone();
                for (int i = 0; i < v.length; i++) v[i] += (float) (rnd.nextGaussian() * scale);
                ft.put(e.getKey(), v);
            }
            out.add(ft);
        }
        for (int m = 0; m < out.size(); m++) {
            Object[] nv = new Object[out.get(m).size() * 2];
            int k = 0;
            for (var e : out.get(m).entrySet()) {
                nv[k++] = e.getKey();
                nv[k++] = e.getValue();
            }
            fx.model(m == 0 ? "base" : "ft" + m, DType.F32, shapes, nv);
        }
        return out;
    }

    private static void assertNear(float[] expected, float[] actual, String what) {
        double max = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < expected.length; i++) {
            double tol = Math.max(1e-5 * Math.abs(expected[i]), 1e-7 * max);
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol,
                    what + " element " + i + ": mergekit formula " + expected[i] + ", Amalgam " + actual[i]);
        }
    }

    // ---- mergekit's formulas, transcribed ----

    static float norm(float[] v) {
        double s = 0;
        for (float x : v) s += (double) x * x;
        return (float) Math.sqrt(s);
    }

    static float sum(float[] v) {
        double s = 0;
        for (float x : v) s += x;
        return (float) s;
    }

    /** mergekit {@code slerp(t, v0, v1)}: numpy float32. */
    static float[] slerp(float t, float[] v0, float[] v1) {
        int n = v0.length;
        float n0 = norm(v0), n1 = norm(v1);
        float[] u0 = v0.clone(), u1 = v1.clone();
        if (n0 > 1e-8f) for (int i = 0; i < n; i++) u0[i] = v0[i] / n0;
        if (n1 > 1e-8f) for (int i = 0; i < n; i++) u1[i] = v1[i] / n1;
        float[] prod = new float[n];
        for (int i = 0; i < n; i++) prod[i] = u0[i] * u1[i];
        float dot = sum(prod);
        float[] res = new float[n];
        if (Math.abs(dot) > 0.9995f) {
            for (int i = 0; i < n; i++) res[i] = (1 - t) * v0[i] + t * v1[i];
            return res;
        }
        float theta0 = (float) Math.acos(dot);
        float sinTheta0 = (float) Math.sin(theta0);
        float thetaT = theta0 * t;
        float s0 = (float) Math.sin(theta0 - thetaT) / sinTheta0;
        float s1 = (float) Math.sin(thetaT) / sinTheta0;
        for (int i = 0; i < n; i++) res[i] = s0 * v0[i] + s1 * v1[i];
        return res;
    }

    /** mergekit {@code ModelStockMergeTask.execute}, not filter-wise: torch float32. */
    static float[] modelStock(float[] w0, List<float[]> ws) {
        int n = w0.length, count = ws.size();
        List<float[]> offsets = new ArrayList<>();
        for (float[] w : ws) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = w[i] - w0[i];
            offsets.add(d);
        }
        float cosSum = 0;
        int pairs = 0;
        for (int i = 0; i < count; i++) {
            for (int j = i + 1; j < count; j++) {
                float normProduct = norm(offsets.get(i)) * norm(offsets.get(j));
                float[] prod = new float[n];
                for (int e = 0; e < n; e++) prod[e] = offsets.get(i)[e] * offsets.get(j)[e];
                float cos = sum(prod) / Math.max(normProduct, 1e-6f);
                cosSum += Math.min(1f, Math.max(-1f, cos));
                pairs++;
            }
        }
        float cos = cosSum / pairs;
        float t = (count * cos) / (1 + (count - 1) * cos);
        float[] avg = new float[n];
        for (float[] w : ws) for (int i = 0; i < n; i++) avg[i] += w[i];
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = t * (avg[i] / count) + (1 - t) * w0[i];
        return out;
    }

    /** mergekit {@code nuslerp(t, v0, v1, flatten=True)}: torch float32. */
    static float[] nuslerp(float t, float[] v0, float[] v1) {
        int n = v0.length;
        float n0 = Math.max(norm(v0), 1e-7f), n1 = Math.max(norm(v1), 1e-7f);
        float[] prod = new float[n];
        for (int i = 0; i < n; i++) prod[i] = (v0[i] / n0) * (v1[i] / n1);
        float cos = Math.min(1f, Math.max(-1f, sum(prod)));
        float theta = (float) Math.acos(cos);
        float sin = (float) Math.sin(theta);
        float[] res = new float[n];
        for (int i = 0; i < n; i++) {
            res[i] = Math.abs(sin) < 1e-8f ? (1 - t) * v0[i] + t * v1[i]
                    : ((float) Math.sin((1 - t) * theta) * v0[i] + (float) Math.sin(t * theta) * v1[i]) / sin;
        }
        return res;
    }

    // ---- the comparisons ----

    @Test
    void slerpMatchesMergekitsFormula() throws IOException {
        List<Map<String, float[]>> f = family(1, 11);
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: [0.1, 0.5, 0.9]}\nmodels:\n  - model: base\n  - model: ft1\n");
        int layers = SHAPES.length;
        for (int s = 0; s < layers; s++) {
            String name = "model.layers." + s + ".w";
            double tPos = (double) s / (layers - 1) * 2;
            int i0 = (int) tPos;
            int i1 = Math.min(2, i0 + 1);
            double frac = tPos - i0;
            double[] v = {0.1, 0.5, 0.9};
            float t = (float) ((1 - frac) * v[i0] + frac * v[i1]);
            assertNear(slerp(t, f.get(0).get(name), f.get(1).get(name)), MergeFixture.read(out, name), "slerp " + name);
        }
    }

    @Test
    void slerpOfSlightlyDifferentModelsTakesTheLerpBranchAsMergekitDoes() throws IOException {
        // Fine-tune-like deltas are tiny against the weights: d > 0.9995, mergekit lerps.
        List<Map<String, float[]>> f = family(1, 12);
        for (int m = 0; m < 1; m++) {
            var v = f.get(1).get("model.layers.2.w");
            for (int i = 0; i < v.length; i++) v[i] = f.get(0).get("model.layers.2.w")[i] * 1.0001f + 1e-6f;
        }
        fx.model("near", DType.F32, Map.of("model.layers.0.w", SHAPES[0], "model.layers.1.w", SHAPES[1],
                        "model.layers.2.w", SHAPES[2], "model.layers.3.w", SHAPES[3]),
                "model.layers.0.w", f.get(1).get("model.layers.0.w"), "model.layers.1.w", f.get(1).get("model.layers.1.w"),
                "model.layers.2.w", f.get(1).get("model.layers.2.w"), "model.layers.3.w", f.get(1).get("model.layers.3.w"));
        Path out = fx.merge("merge_method: slerp\nbase_model: base\nparameters: {t: 0.3}\nmodels:\n  - model: near\n");
        String name = "model.layers.2.w";
        assertNear(slerp(0.3f, f.get(0).get(name), f.get(1).get(name)), MergeFixture.read(out, name), "lerp branch");
    }

    @Test
    void modelStockMatchesMergekitsFormula() throws IOException {
        for (int models : new int[] {2, 3, 5}) {
            List<Map<String, float[]>> f = family(models, 20 + models);
            StringBuilder yaml = new StringBuilder("merge_method: model_stock\nbase_model: base\nmodels:\n");
            for (int m = 1; m <= models; m++) yaml.append("  - model: ft").append(m).append('\n');
            Path out = fx.merge(yaml.toString());
            for (String name : f.get(0).keySet()) {
                List<float[]> ws = new ArrayList<>();
                for (int m = 1; m <= models; m++) ws.add(f.get(m).get(name));
                assertNear(modelStock(f.get(0).get(name), ws), MergeFixture.read(out, name), "model_stock N=" + models + " " + name);
            }
            for (int m = 0; m <= models; m++) deleteModel(m == 0 ? "base" : "ft" + m);
        }
    }

    @Test
    void nuslerpMatchesMergekitsFormula() throws IOException {
        List<Map<String, float[]>> f = family(2, 31);
        Path out = fx.merge("merge_method: nuslerp\nmodels:\n  - {model: ft1, parameters: {weight: 0.3}}\n"
                + "  - {model: ft2, parameters: {weight: 0.9}}\n");
        for (String name : f.get(0).keySet()) {
            assertNear(nuslerp(0.9f / 1.2f, f.get(1).get(name), f.get(2).get(name)), MergeFixture.read(out, name), "nuslerp " + name);
        }
    }

    @Test
    void nearswapMatchesMergekitsFormulaExactly() throws IOException {
        List<Map<String, float[]>> f = family(1, 41);
        Path out = fx.merge("merge_method: nearswap\nbase_model: base\nparameters: {t: 0.001}\nmodels:\n  - model: ft1\n");
        for (String name : f.get(0).keySet()) {
            float[] a = f.get(0).get(name), b = f.get(1).get(name), expected = new float[a.length];
            for (int i = 0; i < a.length; i++) {
                float w = Math.min(1f, Math.max(0f, 0.001f / Math.max(Math.abs(a[i] - b[i]), 1e-6f)));
                expected[i] = w * b[i] + (1 - w) * a[i];
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(expected, MergeFixture.read(out, name), name);
        }
    }

    private void deleteModel(String name) throws IOException {
        try (var files = java.nio.file.Files.walk(dir.resolve(name))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) java.nio.file.Files.delete(p);
        }
    }
}

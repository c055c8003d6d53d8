package dev.amalgam.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class MergeAnalysisTest {

    /** A statistics record with the given sums (2 models). */
    static TensorStatistics stats(String name, long n, double baseSq, double d1, double d2, double dot, long conflicts,
                                  double[] kept, double mergedDelta) {
        return new TensorStatistics(name, dev.amalgam.config.LayerPosition.layerIndex(name), TensorKind.of(name), n, baseSq,
                new double[] {baseSq + d1, baseSq + d2}, new double[] {d1, d2}, new double[] {d1, dot, dot, d2}, conflicts, n,
                kept, 0, mergedDelta, new double[] {d1 / 4, d2 / 4});
    }

    @Test
    void groupsSumTheirTensorsBeforeTakingRoots() {
        TensorStatistics q = stats("model.layers.0.self_attn.q_proj.weight", 100, 16, 4, 9, 3, 10, new double[] {0.2, 0.4}, 1);
        TensorStatistics up = stats("model.layers.0.mlp.up_proj.weight", 300, 48, 12, 3, -3, 30, new double[] {0.6, 0.4}, 3);
        TensorStatistics emb = stats("model.embed_tokens.weight", 50, 36, 1, 1, 1, 0, null, 0);
        MergeAnalysis a = MergeAnalysis.of("ties", "base", List.of("a", "b"), List.of(q, up, emb));

        LayerSummary layer0 = a.byLayer().stream().filter(s -> s.layer() == 0).findFirst().orElseThrow();
        assertEquals(400, layer0.elements());
        // ‖δ_a‖ / ‖θ0‖ over the layer = sqrt(4 + 12) / sqrt(16 + 48)
        assertEquals(Math.sqrt(16) / Math.sqrt(64), layer0.relativeNorm()[0], 1e-15);
        assertEquals(Math.sqrt(12) / Math.sqrt(64), layer0.relativeNorm()[1], 1e-15);
        // cos = (3 − 3) / (sqrt(16)·sqrt(12)) = 0
        assertEquals(0, layer0.cosine(0, 1), 1e-15);
        assertEquals(1, layer0.cosine(0, 0), 1e-15);
        assertEquals(40.0 / 400, layer0.conflictRate(), 1e-15);
        // kept fractions weighted by elements: (0.2·100 + 0.6·300) / 400 = 0.5
        assertArrayEquals(new double[] {0.5, 0.4}, layer0.keptFraction(), 1e-15);
        assertEquals(Math.sqrt(4) / Math.sqrt(64), layer0.changeVsBase(), 1e-15);

        LayerSummary attn = a.group(0, TensorKind.ATTENTION);
        assertNotNull(attn);
        assertEquals(3 / (2.0 * 3), attn.cosine(0, 1), 1e-15);
        assertNull(a.group(0, TensorKind.NORM));

        LayerSummary outside = a.byLayer().getFirst();
        assertEquals(-1, outside.layer(), "tensors outside layers come first");
        assertNull(outside.keptFraction(), "no tensor of the group was sparsified");
        assertEquals(3, a.byLayerAndKind().size(), "2 kinds in layer 0, 1 outside layers");
        assertEquals(LayerSummary.WHOLE_MODEL, a.wholeModel().layer());
        assertEquals(450, a.wholeModel().elements());
        assertTrue(a.merged());
    }

    @Test
    void zeroTaskVectorsGiveNaNCosineAndZeroNorm() {
        TensorStatistics z = stats("model.layers.0.mlp.up_proj.weight", 10, 4, 0, 0, 0, 0, null, 0);
        LayerSummary s = MergeAnalysis.of("ties", "b", List.of("a", "b"), List.of(z)).wholeModel();
        assertEquals(0, s.relativeNorm()[0]);
        assertTrue(Double.isNaN(s.cosine(0, 1)));
    }
}

package dev.amalgam.config;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LayerPositionTest {

    private static List<String> decoder(int layers) {
        List<String> names = new ArrayList<>(List.of("model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"));
        for (int i = 0; i < layers; i++) {
            names.add("model.layers." + i + ".mlp.down_proj.weight");
            names.add("model.layers." + i + ".self_attn.q_proj.weight");
            names.add("model.layers." + i + ".input_layernorm.weight");
        }
        return names;
    }

    @Test
    void layerIndexNeedsAWholeContainerComponentFollowedByIndexAndDot() {
        assertEquals(3, LayerPosition.layerIndex("model.layers.3.mlp"));
        assertEquals(11, LayerPosition.layerIndex("transformer.h.11.attn.c_attn.weight"));
        assertEquals(2, LayerPosition.layerIndex("encoder.block.2.layer.0.SelfAttention.q.weight")); // first match
        assertEquals(5, LayerPosition.layerIndex("blocks.5.norm1.weight"));
        assertEquals(7, LayerPosition.layerIndex("x.layer.7.y"));
        assertEquals(-1, LayerPosition.layerIndex("model.sublayers.3.mlp"));   // not a whole component
        assertEquals(-1, LayerPosition.layerIndex("model.layers_3.mlp"));
        assertEquals(-1, LayerPosition.layerIndex("model.layers.3"));           // no dot after the index
        assertEquals(-1, LayerPosition.layerIndex("model.layers.x3.mlp"));
        assertEquals(-1, LayerPosition.layerIndex("model.embed_tokens.weight"));
        assertEquals(-1, LayerPosition.layerIndex("lm_head.weight"));
        assertEquals(4, LayerPosition.layerIndex("model.layers.a.layers.4.w")); // skips a non-numeric match
    }

    @Test
    void tIsIndexOverLayerCountMinusOne() {
        LayerPosition p = LayerPosition.of(decoder(5));
        assertEquals(5, p.layerCount());
        assertEquals(0.0, p.t("model.layers.0.mlp.down_proj.weight"));
        assertEquals(0.25, p.t("model.layers.1.mlp.down_proj.weight"));
        assertEquals(0.75, p.t("model.layers.3.self_attn.q_proj.weight"));
        assertEquals(1.0, p.t("model.layers.4.input_layernorm.weight"));
    }

    @Test
    void tensorsOutsideLayersAreAtZero() {
        LayerPosition p = LayerPosition.of(decoder(4));
        assertEquals(0.0, p.t("model.embed_tokens.weight"));
        assertEquals(0.0, p.t("lm_head.weight"));
        assertEquals(0.0, p.t("model.norm.weight"));
    }

    @Test
    void singleLayerModelIsAtOne() {
        LayerPosition p = LayerPosition.of(decoder(1));
        assertEquals(1, p.layerCount());
        assertEquals(1.0, p.t("model.layers.0.mlp.down_proj.weight"));
        assertEquals(0.0, p.t("lm_head.weight"));
    }

    @Test
    void countIsOfDistinctIndices() {
        // indices 0, 2, 4 → 3 distinct layers: t = i/2 (non-contiguous indices are not renumbered)
        LayerPosition p = LayerPosition.of(List.of("m.layers.0.a.w", "m.layers.2.a.w", "m.layers.4.a.w", "m.layers.4.b.w"));
        assertEquals(3, p.layerCount());
        assertEquals(1.0, p.t("m.layers.2.a.w"));
        assertEquals(2.0 / 3.0, LayerPosition.ofLayerCount(4).t("m.layers.2.a.w"));
    }
}

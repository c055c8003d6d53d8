package dev.amalgam.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.amalgam.config.ConfigFixtures.parse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterResolverTest {

    private static final String MLP = "model.layers.1.mlp.down_proj.weight";
    private static final String ATTN = "model.layers.1.self_attn.q_proj.weight";
    private static final String NORM = "model.layers.1.input_layernorm.weight";
    private static final String EMBED = "model.embed_tokens.weight";
    private static final String HEAD = "lm_head.weight";

    /** A 3-layer model: layer 1 is at t = 0.5. */
    private static final LayerPosition LAYERS = LayerPosition.of(List.of(
            EMBED, HEAD, "model.layers.0.mlp.down_proj.weight", MLP, "model.layers.2.mlp.down_proj.weight"));

    private static final MergeConfig CONFIG = parse("""
            merge_method: ties
            base_model: base
            parameters:
              weight: 0.5
              lambda: [1.0, 2.0]
              normalize: [{filter: lm_head, value: false}]
              density:
                - filter: self_attn
                  value: 0.6
            models:
              - model: base
              - model: a
                parameters:
                  density:
                    - filter: mlp
                      value: 0.3
                  weight: [0.0, 1.0]
              - model: b
                parameters:
                  density:
                    - filter: mlp
                      value: [0.2, 0.4, 1.0]
                    - value: 0.9
            """);

    private static double number(String param, int model, String tensor) {
        ModelRef m = model < 0 ? null : CONFIG.models().get(model);
        return CONFIG.parameters().number(param, m, tensor, LAYERS.t(tensor));
    }

    @Test
    void modelLevelWinsThenTopLevelThenDefault() {
        assertEquals(0.3, number("density", 1, MLP));   // models[1] filter matches
        assertEquals(0.6, number("density", 1, ATTN));  // models[1] no match → top level filter matches
        assertEquals(1.0, number("density", 1, NORM));  // no match anywhere → default 1.0
        assertEquals(1.0, number("density", 1, EMBED));
    }

    @Test
    void catchAllEntryStopsTheFallThrough() {
        assertEquals(0.4, number("density", 2, MLP), 0.0);  // nested 3-point gradient at t = 0.5
        assertEquals(0.2, number("density", 2, "model.layers.0.mlp.down_proj.weight"));
        assertEquals(0.9, number("density", 2, ATTN)); // the entry without filter wins before the top level
        assertEquals(0.9, number("density", 2, HEAD));
    }

    @Test
    void baseAndNullModelSkipTheModelLevel() {
        assertEquals(0.6, number("density", 0, ATTN));
        assertEquals(0.6, number("density", -1, ATTN));
        assertEquals(1.0, number("density", -1, MLP));
    }

    @Test
    void gradientsUseLayerPositionAndOutsideLayersTakeTheFirstPoint() {
        assertEquals(0.5, number("weight", 1, MLP));     // [0, 1] at t = 0.5
        assertEquals(0.0, number("weight", 1, EMBED));   // t = 0
        assertEquals(0.0, number("weight", 1, HEAD));
        assertEquals(1.0, number("weight", 1, "model.layers.2.mlp.down_proj.weight"));
        assertEquals(0.5, number("weight", 2, MLP));     // top-level scalar
        assertEquals(1.5, number("lambda", -1, MLP));    // global gradient
        assertEquals(1.0, number("lambda", 1, EMBED));   // a model ref is ignored for globals
    }

    @Test
    void globalFilteredBoolFallsThroughToTheDefault() {
        ParameterResolver p = CONFIG.parameters();
        assertFalse(p.bool("normalize", null, HEAD, 0));
        assertTrue(p.bool("normalize", null, MLP, 0.5)); // ties default: true
        assertEquals("sum", p.string("consensus_method", null, MLP, 0.5));
        assertEquals("tensor", p.string("density_scope", null, MLP, 0.5));
        assertFalse(p.bool("allow_nonfinite", null, MLP, 0.5));
        assertFalse(p.bool("rescale", null, MLP, 0.5));
        assertEquals("l1", p.string("rescale_mode", null, MLP, 0.5));
        assertEquals(0L, p.randomSeed());
    }

    @Test
    void tensorViewGivesTheSameValues() {
        ParameterResolver.TensorParameters view = CONFIG.parameters().forTensor(MLP, 0.5);
        assertEquals(0.3, view.number("density", CONFIG.models().get(1)));
        assertTrue(view.bool("normalize", null));
    }

    @Test
    void explicitnessAndVariation() {
        ParameterResolver p = CONFIG.parameters();
        ModelRef a = CONFIG.models().get(1);
        assertTrue(p.isExplicit("density", a));
        assertFalse(p.isExplicit("rescale", a));
        assertTrue(p.variesByTensor("density", a));
        assertTrue(p.variesByTensor("lambda", null));
        assertFalse(p.variesByTensor("consensus_method", null));
    }

    @Test
    void requiredValueUnsetForATensorNamesKeyAndTensor() {
        MergeConfig c = parse("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: a
                    parameters:
                      weight: [{filter: mlp, value: 1.0}]
                """);
        ParameterResolver p = c.parameters();
        ModelRef a = c.models().get(0);
        assertEquals(1.0, p.number("weight", a, MLP, 0.5));
        ConfigException e = assertThrows(ConfigException.class, () -> p.number("weight", a, ATTN, 0.5));
        assertEquals("models[0].parameters.weight", e.keyPath());
        assertTrue(e.getMessage().contains(ATTN), e.getMessage());
    }

    @Test
    void undeclaredOrMistypedParameterIsAProgrammingError() {
        ParameterResolver p = CONFIG.parameters();
        assertThrows(IllegalArgumentException.class, () -> p.number("gamma", null, MLP, 0));
        assertThrows(IllegalArgumentException.class, () -> p.number("normalize", null, MLP, 0));
        assertThrows(IllegalArgumentException.class, () -> p.bool("lambda", null, MLP, 0));
    }

    @Test
    void dareDefaultsAndSeed() {
        MergeConfig c = parse("""
                merge_method: dare_linear
                base_model: base
                parameters: {random_seed: 7}
                models:
                  - model: a
                    parameters: {weight: 1, density: 0.66}
                """);
        assertEquals(7L, c.parameters().randomSeed());
        assertEquals(0.66, c.parameters().number("density", c.models().get(0), "x", 0));
        assertTrue(c.parameters().bool("rescale", null, "x", 0));
        assertFalse(c.parameters().bool("normalize", null, "x", 0));
        assertFalse(c.parameters().bool("int8_mask", null, "x", 0));
    }
}

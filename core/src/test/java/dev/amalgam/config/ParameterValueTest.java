package dev.amalgam.config;

import dev.amalgam.config.ParameterValue.Filtered;
import dev.amalgam.config.ParameterValue.Gradient;
import dev.amalgam.config.ParameterValue.Scalar;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParameterValueTest {

    private static double num(ParameterValue v, double t) {
        return (Double) v.evaluate("model.layers.0.mlp.up_proj.weight", t);
    }

    @Test
    void scalarIsItselfEverywhere() {
        Scalar s = new Scalar(0.5);
        assertEquals(0.5, s.evaluate("anything", 0.3));
        assertEquals(7L, new Scalar(7L).evaluate("x", 1.0));
        assertEquals(3.0, new Scalar(3).evaluate("x", 1.0)); // Integer becomes Double
        assertFalse(s.variesByTensor());
    }

    @Test
    void onePointGradientIsConstant() {
        Gradient g = new Gradient(List.of(0.7));
        assertEquals(0.7, num(g, 0.0));
        assertEquals(0.7, num(g, 0.5));
        assertEquals(0.7, num(g, 1.0));
        assertFalse(g.variesByTensor());
    }

    @Test
    void twoPointGradientInterpolates() {
        Gradient g = new Gradient(List.of(0.0, 1.0));
        assertEquals(0.0, num(g, 0.0));
        assertEquals(0.5, num(g, 0.5));
        assertEquals(1.0, num(g, 1.0));
        Gradient h = new Gradient(List.of(0.2, 0.8));
        // s = 0.25, i0 = 0, f = 0.25: 0.75·0.2 + 0.25·0.8 = 0.35 (exactly the double expression)
        assertEquals(0.75 * 0.2 + 0.25 * 0.8, num(h, 0.25), 0.0);
        assertEquals(0.35, num(h, 0.25), 1e-15);  // §1.1 gradients interpolate in double (§1.3: double arithmetic, rounding only)
    }

    @Test
    void fivePointGradientHandComputed() {
        Gradient g = new Gradient(List.of(0.0, 0.1, 0.5, 0.9, 1.0));
        // t = 0.3: s = 1.2 (1.2000000000000002 in double), i0 = 1, i1 = 2, f ≈ 0.2: 0.8·0.1 + 0.2·0.5 = 0.18
        double s = 0.3 * 4;
        double f = s - 1;
        assertEquals((1 - f) * 0.1 + f * 0.5, num(g, 0.3), 0.0);
        assertEquals(0.18, num(g, 0.3), 1e-15);  // §1.1 (double)
        assertEquals(0.0, num(g, 0.0));
        assertEquals(0.9, num(g, 0.75));          // s = 3 exactly: f = 0, v[3]
        assertEquals(0.95, num(g, 0.875), 1e-15); // §1.1 (double); s = 3.5: halfway between 0.9 and 1.0
        assertEquals(1.0, num(g, 1.0));           // s = 4: i0 = i1 = 4
        assertTrue(g.variesByTensor());
    }

    @Test
    void nonNumberGradientPicksByTruncatedIndex() {
        Gradient g = new Gradient(List.of(true, false, true));
        assertEquals(true, g.evaluate("x", 0.0));
        assertEquals(true, g.evaluate("x", 0.49));  // (int)(0.98) = 0
        assertEquals(false, g.evaluate("x", 0.5));  // (int)(1.0) = 1
        assertEquals(false, g.evaluate("x", 0.99));
        assertEquals(true, g.evaluate("x", 1.0));
        Gradient c = new Gradient(List.of("sum", "count"));
        assertEquals("sum", c.evaluate("x", 0.99));
        assertEquals("count", c.evaluate("x", 1.0));
    }

    @Test
    void gradientRejectsMixedPointsAndEmptyLists() {
        assertThrows(IllegalArgumentException.class, () -> new Gradient(List.of(1.0, "a")));
        assertThrows(IllegalArgumentException.class, () -> new Gradient(List.of()));
    }

    @Test
    void filteredListTakesFirstMatchingEntry() {
        Filtered f = new Filtered(List.of(
                new Filtered.Entry("self_attn", new Scalar(0.1)),
                new Filtered.Entry("mlp", new Gradient(List.of(0.0, 1.0))),
                new Filtered.Entry("layers", new Scalar(0.3))));
        assertEquals(0.1, f.evaluate("model.layers.2.self_attn.q_proj.weight", 0.5));
        assertEquals(0.5, f.evaluate("model.layers.2.mlp.up_proj.weight", 0.5)); // nested gradient
        assertEquals(0.3, f.evaluate("model.layers.2.input_layernorm.weight", 0.5));
        assertNull(f.evaluate("lm_head.weight", 0.0)); // no match: unset at this level
    }

    @Test
    void filterMatchingIsCaseSensitiveAndStarOrAbsentMatchesAll() {
        Filtered f = new Filtered(List.of(new Filtered.Entry("MLP", new Scalar(1.0)), new Filtered.Entry("*", new Scalar(2.0))));
        assertEquals(2.0, f.evaluate("model.layers.0.mlp.up_proj.weight", 0));
        assertEquals(1.0, f.evaluate("model.layers.0.MLP.up_proj.weight", 0));
        Filtered any = new Filtered(List.of(new Filtered.Entry(null, new Scalar(3.0))));
        assertEquals(3.0, any.evaluate("whatever", 0));
        assertFalse(any.variesByTensor());
        assertTrue(f.variesByTensor());
    }
}

package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the GTA family reports per tensor (kept fractions per model and overall, k = 0 warnings) and the
 * sparsifier edges by hand: counts are (long)(density·n) (§1.5), so every expected fraction is exact.
 */
class GtaReportTest {

    @TempDir
    Path dir;
    MergeFixture fx;

    @BeforeEach
    void models() throws IOException {
        fx = new MergeFixture(dir);
        fx.model("base", "w", HandComputedMergeTest.BASE);
        fx.model("ft1", "w", HandComputedMergeTest.FT1);
        fx.model("ft2", "w", HandComputedMergeTest.FT2);
    }

    private MergeReport run(String yaml) throws IOException {
        return fx.run(yaml, dir.resolve("out-" + System.nanoTime()));
    }

    @Test
    void tiesReportsTheKeptFractionOfEachModelAndTheirMean() throws IOException {
        MergeReport r = run("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.6}}
                  - {model: ft2, parameters: {weight: 1.0, density: 0.2}}
                """);
        TensorReport w = r.tensors().getFirst();
        assertEquals("w", w.name());
        assertEquals(5, w.elements());
        // k1 = (long)(0.6·5) = 3, k2 = (long)(0.2·5) = 1.
        assertArrayEquals(new double[] {0.6, 0.2}, w.keptPerModel(), 0);
        assertEquals(0.4, w.keptDensity(), 1e-15);
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void taskArithmeticReportsNoPerModelFractions() throws IOException {
        TensorReport w = run("""
                merge_method: task_arithmetic
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0}}
                  - {model: ft2, parameters: {weight: 1.0}}
                """).tensors().getFirst();
        assertNull(w.keptPerModel());
        assertEquals(1.0, w.keptDensity(), 0);
    }

    @Test
    void densityOneKeepsEverythingAndDensityZeroWarns() throws IOException {
        MergeReport r = run("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 1.0}}
                  - {model: ft2, parameters: {weight: 1.0, density: 0.1}}
                """);
        // k2 = (long)(0.1·5) = 0: ft2 keeps nothing and the merge says so; ft1 is untrimmed.
        assertArrayEquals(new double[] {1.0, 0.0}, r.tensors().getFirst().keptPerModel(), 0);
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().getFirst().contains("model ft2, tensor w: density 0.1 keeps nothing (k = 0)"),
                r.warnings().toString());
        assertArrayEquals(HandComputedMergeTest.FT1, MergeFixture.read(r.output(), "w"));
    }

    @Test
    void dareDensityZeroDropsEveryElementWithAWarning() throws IOException {
        MergeReport r = run("""
                merge_method: dare_linear
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.0}}
                parameters: {random_seed: 1}
                """);
        assertArrayEquals(new double[] {0.0}, r.tensors().getFirst().keptPerModel(), 0);
        assertTrue(r.warnings().getFirst().contains("model ft1, tensor w: density 0.0 drops every element"),
                r.warnings().toString());
        assertArrayEquals(HandComputedMergeTest.BASE, MergeFixture.read(r.output(), "w"));
    }

    @Test
    void breadcrumbsClampsTheTopSoTheBandFitsTheTensor() throws IOException {
        MergeReport r = run("""
                merge_method: breadcrumbs
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.8, gamma: 0.4}}
                """);
        // n = 5, target = 4, top = 2 > n - target = 1: drop only the largest |δ| (.5 at 0), keep the other four.
        assertArrayEquals(new float[] {1f, 0.75f, 1.125f, 1f, 0.625f}, MergeFixture.read(r.output(), "w"));
        assertArrayEquals(new double[] {0.8}, r.tensors().getFirst().keptPerModel(), 0);
    }

    @Test
    void modelScopeWithDensityZeroWarnsOncePerModel() throws IOException {
        MergeReport r = run("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.1}}
                parameters: {density_scope: model}
                """);
        assertEquals(1, r.warnings().size(), r.warnings().toString());
        assertTrue(r.warnings().getFirst().contains("model ft1: density 0.1 keeps nothing of its 5 elements (density_scope: model)"),
                r.warnings().toString());
        assertArrayEquals(HandComputedMergeTest.BASE, MergeFixture.read(r.output(), "w"));
    }
}

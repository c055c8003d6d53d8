package dev.amalgam.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MethodRegistryTest {

    private static ParamSpec param(String method, String name) {
        return MethodRegistry.get(method).parameter(name).orElseThrow(() -> new AssertionError(method + "." + name));
    }

    @Test
    void tableHasEveryMethodInOrder() {
        assertEquals(List.of("linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
                "breadcrumbs_ties", "della", "della_linear", "sce", "consensus_ta", "consensus_ties", "tsv_m", "iso_c",
                "iso_cts", "slerp", "nuslerp", "multislerp", "karcher", "model_stock", "nearswap", "passthrough",
                "arcee_fusion", "ram", "ramplus_tl", "fisher", "regmean", "pcb", "widen"), MethodRegistry.names());
        assertEquals(List.of("linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
                "breadcrumbs_ties", "della", "della_linear", "sce", "consensus_ta", "consensus_ties", "tsv_m", "iso_c",
                "iso_cts", "slerp", "nuslerp", "multislerp", "karcher", "model_stock", "nearswap", "passthrough", "arcee_fusion",
                "ram", "ramplus_tl"), MethodRegistry.implementedNames());
        assertTrue(MethodRegistry.find("ties_merging").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> MethodRegistry.get("Slerp"));
    }

    @Test
    void everyMethodAcceptsSeedAndNonfinite() {
        for (MethodSpec m : MethodRegistry.all()) {
            ParamSpec seed = m.parameter("random_seed").orElseThrow();
            assertEquals(ParamKind.INTEGER, seed.kind());
            assertEquals(0L, seed.defaultValue());
            assertEquals(ParamScope.GLOBAL, seed.scope());
            assertEquals(false, m.parameter("allow_nonfinite").orElseThrow().defaultValue());
            ParamSpec int8 = m.parameter("int8_mask").orElseThrow();
            assertTrue(int8.ignored(), m.name() + ": int8_mask is accepted without effect, as in mergekit");
            if (m.declares("rescale")) assertTrue(m.declares("rescale_mode"), m.name());
        }
    }

    @Test
    void gtaFamilyIsExactlyTheSpecList() {
        List<String> gta = MethodRegistry.all().stream().filter(MethodSpec::gta).map(MethodSpec::name).toList();
        assertEquals(List.of("task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties",
                "della", "della_linear", "consensus_ta", "consensus_ties"), gta);
    }

    @Test
    void defaultsFollowTheTable() {
        assertTrue(param("linear", "weight").required());
        assertTrue(param("linear", "weight").perModel());
        assertEquals(true, param("linear", "normalize").defaultValue());
        assertEquals(false, param("task_arithmetic", "normalize").defaultValue());
        assertEquals(1.0, param("task_arithmetic", "lambda").defaultValue());
        assertEquals(true, param("ties", "normalize").defaultValue());
        assertEquals(1.0, param("ties", "density").defaultValue());
        assertTrue(param("ties", "density").fraction());
        assertEquals(List.of("tensor", "model"), param("ties", "density_scope").choices());
        assertEquals(List.of("sum", "count"), param("ties", "consensus_method").choices());
        assertEquals(true, param("dare_linear", "rescale").defaultValue());
        assertFalse(MethodRegistry.get("dare_linear").electsSigns());
        assertTrue(MethodRegistry.get("dare_ties").electsSigns());
        assertEquals(0.01, param("breadcrumbs", "gamma").defaultValue());
        assertTrue(param("breadcrumbs", "gamma").perModel());
        assertEquals(0.15, param("della", "epsilon").defaultValue());
        assertEquals(true, param("della", "normalize").defaultValue());
        assertEquals(false, param("della_linear", "normalize").defaultValue());
        assertFalse(MethodRegistry.get("della_linear").electsSigns());
        assertEquals(1.0, param("consensus_ta", "weight").defaultValue());
        assertFalse(param("consensus_ta", "weight").required());
        assertEquals(0.4, param("consensus_ta", "lambda_tall").defaultValue());
        assertEquals(2L, param("consensus_ta", "consensus_k").defaultValue());
        assertEquals(0.2, param("consensus_ties", "density").defaultValue());
        assertEquals(false, param("consensus_ties", "normalize").defaultValue());
        assertFalse(MethodRegistry.get("consensus_ta").declares("lambda"));
        assertEquals(List.of(), param("tsv_m", "exclude").defaultValue());
        assertEquals(0.8, param("iso_cts", "common_space_fraction").defaultValue());
        assertTrue(param("slerp", "t").required());
        ParamSpec scale = param("passthrough", "scale");
        assertNull(scale.defaultValue());
        assertFalse(scale.required());
        assertTrue(param("fisher", "fisher_file").required());
        assertTrue(param("ties", "lines").available());
    }

    @Test
    void rescaleModesPerFamily() {
        assertEquals(List.of("l1"), param("ties", "rescale_mode").choices());
        assertEquals(List.of("l1", "inverse_density"), param("dare_ties", "rescale_mode").choices());
        assertEquals(List.of("l1", "inverse_probability"), param("della_linear", "rescale_mode").choices());
        assertEquals(List.of("l1"), param("breadcrumbs_ties", "rescale_mode").choices());
    }

    @Test
    void baseModelRules() {
        assertEquals(BaseModelRule.UNUSED, MethodRegistry.get("linear").baseRule());
        assertTrue(MethodRegistry.get("linear").baseAddedAsInput());
        assertTrue(MethodRegistry.get("karcher").baseAddedAsInput());
        assertEquals(BaseModelRule.REQUIRED, MethodRegistry.get("ties").baseRule());
        assertEquals(BaseModelRule.OPTIONAL, MethodRegistry.get("nuslerp").baseRule());
        assertEquals(BaseModelRule.NONE, MethodRegistry.get("passthrough").baseRule());
        assertEquals(BaseModelRule.UNUSED, MethodRegistry.get("fisher").baseRule());
        assertFalse(MethodRegistry.get("fisher").baseAddedAsInput());
        assertTrue(MethodRegistry.get("widen").laterPhase());
    }

    @Test
    void consensusMethodsRejectMergekitNames() {
        for (String m : List.of("consensus_ta", "consensus_ties")) {
            assertTrue(MethodRegistry.get(m).rejectedParameters().get("lambda").contains("lambda_tall"));
            assertTrue(MethodRegistry.get(m).rejectedParameters().get("k").contains("consensus_k"));
        }
    }

    @Test
    void mergekitsIgnorableParametersAreFlaggedNotDropped() {
        for (String m : List.of("slerp", "model_stock", "karcher", "nearswap", "sce")) {
            ParamSpec w = param(m, "weight");
            assertTrue(w.ignored(), m);
            assertTrue(w.perModel(), m);
            assertFalse(w.required(), m);
            assertTrue(w.ignoredNote().contains("weight"), m);
        }
        for (String m : List.of("linear", "slerp", "nuslerp", "multislerp", "model_stock", "nearswap")) {
            assertTrue(param(m, "density").ignored(), m + ": leftover density");
        }
        // Where a parameter does something it is never flagged.
        assertFalse(param("ties", "density").ignored());
        assertFalse(param("linear", "weight").ignored());
        assertFalse(param("nuslerp", "weight").ignored());
        assertTrue(MethodRegistry.get("tsv_m").parameter("weight").isEmpty(), "not a mergekit method: weight stays an error");
        assertTrue(MethodRegistry.allParameterNames().containsAll(List.of("weight", "density", "t", "int8_mask", "epsilon")));
    }

    @Test
    void inputRolesAndShapePolicies() {
        MethodSpec slerp = MethodRegistry.get("slerp");
        assertEquals(InputRoles.Layout.BASE_FIRST, slerp.inputs().layout());
        assertNull(slerp.inputs().countError(1));
        assertNull(slerp.inputs().countError(0), "a base-only slerp copies the base");
        assertEquals("takes the base plus at most 1 other model; 2 are listed", slerp.inputs().countError(2));
        assertEquals("takes the base plus at least 2 other models; 1 is listed",
                MethodRegistry.get("model_stock").inputs().countError(1));
        assertEquals("takes an optional base plus exactly 2 other models; 3 are listed",
                MethodRegistry.get("nuslerp").inputs().countError(3));
        assertEquals("takes exactly 1 model; 2 are listed", MethodRegistry.get("passthrough").inputs().countError(2));
        assertEquals(InputRoles.Layout.AS_INPUTS, MethodRegistry.get("linear").inputs().layout());
        assertEquals(InputRoles.Layout.AS_INPUTS, MethodRegistry.get("karcher").inputs().layout());
        assertEquals(dev.amalgam.merge.ShapePolicy.CROP_TO_BASE, MethodRegistry.get("ties").shapePolicy());
        for (String m : List.of("linear", "slerp", "nuslerp", "model_stock")) {
            assertEquals(dev.amalgam.merge.ShapePolicy.CROP_TO_COMMON, MethodRegistry.get(m).shapePolicy(), m);
        }
        for (String m : List.of("multislerp", "karcher", "nearswap", "tsv_m", "arcee_fusion", "ram")) {
            assertEquals(dev.amalgam.merge.ShapePolicy.EXACT, MethodRegistry.get(m).shapePolicy(), m);
        }
    }

    @Test
    void implementedExactlyWhenARowHasAMerger() {
        for (MethodSpec m : MethodRegistry.all()) {
            assertEquals(m.implemented(), m.merger() != null, m.name());
            if (m.implemented()) {
                assertTrue(m.newMerger() != m.newMerger(), m.name() + ": one fresh merger per merge (mergers hold per-merge state)");
            } else {
                assertThrows(IllegalStateException.class, m::newMerger, m.name());
            }
        }
    }
}

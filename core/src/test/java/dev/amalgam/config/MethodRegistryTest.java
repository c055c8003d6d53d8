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
                "fisher", "regmean", "pcb", "widen"), MethodRegistry.names());
        assertEquals(List.of("linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
                "breadcrumbs_ties", "tsv_m", "iso_c", "iso_cts", "passthrough"), MethodRegistry.implementedNames());
        assertTrue(MethodRegistry.find("arcee_fusion").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> MethodRegistry.get("ram"));
    }

    @Test
    void everyMethodAcceptsSeedAndNonfinite() {
        for (MethodSpec m : MethodRegistry.all()) {
            ParamSpec seed = m.parameter("random_seed").orElseThrow();
            assertEquals(ParamKind.INTEGER, seed.kind());
            assertEquals(0L, seed.defaultValue());
            assertEquals(ParamScope.GLOBAL, seed.scope());
            assertEquals(false, m.parameter("allow_nonfinite").orElseThrow().defaultValue());
            assertEquals(m.gta(), m.declares("int8_mask"), m.name());
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
        assertFalse(param("ties", "lines").available());
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
}

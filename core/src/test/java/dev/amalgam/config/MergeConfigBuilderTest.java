package dev.amalgam.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The builder goes through the YAML validator: same config, same error messages. */
class MergeConfigBuilderTest {

    private static final Path DIR = Path.of("/tmp/amalgam-builder-test");
    private static final List<String> TENSORS = List.of("model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight",
            "model.layers.3.self_attn.q_proj.weight", "lm_head.weight");

    /** Everything observable of a config: models, dtypes, warnings, every parameter of every model on sample tensors. */
    static List<String> observe(MergeConfig c) {
        List<String> out = new ArrayList<>();
        out.add(c.mergeMethod() + " " + c.models() + " base=" + c.baseModel() + " inputs=" + c.inputs());
        out.add("dtype=" + c.dtype() + " out=" + c.outDtype() + " tok=" + c.tokenizerSource());
        out.add("warnings=" + c.warnings());
        List<ModelRef> refs = new ArrayList<>(c.allModels());
        refs.add(null);
        for (ParamSpec p : c.method().parameters().values()) {
            switch (p.kind()) {
                case STRING_LIST -> out.add(p.name() + "=" + c.parameters().stringList(p.name()));
                case MAPPING -> out.add(p.name() + "=" + c.parameters().mapping(p.name()));
                default -> {
                    for (ModelRef r : refs) {
                        for (String t : TENSORS) {
                            for (double layer : new double[] {0, 0.37, 1}) {
                                out.add(p.name() + "@" + r + "/" + t + "/" + layer + "=" + attempt(() -> c.parameters().value(p.name(), r, t, layer)));
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    private static String attempt(Supplier<Object> s) {
        try {
            return String.valueOf(s.get());
        } catch (RuntimeException e) {
            return "error: " + e.getMessage();
        }
    }

    private static void assertSameAsYaml(MergeConfigBuilder b) {
        MergeConfig built = b.build();
        MergeConfig parsed = MergeConfig.parse(b.toYaml(), DIR, "builder");
        assertEquals(observe(parsed), observe(built), b.toYaml());
    }

    @Test
    void everyImplementedMethodBuildsTheConfigItsYamlParsesTo() {
        assertSameAsYaml(MergeConfig.builder("linear").baseDir(DIR).model("a", m -> m.weight(0.3))
                .model("b", m -> m.weight(ConfigValue.gradient(0.1, 0.9))).normalize(false).dtype(DType.F16));
        assertSameAsYaml(MergeConfig.builder("task_arithmetic").baseDir(DIR).baseModel("base").model("a", m -> m.weight(1))
                .model("b", m -> m.weight(-0.5)).lambda(0.8).outDtype(DType.BF16));
        assertSameAsYaml(MergeConfig.builder("ties").baseDir(DIR).baseModel("base")
                .model("a", m -> m.weight(1).density(ConfigValue.filtered(ConfigValue.when("mlp", ConfigValue.of(0.2)),
                        ConfigValue.when("attn", ConfigValue.gradient(0.1, 0.5, 0.9)), ConfigValue.otherwise(ConfigValue.of(0.7)))))
                .model("b", m -> m.weight(ConfigValue.gradient(0.4, 0.6, 1.0)).density(0.5))
                .weight(0.9).density(0.4).consensusMethod(ConsensusMethod.COUNT).rescale(true).rescaleMode(RescaleMode.L1)
                .randomSeed(42).allowNonfinite(true).tokenizerSource("base"));
        assertSameAsYaml(MergeConfig.builder("ties").baseDir(DIR).baseModel("base").model("a", m -> m.weight(1).density(0.3))
                .model("base").densityScope(DensityScope.MODEL));
        for (String dare : List.of("dare_linear", "dare_ties")) {
            assertSameAsYaml(MergeConfig.builder(dare).baseDir(DIR).baseModel("base").model("a", m -> m.weight(1).density(0.3))
                    .model("b", m -> m.weight(1).density(0.6)).rescaleMode(RescaleMode.INVERSE_DENSITY).randomSeed(-3));
        }
        for (String bc : List.of("breadcrumbs", "breadcrumbs_ties")) {
            assertSameAsYaml(MergeConfig.builder(bc).baseDir(DIR).baseModel("base").model("a", m -> m.weight(1).density(0.3).gamma(0.05))
                    .model("b", m -> m.weight(1).gamma(ConfigValue.gradient(0.01, 0.1))).density(0.8));
        }
        assertSameAsYaml(MergeConfig.builder("tsv_m").baseDir(DIR).baseModel("base").model("a").model("b").alpha(0.7)
                .exclude("embed", "lm_head"));
        assertSameAsYaml(MergeConfig.builder("iso_c").baseDir(DIR).baseModel("base").model("a").model("b"));
        assertSameAsYaml(MergeConfig.builder("iso_cts").baseDir(DIR).baseModel("base").model("a").model("b")
                .commonSpaceFraction(0.6).alpha(1.2));
    }

    /** A wrong config from the builder gets the YAML's message, prefixed by the builder's source name. */
    @Test
    void mistakesGetTheYamlMessages() {
        List<MergeConfigBuilder> wrong = List.of(
                MergeConfig.builder("ties").model("a", m -> m.weight(1)),
                MergeConfig.builder("ties").baseModel("base").model("a", m -> m.weight(1).parameter("gama", ConfigValue.of(0.1))),
                MergeConfig.builder("ties").baseModel("base").model("a", m -> m.density(0.5)),
                MergeConfig.builder("ties").baseModel("base").model("a", m -> m.weight(1).density(-0.5)),
                MergeConfig.builder("ties").baseModel("base").model("a", m -> m.weight(1)).densityScope(DensityScope.MODEL)
                        .density(ConfigValue.gradient(0.1, 0.2)),
                MergeConfig.builder("ties").baseModel("base").model("a", m -> m.weight(1)).consensusMethod(ConsensusMethod.NONE),
                MergeConfig.builder("pcb").baseModel("base").model("a"),
                MergeConfig.builder("tiess").model("a"),
                MergeConfig.builder("linear"),
                MergeConfig.builder("ties").baseModel("base").model("a", m -> m.weight(1)).outDtype(DType.F64));
        for (MergeConfigBuilder b : wrong) {
            ConfigException fromBuilder = assertThrows(ConfigException.class, b::build, b.toYaml());
            ConfigException fromYaml = assertThrows(ConfigException.class, () -> MergeConfig.parse(b.toYaml(), DIR, "builder"));
            assertEquals(fromYaml.getMessage(), fromBuilder.getMessage());
            assertEquals(fromYaml.keyPath(), fromBuilder.keyPath());
        }
        assertEquals("builder: base_model: merge_method `ties` requires a base_model",
                assertThrows(ConfigException.class, wrong.getFirst()::build).getMessage());
        // gamma is breadcrumbs' parameter: on ties mergekit ignores it, and so do both paths, with a warning.
        MergeConfig lenient = MergeConfig.builder("ties").baseModel("base").model("a", m -> m.weight(1).gamma(0.1)).build();
        assertTrue(lenient.warnings().stream().anyMatch(w -> w.startsWith("models[0].parameters.gamma")), lenient.warnings().toString());
        assertThrows(IllegalArgumentException.class, () -> ConfigValue.of(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> ConfigValue.gradient(1, Double.POSITIVE_INFINITY));
    }
}

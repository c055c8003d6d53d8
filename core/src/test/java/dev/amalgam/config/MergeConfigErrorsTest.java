package dev.amalgam.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.amalgam.config.ConfigFixtures.assertRejected;
import static dev.amalgam.config.ConfigFixtures.parse;
import static dev.amalgam.config.ConfigFixtures.ties;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every config error of spec §1.1 / §15: rejected, with the key path in the message. */
class MergeConfigErrorsTest {

    @ParameterizedTest
    @ValueSource(strings = {"lambda", "modells", "foo"})
    void unknownTopLevelKeysAreRejectedWithTheValidKeys(String key) {
        ConfigException e = assertRejected(ties(key + ": 1\n"), "unknown key `" + key + "`",
                "valid keys: models, slices, base_model, merge_method, parameters, dtype, out_dtype, tokenizer_source,"
                        + " tokenizer, chat_template");
        assertEquals(key, e.keyPath());
    }

    @Test
    void misspeltKeysGetADidYouMean() {
        assertRejected(ties("base_modle: x\n"), "unknown key `base_modle`", "did you mean `base_model`?");
        assertRejected(ties("parameters: {lamda: 1}\n"), "parameters.lamda", "did you mean `lambda`?");
        assertRejected("merge_method: tie\nmodels:\n  - model: a\n", "unknown merge_method `tie`", "did you mean `ties`?");
        assertRejected(ties("foo: 1\n"), "unknown key `foo`");
        assertEquals(false, assertRejected(ties("foo: 1\n")).getMessage().contains("did you mean"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"modules"})
    void mergekitKeysAmalgamDoesNotImplementAreRejectedWithWhy(String key) {
        ConfigException e = assertRejected(ties(key + ": 1\n"), "not supported");
        assertEquals(key, e.keyPath());
    }

    /** mergekit's pydantic models drop keys outside its schema: a warning here, never a silent pass or a refusal. */
    @Test
    void keysMergekitIgnoresAreWarningsNamingThePath() {
        MergeConfig c = parse("""
                merge_method: linear
                residual_weight: 0.2
                models:
                  - model: a
                    residual_weight: 0.1
                    parameters: {weight: 1}
                """);
        assertEquals(2, c.warnings().size(), c.warnings().toString());
        assertTrue(c.warnings().contains("residual_weight: has no effect (mergekit accepts it and ignores it too)"),
                c.warnings().toString());
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith("models[0].residual_weight: has no effect")),
                c.warnings().toString());
        // A near miss of it is still a typo error, not a silent warning.
        assertRejected(ties("residual_wieght: 1\n"), "unknown key `residual_wieght`");
    }

    @Test
    void parametersOtherMethodsDeclareAreWarningsAsInMergekit() {
        MergeConfig c = parse("""
                merge_method: linear
                parameters: {int8_mask: true, density: 0.5}
                models:
                  - model: a
                    parameters: {weight: 1, density: 0.3}
                """);
        assertEquals(3, c.warnings().size(), c.warnings().toString());
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith("parameters.int8_mask: `int8_mask` has no effect in `linear`")),
                c.warnings().toString());
        // A parameter only other methods declare (mergekit ignores it too) is a warning as well.
        MergeConfig d = parse("merge_method: linear\nparameters: {t: 0.5}\nmodels:\n  - model: a\n    parameters: {weight: 1}\n");
        assertTrue(d.warnings().stream().anyMatch(w -> w.startsWith("parameters.t: `t` has no effect in merge_method `linear`")),
                d.warnings().toString());
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith("models[0].parameters.density")), c.warnings().toString());
    }

    @Test
    void slicesWarnAboutIgnoredParametersAtEveryLevel() {
        MergeConfig c = parse("""
                slices:
                  - sources:
                      - {model: base, layer_range: [0, 4], parameters: {weight: 0.5}}
                      - {model: a, layer_range: [0, 4]}
                    parameters: {int8_mask: true}
                merge_method: slerp
                base_model: base
                parameters: {t: 0.5, density: 0.3}
                """);
        List<String> w = c.warnings();
        assertTrue(w.stream().anyMatch(x -> x.startsWith("slices[0].sources[0].parameters.weight: `weight` has no effect")), w.toString());
        assertTrue(w.stream().anyMatch(x -> x.startsWith("slices[0].parameters.int8_mask")), w.toString());
        assertTrue(w.stream().anyMatch(x -> x.startsWith("parameters.density")), w.toString());
        assertEquals(40, parse("""
                slices:
                  - sources: [{model: a, layer_range: [0, 24]}]
                  - sources: [{model: a, layer_range: [8, 24]}]
                merge_method: passthrough
                """).outputLayerCount());
    }

    @Test
    void nameOutsideAMultiStageFileIsAWarning() {
        MergeConfig c = parse(ties("name: my-merge\n"));
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith("name: has no effect")), c.warnings().toString());
    }

    @Test
    void torchPrefixedDtypesAreAccepted() {
        MergeConfig c = parse(ties("dtype: torch.float16\nout_dtype: torch.bfloat16\n"));
        assertEquals(dev.amalgam.tensor.DType.F16, c.dtype().orElseThrow());
        assertEquals(dev.amalgam.tensor.DType.BF16, c.outDtype().orElseThrow());
        assertEquals("float16", c.tree().get("dtype").textValue());
        assertRejected(ties("dtype: torch.int8\n"), "dtype", "valid values: bfloat16, float16, float32");
    }

    @Test
    void unknownModelEntryKeyIsRejected() {
        assertRejected("""
                merge_method: linear
                models:
                  - model: a
                    weight: 1.0
                """, "models[0].weight", "unknown key `weight`", "valid keys: model, parameters");
    }

    @Test
    void unknownTopLevelParameterListsTheMethodsParameters() {
        assertRejected(ties("parameters: {foo: 1}\n"), "parameters.foo", "unknown parameter `foo`",
                "weight, density, normalize, rescale, lambda, consensus_method, density_scope");
    }

    @Test
    void unknownPerModelParameterListsThePerModelParameters() {
        assertRejected("""
                merge_method: breadcrumbs
                base_model: base
                models:
                  - model: a
                    parameters: {weight: 1, densty: 0.1}
                """, "models[0].parameters.densty", "valid parameters: weight, density, gamma", "did you mean `density`?");
    }

    @Test
    void globalParameterOnAModelIsAWarning() {
        // mergekit reads global parameters without a model: the per-model value is never used.
        MergeConfig c = parse("""
                merge_method: ties
                base_model: base
                models:
                  - model: a
                    parameters: {weight: 1, normalize: false}
                """);
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith("models[0].parameters.normalize")
                && w.contains("global parameter") && w.contains("top-level `parameters`")), c.warnings().toString());
        assertTrue(c.parameters().bool("normalize", null, "x", 0));
    }

    @Test
    void weightOnSceIsAcceptedAsMergekitDoes() {
        // mergekit's tests put `weight` on sce models and mergekit ignores it: accepted (a warning
        // at merge time), not "unknown parameter".
        assertTrue(MethodRegistry.get("sce").parameters().get("weight").ignored());
    }

    @ParameterizedTest
    @ValueSource(strings = {"slerpp", "ties_merging", "TIES"})
    void unknownMergeMethodIsRejectedWithTheValidMethods(String name) {
        assertRejected("merge_method: " + name + "\nmodels:\n  - model: a\n", "merge_method",
                "unknown merge_method `" + name + "`", "linear, task_arithmetic, ties");
    }

    @Test
    void missingMergeMethodIsRejected() {
        assertRejected("models:\n  - model: a\n", "merge_method: is required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"pcb", "widen"})
    void plannedMethodIsNotAvailableYet(String name) {
        String params = "";
        String top = "";
        assertRejected("merge_method: " + name + "\nbase_model: base\nmodels:\n  - model: a\n" + params + top,
                "merge_method", "`" + name + "` is not available yet", "available now: linear, task_arithmetic, ties,"
                        + " dare_linear, dare_ties, breadcrumbs, breadcrumbs_ties");
    }

    @Test
    void modelListedTwiceIsRejectedComparingResolvedPaths() {
        assertRejected("""
                merge_method: linear
                models:
                  - model: a
                    parameters: {weight: 1}
                  - model: ./x/../a
                    parameters: {weight: 1}
                """, "models[1].model", "listed twice", "models[0] and models[1]");
    }

    @Test
    void missingRequiredBaseIsRejected() {
        assertRejected("""
                merge_method: task_arithmetic
                models:
                  - model: a
                    parameters: {weight: 1}
                """, "base_model", "requires a base_model");
    }

    @Test
    void baseGivenToPassthroughIsAWarning() {
        MergeConfig c = parse("merge_method: passthrough\nbase_model: b\nmodels:\n  - model: a\n");
        assertTrue(c.warnings().stream().anyMatch(w -> w.startsWith("base_model: has no effect")), c.warnings().toString());
        assertRejected("merge_method: passthrough\nmodels:\n  - model: a\n  - model: b\n", "models", "exactly 1 model",
                "use `slices`");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dtype", "out_dtype"})
    void dtypeOutsideTheThreeIsRejected(String key) {
        assertRejected(ties(key + ": fp16\n"), key, "\"fp16\"", "valid values: bfloat16, float16, float32");
        assertRejected(ties(key + ": float64\n"), key, "valid values: bfloat16, float16, float32");
    }

    @Test
    void badTokenizerSectionsAndChatTemplatesAreRejected() {
        assertRejected(ties("tokenizer: {source: nowhere}\n"), "tokenizer.source", "`nowhere` is not one of the merged models");
        assertRejected(ties("tokenizer: {tokens: {x: {source: {kind: other}}}}\n"), "tokenizer.tokens.x.source.kind", "zero or model_token");
        assertRejected(ties("tokenizer: [1]\n"), "tokenizer", "must be a mapping");
        assertRejected(ties("chat_template: nope\n"), "chat_template", "valid: auto, chatml, llama3, alpaca, mistral");
    }

    @Test
    void tokenizerBaseWithoutBaseIsRejected() {
        assertRejected("merge_method: linear\ntokenizer_source: base\nmodels:\n  - model: a\n    parameters: {weight: 1}\n",
                "tokenizer_source", "needs a base_model");
    }

    @Test
    void requiredPerModelParameterMissingOnANonBaseModel() {
        assertRejected("""
                merge_method: ties
                base_model: base
                models:
                  - model: base
                  - model: a
                    parameters: {weight: 1}
                  - model: b
                    parameters: {density: 0.5}
                """, "models[2].parameters.weight", "required parameter `weight` is missing for model `b`");
    }

    @Test
    void linearWithAnUnlistedBaseNeedsATopLevelWeight() {
        assertRejected("""
                merge_method: linear
                base_model: base
                models:
                  - model: a
                    parameters: {weight: 1}
                """, "parameters.weight", "base_model `base` is not listed", "extra input");
    }

    @Test
    void linearBaseListedIsAnInputAndNeedsItsWeight() {
        assertRejected("""
                merge_method: linear
                base_model: base
                models:
                  - model: base
                  - model: a
                    parameters: {weight: 1}
                """, "models[0].parameters.weight", "missing for model `base`");
    }

    @Test
    void negativeDensityIsRejected() {
        assertRejected(ties("parameters: {density: -0.1}\n"), "parameters.density", "fraction >= 0", "-0.1");
    }

    @Test
    void negativeDensityInsideAGradientOrFilterIsRejected() {
        assertRejected(ties("parameters: {density: [0.5, -0.1]}\n"), "parameters.density[1]", "fraction >= 0");
        assertRejected(ties("parameters:\n  density:\n    - filter: mlp\n      value: -1\n"),
                "parameters.density[0].value", "fraction >= 0");
    }

    @Test
    void nanDensityIsRejected() {
        // Jackson's YAML reader has no NaN; the parse error still names the key
        assertRejected(ties("parameters: {density: .nan}\n"), "density", "NaN");
    }

    @Test
    void negativeGammaIsRejected() {
        assertRejected("""
                merge_method: breadcrumbs
                base_model: base
                models:
                  - model: a
                    parameters: {weight: 1, gamma: -0.01}
                """, "models[0].parameters.gamma", "fraction >= 0");
    }

    @Test
    void modelScopeWithAGradientDensityIsRejected() {
        assertRejected(ties("parameters: {density_scope: model, density: [0.2, 0.8]}\n"),
                "parameters.density", "density_scope `model`", "varies by tensor");
    }

    @Test
    void modelScopeWithAFilteredPerModelDensityIsRejected() {
        assertRejected("""
                merge_method: ties
                base_model: base
                parameters: {density_scope: model}
                models:
                  - model: a
                    parameters: {weight: 1, density: 0.3}
                  - model: b
                    parameters:
                      weight: 1
                      density: [{filter: mlp, value: 0.2}, {value: 0.4}]
                """, "models[1].parameters.density", "varies by tensor");
    }

    @Test
    void densityScopeMustBeAScalarChoice() {
        assertRejected(ties("parameters: {density_scope: global}\n"), "parameters.density_scope",
                "valid values: tensor, model");
        assertRejected(ties("parameters: {density_scope: [tensor, model]}\n"), "parameters.density_scope",
                "no gradient or filtered list");
    }

    @Test
    void consensusMethodsRejectLambdaAndOldK() {
        String head = "merge_method: consensus_ta\nbase_model: base\nmodels:\n  - model: a\n";
        assertRejected(head + "parameters: {lambda: 0.5}\n", "parameters.lambda", "`alpha`", "`lambda_tall`");
        assertRejected(head + "    parameters: {lambda: 1.0}\n", "models[0].parameters.lambda", "`alpha`", "`lambda_tall`");
        assertRejected(head + "parameters: {k: 1}\n", "parameters.k", "`consensus_k`");
        assertRejected(head.replace("consensus_ta", "consensus_ties") + "parameters: {k: 1}\n", "parameters.k",
                "`consensus_k`");
    }

    @Test
    void wrongValueTypesAreRejected() {
        assertRejected(ties("").replace("weight: 0.5, density", "weight: \"0.5\", density"),
                "models[1].parameters.weight", "must be a number", "string \"0.5\"");
        assertRejected(ties("parameters: {random_seed: 1.5}\n"), "parameters.random_seed", "must be an integer");
        assertRejected(ties("parameters: {random_seed: \"42\"}\n"), "parameters.random_seed", "must be an integer");
        assertRejected(ties("parameters: {random_seed: 18446744073709551616}\n"), "parameters.random_seed", "64 bits");
        assertRejected(ties("parameters: {normalize: 1}\n"), "parameters.normalize", "must be true or false");
        assertRejected(ties("parameters: {consensus_method: majority}\n"), "parameters.consensus_method",
                "valid values: sum, count");
        assertRejected(ties("parameters: {allow_nonfinite: \"no\"}\n"), "parameters.allow_nonfinite", "true or false");
        assertRejected(ties("parameters: {weight: [true, false]}\n"), "parameters.weight", "must be a number");
    }

    @Test
    void rescaleModeChoicesDependOnTheMethod() {
        assertRejected(ties("parameters: {rescale: true, rescale_mode: inverse_density}\n"),
                "parameters.rescale_mode", "valid values: l1");
        assertRejected("""
                merge_method: dare_ties
                base_model: base
                parameters: {rescale_mode: inverse_probability}
                models:
                  - model: a
                    parameters: {weight: 1}
                """, "parameters.rescale_mode", "valid values: l1, inverse_density");
    }

    @Test
    void bareMappingAndMixedListsAreRejected() {
        assertRejected(ties("parameters: {lambda: {mlp: 1.0}}\n"), "parameters.lambda", "bare mapping");
        assertRejected(ties("parameters: {lambda: [0.5, {filter: mlp, value: 1.0}]}\n"), "parameters.lambda", "mixes");
        assertRejected(ties("parameters: {consensus_method: [sum, 1]}\n"), "parameters.consensus_method", "mixes");
        assertRejected(ties("parameters: {lambda: []}\n"), "parameters.lambda", "empty list");
        assertRejected(ties("parameters: {lambda: [[0.1, 0.2]]}\n"), "parameters.lambda[0]", "list inside a gradient");
        assertRejected(ties("parameters: {lambda: }\n"), "parameters.lambda", "has no value");
    }

    @Test
    void filteredEntriesOnlyHaveFilterAndValue() {
        assertRejected(ties("parameters:\n  lambda:\n    - {filter: mlp, value: 1, weight: 2}\n"),
                "parameters.lambda[0]", "unknown key `weight`", "valid keys: filter, value");
        assertRejected(ties("parameters:\n  lambda:\n    - {filter: mlp}\n"), "parameters.lambda[0]", "needs a `value`");
        assertRejected(ties("parameters:\n  lambda:\n    - {filter: 3, value: 1}\n"), "parameters.lambda[0].filter",
                "must be a string");
    }

    @Test
    void linesTakesOnlyAlphaAndBeta() {
        assertRejected(ties("parameters: {lines: {alpha: 0.5, gamma: 0.5}}\n"), "parameters.lines", "unknown key `gamma`");
        assertRejected(ties("parameters: {lines: [0.5, 0.5]}\n"), "parameters.lines", "must be a mapping");
    }

    @Test
    void structuralErrors() {
        assertRejected("", "the config is empty");
        assertRejected("- model: a\n", "must be a mapping");
        assertRejected("merge_method: linear\n", "models: is required");
        assertRejected("merge_method: linear\nmodels: []\n", "models: lists no model");
        assertRejected("merge_method: linear\nmodels: a\n", "models: must be a list");
        assertRejected("merge_method: linear\nmodels:\n  - a\n", "models[0]: must be a mapping");
        assertRejected("merge_method: linear\nmodels:\n  - parameters: {weight: 1}\n", "models[0].model: is required");
        assertRejected("merge_method: linear\nmodels:\n  - model: a\n    parameters: [1]\n", "models[0].parameters",
                "must be a mapping");
        assertRejected("merge_method: linear\nmerge_method: ties\nmodels:\n  - model: a\n", "Duplicate field 'merge_method'");
        assertRejected("merge_method: [linear]\nmodels:\n  - model: a\n", "merge_method: must be a string");
    }

    @Test
    void plannedMethodsAreStillCheckedInFullFirst() {
        // An unknown parameter of a planned method is reported as such, not as "not available yet"
        assertRejected("merge_method: della\nbase_model: b\nparameters: {weight: 1, tt: 0.5}\nmodels:\n  - model: a\n",
                "parameters.tt", "unknown parameter", "did you mean `t`?");
        assertRejected("merge_method: della\nbase_model: b\nmodels:\n  - model: a\n", "models[0].parameters.weight",
                "required parameter `weight`");
        assertRejected("merge_method: slerp\nbase_model: b\nparameters: {t: 0.5, wieght: 1}\nmodels:\n  - model: a\n",
                "parameters.wieght", "unknown parameter", "did you mean `weight`?");
        assertRejected("merge_method: slerp\nbase_model: b\nmodels:\n  - model: a\n", "parameters.t",
                "required parameter `t`");
    }

    @Test
    void validConfigLoads() {
        // sanity check that the fixture itself is valid, so the rejections above are about the change
        assertEquals("ties", parse(ties("")).mergeMethod());
    }
}

package dev.amalgam.config;

import dev.amalgam.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.amalgam.config.ConfigFixtures.DIR;
import static dev.amalgam.config.ConfigFixtures.parse;
import static dev.amalgam.config.ConfigFixtures.ties;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MergeConfigTest {

    @Test
    void loadsFromAFileAndResolvesModelPathsAgainstItsDirectory(@TempDir Path tmp) throws IOException {
        Path configDir = Files.createDirectories(tmp.resolve("configs"));
        Path file = configDir.resolve("merge.yaml");
        Files.writeString(file, """
                merge_method: dare_ties
                base_model: ../models/base
                dtype: bfloat16
                out_dtype: float16
                parameters: {random_seed: 42}
                models:
                  - model: ../models/a
                    parameters: {weight: 0.7, density: 0.66}
                  - model: /abs/b
                    parameters: {weight: 0.3}
                """);
        MergeConfig c = MergeConfig.load(file);
        assertEquals(file.toAbsolutePath().normalize(), c.file().orElseThrow());
        assertEquals("dare_ties", c.mergeMethod());
        assertEquals(2, c.models().size());
        ModelRef a = c.models().get(0);
        assertEquals("../models/a", a.path());
        assertEquals(tmp.resolve("models/a").toAbsolutePath().normalize(), a.resolvedPath());
        assertEquals(Path.of("/abs/b"), c.models().get(1).resolvedPath());
        ModelRef base = c.baseModel().orElseThrow();
        assertEquals(ModelRef.NO_INDEX, base.index());
        assertFalse(base.listed());
        assertEquals(tmp.resolve("models/base").toAbsolutePath().normalize(), base.resolvedPath());
        assertEquals(c.models(), c.inputs());
        assertEquals(List.of(a, c.models().get(1), base), c.allModels());
        assertEquals(DType.BF16, c.dtype().orElseThrow());
        assertEquals(DType.F16, c.outputDtype().orElseThrow());
        assertEquals(42L, c.parameters().randomSeed());
        assertEquals("../models/base", c.tokenizerSource().asWritten());
        assertEquals(base.resolvedPath(), c.tokenizerSource().resolvedPath());
    }

    @Test
    void errorsFromAFileNameTheFile(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("bad.yaml");
        Files.writeString(file, "merge_method: ties\nslices: []\nmodels:\n  - model: a\n");
        ConfigException e = assertThrows(ConfigException.class, () -> MergeConfig.load(file));
        assertTrue(e.getMessage().startsWith("bad.yaml: slices: set either `models` or `slices`"), e.getMessage());
    }

    @Test
    void listedBaseKeepsItsModelIndex() {
        MergeConfig c = parse(ties(""));
        ModelRef base = c.baseModel().orElseThrow();
        assertTrue(base.listed());
        assertEquals(0, base.index());
        assertEquals(c.models().get(0), base);
        assertEquals(List.of(1, 2), c.nonBaseModels().stream().map(ModelRef::index).toList());
        assertEquals(c.nonBaseModels(), c.inputs());
        assertEquals(c.models(), c.allModels());
        assertEquals(DIR.resolve("a").normalize(), c.models().get(1).resolvedPath());
    }

    @Test
    void baseIsMatchedByResolvedPath() {
        MergeConfig c = parse(ties("").replace("base_model: base", "base_model: ./sub/../base"));
        assertEquals(0, c.baseModel().orElseThrow().index());
    }

    @Test
    void linearAppendsAnUnlistedBaseAsAnInputWeightedByTheTopLevelWeight() {
        MergeConfig c = parse("""
                merge_method: linear
                base_model: base
                parameters: {weight: 0.25}
                models:
                  - model: a
                    parameters: {weight: 0.75}
                """);
        List<ModelRef> in = c.inputs();
        assertEquals(2, in.size());
        assertEquals("base", in.get(1).path());
        assertEquals(ModelRef.NO_INDEX, in.get(1).index());
        ParameterResolver p = c.parameters();
        assertEquals(0.75, p.number("weight", in.get(0), "w", 0));
        assertEquals(0.25, p.number("weight", in.get(1), "w", 0));
        assertTrue(p.bool("normalize", null, "w", 0));
    }

    @Test
    void tokenizerSourceDefaultsToBaseElseFirstModelAndAcceptsAPath() {
        assertEquals("base", parse(ties("")).tokenizerSource().asWritten());
        MergeConfig linear = parse("merge_method: linear\nmodels:\n  - model: x\n    parameters: {weight: 1}\n");
        assertEquals("x", linear.tokenizerSource().asWritten());
        MergeConfig explicit = parse(ties("tokenizer_source: ../tok\n"));
        assertEquals(DIR.resolve("../tok").normalize(), explicit.tokenizerSource().resolvedPath());
        assertEquals("base", parse(ties("tokenizer_source: base\n")).tokenizerSource().asWritten());
    }

    @Test
    void outputDtypeFallsBackFromOutDtypeToDtypeToUnset() {
        assertTrue(parse(ties("")).outputDtype().isEmpty());
        assertEquals(DType.F32, parse(ties("dtype: float32\n")).outputDtype().orElseThrow());
        assertEquals(DType.BF16, parse(ties("dtype: float32\nout_dtype: bfloat16\n")).outputDtype().orElseThrow());
    }

    @Test
    void largeUnsignedSeedWrapsToTwosComplement() {
        assertEquals(-1L, parse(ties("parameters: {random_seed: 18446744073709551615}\n")).parameters().randomSeed());
        assertEquals(0L, parse(ties("")).parameters().randomSeed());
    }

    @Test
    void nonSparsifyingMethodsWarnAboutDensity() {
        MergeConfig c = parse("""
                merge_method: task_arithmetic
                base_model: base
                parameters: {rescale: true}
                models:
                  - model: a
                    parameters: {weight: 1, density: 0.5}
                  - model: b
                    parameters: {weight: 1, density: 1.0}
                """);
        assertEquals(List.of(
                "models[0].parameters.density: `density` has no effect in `task_arithmetic` (no sparsifier)",
                "parameters.rescale: `rescale` has no effect in `task_arithmetic` (no sparsifier)"),
                c.warnings().stream().sorted().toList());
        assertTrue(parse(ties("")).warnings().isEmpty());
    }

    @Test
    void modelScopeAcceptsConstantDensitiesThatDifferByModel() {
        MergeConfig c = parse(ties("parameters: {density_scope: model, density: 0.5}\n"));
        ParameterResolver p = c.parameters();
        assertEquals("model", p.string("density_scope", null, "", 0));
        assertEquals(0.3, p.number("density", c.models().get(1), "any", 0.4));
        assertEquals(0.5, p.number("density", c.models().get(2), "any", 0.4));
        assertFalse(p.variesByTensor("density", c.models().get(1)));
    }

    @Test
    void emptyParameterBlocksAreAllowed() {
        MergeConfig c = parse("""
                merge_method: task_arithmetic
                base_model: base
                parameters:
                models:
                  - model: base
                    parameters:
                  - model: a
                    parameters: {weight: 1}
                """);
        assertEquals(1.0, c.parameters().number("lambda", null, "x", 0));
    }

    @Test
    void modelPathsResolveAgainstTheConfigFolderThenTheCurrentDirectory(@TempDir Path tmp) throws IOException {
        // The tests run in the module folder, which holds src/ and pom.xml.
        Path cwd = Path.of("").toAbsolutePath();
        assertTrue(Files.isDirectory(cwd.resolve("src")));
        Path cfgDir = Files.createDirectories(tmp.resolve("cfg"));
        Files.createDirectories(cfgDir.resolve("mine"));
        String yaml = "merge_method: linear\nmodels:\n  - model: %s\n    parameters: {weight: 1}\n";
        // only next to the config
        assertEquals(cfgDir.resolve("mine"), MergeConfig.parse(yaml.formatted("mine"), cfgDir, "t.yaml").models().getFirst().resolvedPath());
        // only in the current directory
        assertEquals(cwd.resolve("pom.xml"), MergeConfig.parse(yaml.formatted("pom.xml"), cfgDir, "t.yaml").models().getFirst().resolvedPath());
        // in neither: the config's folder (opening it fails later with that path)
        assertEquals(cfgDir.resolve("nowhere"), MergeConfig.parse(yaml.formatted("nowhere"), cfgDir, "t.yaml").models().getFirst().resolvedPath());
        // in both, different folders: ambiguous
        Files.createDirectories(cfgDir.resolve("src"));
        ConfigException e = assertThrows(ConfigException.class, () -> MergeConfig.parse(yaml.formatted("src"), cfgDir, "t.yaml"));
        assertTrue(e.getMessage().contains("models[0].model: `src` is ambiguous") && e.getMessage().contains(cfgDir.resolve("src").toString())
                && e.getMessage().contains(cwd.resolve("src").toString()), e.getMessage());
    }
}

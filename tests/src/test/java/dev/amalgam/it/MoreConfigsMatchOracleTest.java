package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.synth.SyntheticFamily;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Configs beyond the bundled examples — the corners of §1–§7 an end-to-end run can reach — merged
 * by the CLI on small synthetic families and compared with {@link NaiveMergeOracle} bit for bit.
 */
class MoreConfigsMatchOracleTest {

    @TempDir
    static Path work;

    @BeforeAll
    static void writeFamilies() throws IOException {
        long shard = 5_000_000_000L;
        SyntheticFamily.write(work.resolve("small"), new SyntheticFamily.Spec(3, 32, 80, 96, 3, DType.BF16, 21, shard));
        // Same seed and tensor order: equal values in F32, and a larger vocabulary whose leading
        // embedding rows are the small family's.
        SyntheticFamily.write(work.resolve("f32"), new SyntheticFamily.Spec(3, 32, 80, 96, 1, DType.F32, 21, shard));
        SyntheticFamily.write(work.resolve("wide"), new SyntheticFamily.Spec(3, 32, 80, 112, 3, DType.BF16, 21, shard));
        SyntheticFamily.write(work.resolve("one"), new SyntheticFamily.Spec(1, 32, 80, 96, 2, DType.BF16, 5, shard));
        // an embedding of 600×256 = 153,600 elements spans three L1 blocks of 2^16
        SyntheticFamily.write(work.resolve("blocks"), new SyntheticFamily.Spec(1, 256, 300, 600, 2, DType.F16, 9, shard));
    }

    /** name, YAML, a phrase the summary must contain (or ""). */
    static Stream<Arguments> configs() {
        return Stream.of(
                Arguments.of("linear with an unlisted base weighted at top level, no normalize", """
                        merge_method: linear
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 0.5}
                          - model: small/ft-2
                            parameters: {weight: 0.3}
                        parameters: {weight: 0.2, normalize: false}
                        """, ""),
                Arguments.of("dare_ties, base listed first (indices 1..3), negative seed, inverse_density, count", """
                        merge_method: dare_ties
                        base_model: small/base
                        models:
                          - model: small/base
                          - model: small/ft-1
                            parameters: {weight: 1.0, density: 0.6}
                          - model: small/ft-2
                            parameters: {weight: 0.5, density: [0.3, 0.9]}
                          - model: small/ft-3
                            parameters: {weight: 1.0, density: 0.5}
                        parameters: {random_seed: -5, rescale_mode: inverse_density, consensus_method: count, normalize: true}
                        """, ""),
                Arguments.of("ties, count election, negative weight, density 0 for one model, l1 rescale, lambda", """
                        merge_method: ties
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 1.0, density: 0.4}
                          - model: small/ft-2
                            parameters: {weight: -0.5, density: 0.7}
                          - model: small/ft-3
                            parameters: {weight: 0.8, density: 0.0}
                        parameters: {consensus_method: count, rescale: true, lambda: 0.7, normalize: false}
                        """, "keeps nothing"),
                Arguments.of("breadcrumbs_ties, gamma gradient from 0, filtered densities, l1 rescale, normalize", """
                        merge_method: breadcrumbs_ties
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 1.0}
                          - model: small/ft-2
                            parameters: {weight: 0.6}
                          - model: small/ft-3
                            parameters:
                              weight: 0.9
                              density:
                                - filter: mlp
                                  value: 0.8
                        parameters:
                          gamma: [0.0, 0.05]
                          density:
                            - filter: self_attn
                              value: 0.3
                            - value: 0.6
                          rescale: true
                          normalize: true
                          lambda: 1.2
                        """, ""),
                Arguments.of("breadcrumbs, n_bot < 0 (density + gamma > 1)", """
                        merge_method: breadcrumbs
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 1.0, density: 0.9, gamma: 0.2}
                          - model: small/ft-2
                            parameters: {weight: 1.0, density: 0.5, gamma: 0.0}
                        """, ""),
                Arguments.of("task_arithmetic, normalize, float16 output", """
                        merge_method: task_arithmetic
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 2.0}
                          - model: small/ft-2
                            parameters: {weight: 1.0}
                          - model: small/ft-3
                            parameters: {weight: 1.0}
                        parameters: {normalize: true}
                        out_dtype: float16
                        """, ""),
                Arguments.of("ties, density_scope model, densities per model, l1 rescale, out_dtype over dtype", """
                        merge_method: ties
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 1.0, density: 0.1}
                          - model: small/ft-2
                            parameters: {weight: 1.0, density: 0.5}
                          - model: small/ft-3
                            parameters: {weight: 1.0, density: 1.0}
                        parameters: {density_scope: model, rescale: true}
                        dtype: float16
                        out_dtype: bfloat16
                        """, ""),
                Arguments.of("mixed storage dtypes: F32 base, BF16 fine-tunes, output in the base's dtype", """
                        merge_method: task_arithmetic
                        base_model: f32/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 0.7}
                          - model: small/ft-2
                            parameters: {weight: 0.7}
                        """, ""),
                Arguments.of("ties crops a larger fine-tune embedding to the base", """
                        merge_method: ties
                        base_model: small/base
                        models:
                          - model: wide/ft-1
                            parameters: {weight: 1.0, density: 0.5}
                          - model: small/ft-2
                            parameters: {weight: 1.0, density: 0.5}
                        """, "cropped to the base's [96, 32]"),
                Arguments.of("dare_ties draws masks over the cropped embedding (flat index after the crop)", """
                        merge_method: dare_ties
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 1.0, density: 0.5}
                          - model: wide/ft-2
                            parameters: {weight: 1.0, density: 0.5}
                        parameters: {random_seed: 99}
                        """, "cropped to the base's [96, 32]"),
                Arguments.of("linear crops embeddings to the common shape", """
                        merge_method: linear
                        models:
                          - model: wide/ft-1
                            parameters: {weight: 1.0}
                          - model: small/ft-2
                            parameters: {weight: 3.0}
                        """, "cropped to the common shape"),
                Arguments.of("single-layer model: layers at t = 1, embeddings at t = 0", """
                        merge_method: task_arithmetic
                        base_model: one/base
                        models:
                          - model: one/ft-1
                            parameters: {weight: [0.2, 1.0]}
                          - model: one/ft-2
                            parameters: {weight: [1.0, 0.5, 0.25]}
                        """, ""),
                Arguments.of("dare_linear, base listed between the models: ft-3 is task 2 but model index 3", """
                        merge_method: dare_linear
                        base_model: small/base
                        models:
                          - model: small/ft-1
                            parameters: {weight: 0.5, density: 0.4}
                          - model: small/ft-2
                            parameters: {weight: 1.0, density: 0.6}
                          - model: small/base
                          - model: small/ft-3
                            parameters: {weight: 1.0, density: 0.5}
                        parameters: {random_seed: 31337}
                        """, ""),
                Arguments.of("dare_linear with l1 rescale over tensors of several L1 blocks (F16)", """
                        merge_method: dare_linear
                        base_model: blocks/base
                        models:
                          - model: blocks/ft-1
                            parameters: {weight: 1.0, density: 0.3}
                          - model: blocks/ft-2
                            parameters: {weight: 1.0, density: 0.7}
                        parameters: {random_seed: 123456789012}
                        """, ""));
    }

    static Stream<Arguments> configsAndBackends() {
        List<String> backends = new ArrayList<>();
        for (KernelProvider p : KernelBackends.providers()) {
            if (p.device() == Device.CPU && p.availability().usable()) backends.add(p.name());
        }
        return configs().flatMap(a -> backends.stream().map(b -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], b)));
    }

    @ParameterizedTest(name = "{0} on {3}")
    @MethodSource("configsAndBackends")
    void mergeEqualsTheNaiveOracle(String name, String yaml, String phrase, String backend) throws IOException {
        String file = name.replaceAll("[^a-z0-9]+", "-");
        Path cfg = Files.writeString(work.resolve(file + ".yaml"), yaml);
        Path out = work.resolve("out-" + backend + "-" + file);
        Cli.Result r = Cli.runWithBackend(backend, "merge", cfg, out);
        assertEquals(0, r.exitCode(), r.all());
        if (!phrase.isEmpty()) assertTrue(r.out().contains(phrase), "summary should say '" + phrase + "': " + r.all());
        Map<String, OracleMerge.Expected> expected = OracleMerge.expected(OracleConfig.load(cfg), null);
        ExampleMergesMatchOracleTest.assertMatches(expected, out, name + " on " + backend, true);
    }
}

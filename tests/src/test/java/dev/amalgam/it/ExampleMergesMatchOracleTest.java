package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every bundled example config, merged by {@code amalgam merge} on the bundled family with every
 * usable CPU backend, equals {@link NaiveMergeOracle} tensor by tensor and bit for bit.
 */
class ExampleMergesMatchOracleTest {

    @TempDir
    static Path work;
    static Path examples;

    @BeforeAll
    static void copyExamples() throws IOException {
        examples = ExampleFiles.copyTo(work.resolve("examples"));
    }

    /** (config, backend) for every examples/*.yaml and every usable CPU provider. */
    static Stream<Arguments> configsAndBackends() {
        List<String> backends = new ArrayList<>();
        for (KernelProvider p : KernelBackends.providers()) {
            if (p.device() == Device.CPU && p.availability().usable()) backends.add(p.name());
        }
        List<Arguments> args = new ArrayList<>();
        for (String config : ExampleFiles.oracleConfigNames()) {
            for (String backend : backends) args.add(Arguments.of(config, backend));
        }
        return args.stream();
    }

    @Test
    void everyMethodOfTheReadmeHasAnExample() {
        List<String> configs = ExampleFiles.configNames();
        for (String method : List.of("linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs",
                "breadcrumbs_ties", "ties_model_scope")) {
            assertTrue(configs.contains(method + ".yaml"), "examples/" + method + ".yaml missing: " + configs);
        }
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("configsAndBackends")
    void mergeEqualsTheNaiveOracle(String config, String backend) throws IOException {
        Path yaml = examples.resolve(config);
        Path out = work.resolve("out-" + backend + "-" + config.replace(".yaml", ""));
        Cli.Result r = Cli.runWithBackend(backend, "merge", yaml, out);
        assertEquals(0, r.exitCode(), r.all());

        Map<String, OracleMerge.Expected> expected = OracleMerge.expected(OracleConfig.load(yaml), null);
        assertMatches(expected, out, config + " on " + backend);
    }

    /** Compares every tensor of the output folder with the oracle, bit for bit (±0 equal). */
    static void assertMatches(Map<String, OracleMerge.Expected> expected, Path out, String what) throws IOException {
        assertMatches(expected, out, what, true);
    }

    /** As above; with {@code allTensors} false, {@code expected} may be a subset of the output's tensors. */
    static void assertMatches(Map<String, OracleMerge.Expected> expected, Path out, String what, boolean allTensors)
            throws IOException {
        try (ModelFolder folder = ModelFolder.open(out)) {
            if (allTensors) {
                assertEquals(expected.keySet().stream().sorted().toList(),
                        folder.tensors().stream().map(TensorInfo::name).sorted().toList(), what + ": tensor names");
            }
            List<String> failures = new ArrayList<>();
            long compared = 0;
            for (var e : expected.entrySet()) {
                String name = e.getKey();
                OracleMerge.Expected exp = e.getValue();
                Tensor t = folder.tensor(name);
                assertEquals(exp.dtype(), t.dtype().safetensorsName(), what + ": dtype of " + name);
                assertEquals(List.of(box(exp.shape())), List.of(box(t.info().shape())), what + ": shape of " + name);
                long mismatches = 0;
                String first = null;
                for (int i = 0; i < exp.values().length; i++) {
                    int want = NaiveMergeOracle.outputBits(exp.values()[i], exp.dtype());
                    int got = OracleMerge.bits(t, i);
                    if (!NaiveMergeOracle.sameOutput(want, got, exp.dtype())) {
                        if (mismatches++ == 0) {
                            first = String.format("[%d] expected bits %08x (%s from float32 %s), got %08x", i, want,
                                    exp.dtype(), Float.toString(exp.values()[i]), got);
                        }
                    }
                }
                compared += exp.values().length;
                if (mismatches > 0) failures.add(name + ": " + mismatches + " of " + exp.values().length + " differ, first " + first);
            }
            if (!failures.isEmpty()) fail(what + ": " + failures.size() + " tensors differ from the oracle:\n  " + String.join("\n  ", failures));
            assertTrue(!allTensors || compared > 10_000, what + ": compared only " + compared + " elements");
        }
    }

    private static Long[] box(long[] a) {
        Long[] b = new Long[a.length];
        for (int i = 0; i < a.length; i++) b[i] = a[i];
        return b;
    }

    /** Guards the comparison itself: a merge that changed nothing would match a broken oracle of "copy the base". */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.amalgam.it.ExampleFiles#oracleConfigNames")
    void expectedOutputsDifferFromEveryInput(String config) throws IOException {
        OracleConfig cfg = OracleConfig.load(examples.resolve(config));
        Map<String, OracleMerge.Expected> expected = OracleMerge.expected(cfg, null);
        for (OracleConfig.Model m : cfg.linearInputs()) {
            Map<String, OracleMerge.Stored> input = OracleMerge.read(m.path());
            long same = 0, total = 0;
            for (var e : expected.entrySet()) {
                float[] x = input.get(e.getKey()).values();
                float[] y = e.getValue().values();
                for (int i = 0; i < y.length; i++) if (x[i] == y[i]) same++;
                total += y.length;
            }
            assertTrue(same < total * 0.9, config + ": " + same + " of " + total + " outputs equal " + m.asWritten());
        }
    }
}

package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bundled examples of the methods the naive oracle does not cover (interpolation, geometric and
 * RAM methods; DELLA, SCE and the TALL-mask consensus methods) merge through the command line with
 * the reference and the fast CPU backend into the same bits, with every tensor of the base. (Their
 * numbers are checked against the spec's and the authors' formulas in core's method tests.)
 */
class OracleFreeExamplesTest {

    @TempDir
    static Path work;
    static Path examples;

    @BeforeAll
    static void copyExamples() throws IOException {
        examples = ExampleFiles.copyTo(work.resolve("examples"));
    }

    static List<String> configs() {
        return Stream.concat(ExampleFiles.INTERPOLATION_METHODS.stream(), ExampleFiles.LITERATURE_METHODS.stream()).toList();
    }

    @Test
    void everyOracleFreeMethodHasAnExample() {
        assertTrue(ExampleFiles.configNames().containsAll(configs()), ExampleFiles.configNames().toString());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("configs")
    void referenceAndFastCpuAgreeBitForBit(String config) throws IOException {
        Path ref = work.resolve("ref-" + config), cpu = work.resolve("cpu-" + config);
        Cli.Result a = Cli.runWithBackend("reference", "merge", examples.resolve(config), ref);
        assertEquals(0, a.exitCode(), a.all());
        Cli.Result b = Cli.runWithBackend("cpu", "merge", examples.resolve(config), cpu);
        assertEquals(0, b.exitCode(), b.all());
        try (ModelFolder base = ModelFolder.open(examples.resolve("family/base"));
             ModelFolder x = ModelFolder.open(ref); ModelFolder y = ModelFolder.open(cpu)) {
            assertEquals(base.tensors().size(), x.tensors().size());
            for (TensorInfo t : base.tensors()) {
                assertArrayEquals(t.shape(), x.info(t.name()).shape(), t.name());
                assertArrayEquals(bytes(x, t.name()), bytes(y, t.name()), config + ": " + t.name());
            }
        }
    }

    private static byte[] bytes(ModelFolder f, String name) {
        return f.tensor(name).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }
}

package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The SVD example configs (tsv_m, iso_c, iso_cts) through the CLI: every usable CPU backend
 * agrees with the reference within the spec's SVD tolerance (relative Frobenius 1e-4 per
 * tensor, §1.10), and the merge changes the 2-D tensors.
 */
class SvdExamplesTest {

    @TempDir
    static Path work;
    static Path examples;

    @BeforeAll
    static void copyExamples() throws IOException {
        examples = ExampleFiles.copyTo(work.resolve("examples"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.amalgam.it.ExampleFiles#svdConfigNames")
    void everyCpuBackendAgreesWithTheReference(String config) throws IOException {
        String name = config.replace(".yaml", "");
        // Compare float32 outputs: in bf16 a difference in the last float32 bits flips whole
        // bf16 roundings (2^-8 relative), which says nothing about the SVDs.
        Path yaml = examples.resolve(name + "-f32.yaml");
        java.nio.file.Files.writeString(yaml, java.nio.file.Files.readString(examples.resolve(config))
                .replaceAll("(?m)^(dtype|out_dtype):.*$", "") + "\nout_dtype: float32\n");
        Path reference = work.resolve(name + "-reference");
        Cli.Result r = Cli.runWithBackend("reference", "merge", yaml, reference);
        assertEquals(0, r.exitCode(), r.all());
        for (KernelProvider p : KernelBackends.providers()) {
            if (p.device() != Device.CPU || !p.availability().usable() || p.name().equals("reference")) continue;
            Path out = work.resolve(name + "-" + p.name());
            Cli.Result f = Cli.runWithBackend(p.name(), "merge", yaml, out);
            assertEquals(0, f.exitCode(), f.all());
            assertClose(reference, out, config + " on " + p.name());
        }
        assertChangesMatrices(reference, config);
    }

    private static void assertClose(Path expected, Path actual, String what) throws IOException {
        try (ModelFolder e = ModelFolder.open(expected); ModelFolder a = ModelFolder.open(actual)) {
            for (TensorInfo t : e.tensors()) {
                float[] x = SafetensorsTestFiles.readFloats(e.tensor(t.name()));
                float[] y = SafetensorsTestFiles.readFloats(a.tensor(t.name()));
                double diff = 0, norm = 0;
                for (int i = 0; i < x.length; i++) {
                    assertTrue(Float.isFinite(y[i]), what + ": " + t.name() + "[" + i + "] not finite");
                    diff += (x[i] - y[i]) * (double) (x[i] - y[i]);
                    norm += x[i] * (double) x[i];
                }
                assertTrue(Math.sqrt(diff) <= 1e-4 * Math.sqrt(norm) + 1e-12,  // §1.10: relative Frobenius 1e-4
                        what + ": " + t.name() + " relative Frobenius difference " + Math.sqrt(diff / Math.max(norm, 1e-300)));
            }
        }
    }

    private static void assertChangesMatrices(Path out, String config) throws IOException {
        Path base = examples.resolve("family/base");
        try (ModelFolder o = ModelFolder.open(out); ModelFolder b = ModelFolder.open(base)) {
            for (TensorInfo t : o.tensors()) {
                if (t.rank() != 2) continue;
                float[] x = SafetensorsTestFiles.readFloats(o.tensor(t.name()));
                float[] y = SafetensorsTestFiles.readFloats(b.tensor(t.name()));
                long changed = 0;
                for (int i = 0; i < x.length; i++) if (x[i] != y[i]) changed++;
                assertTrue(changed > x.length / 2, config + ": " + t.name() + " changed only " + changed + " of " + x.length);
            }
        }
    }
}

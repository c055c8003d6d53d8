package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ModelFolder;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * §1.2, §15 end to end: 0-D, empty, 1- and 2-element and prime-sized tensors, F16 and F64
 * storage, integer and bool tensors copied from the base (with a warning when they differ).
 */
class OddTensorsTest {

    @TempDir
    Path work;

    private static final long[] SCALAR = {};

    private void writeFamily() throws IOException {
        SplittableRandom r = new SplittableRandom(31337);
        for (int m = 0; m <= 2; m++) {
            float[] prime = new float[1009];
            for (int i = 0; i < prime.length; i++) prime[i] = (float) r.nextGaussian();
            double[] f64 = new double[13];
            for (int i = 0; i < f64.length; i++) f64[i] = r.nextGaussian() / 3;
            float[] half = new float[31];
            for (int i = 0; i < half.length; i++) half[i] = (float) r.nextGaussian();
            new RawCheckpoint()
                    .f32("model.scalar", SCALAR, 1.5f + m)
                    .f32("model.empty", new long[] {0, 4})
                    .f32("model.one", new long[] {1}, -2f * m)
                    .f32("model.two", new long[] {2}, 1f, 3f - 2 * m)
                    .f32("model.prime", new long[] {1009}, prime)
                    .f64("model.f64", new long[] {13}, f64)
                    .f16("model.half", new long[] {31}, half)
                    .i64("model.position_ids", 0, 1, 2, m == 2 ? 7 : 3)
                    .add("model.mask", "BOOL", new long[] {3}, new byte[] {1, 0, (byte) (m == 1 ? 0 : 1)})
                    .writeTo(work.resolve(m == 0 ? "base" : "ft-" + m));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"ties", "breadcrumbs_ties", "dare_ties", "task_arithmetic"})
    void oddTensorsMergeAsTheOracleSaysAndIntegersAreCopiedFromTheBase(String method) throws IOException {
        writeFamily();
        String params = method.equals("task_arithmetic") ? "{weight: 1.0}" : "{weight: 1.0, density: 0.5}";
        Path cfg = Files.writeString(work.resolve(method + ".yaml"), """
                merge_method: %s
                base_model: base
                models:
                  - model: ft-1
                    parameters: %s
                  - model: ft-2
                    parameters: %s
                parameters: {random_seed: 3}
                """.formatted(method, params, params));
        Path out = work.resolve("out");
        Cli.Result r = Cli.run("merge", cfg, out);
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().contains("tensors:   9 (7 merged, 2 copied)"), r.all());
        assertTrue(r.out().contains("model.position_ids") && r.out().contains("differs"), "int tensors differ: " + r.all());
        assertTrue(r.out().contains("model.mask"), "bool tensors differ: " + r.all());
        assertTrue(r.out().contains("F64"), "F64 rounded on load: " + r.all());

        Set<String> floats = Set.of("model.scalar", "model.empty", "model.one", "model.two", "model.prime", "model.f64", "model.half");
        Map<String, OracleMerge.Expected> expected = OracleMerge.expected(OracleConfig.load(cfg), null, floats::contains);
        assertEquals(floats, expected.keySet());
        ExampleMergesMatchOracleTest.assertMatches(expected, out, method, false);
        try (ModelFolder merged = ModelFolder.open(out); ModelFolder base = ModelFolder.open(work.resolve("base"))) {
            assertEquals(9, merged.tensors().size());
            assertEquals("F32", merged.info("model.f64").dtype().safetensorsName(), "F64 is merged in float32 and written as F32");
            assertEquals("F16", merged.info("model.half").dtype().safetensorsName());
            assertEquals(0, merged.info("model.scalar").shape().length);
            for (String copied : new String[] {"model.position_ids", "model.mask"}) {
                assertEquals(base.info(copied), merged.info(copied));
                assertArrayEquals(base.tensor(copied).data().toArray(ValueLayout.JAVA_BYTE),
                        merged.tensor(copied).data().toArray(ValueLayout.JAVA_BYTE), copied);
            }
        }
    }
}

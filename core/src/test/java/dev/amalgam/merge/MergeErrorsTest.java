package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad inputs (§1.2, §1.3, §15): clear errors naming tensor and model, and nothing under the target name. */
class MergeErrorsTest {

    @TempDir
    Path dir;
    MergeFixture fx;
    Path out;

    @BeforeEach
    void setUp() {
        fx = new MergeFixture(dir);
        out = dir.resolve("merged");
    }

    private MergeException fails(String yaml) {
        MergeException e = assertThrows(MergeException.class, () -> fx.run(yaml, out));
        assertFalse(Files.exists(out), "nothing may be written under the target name");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains("amalgam-tmp")), "temp folder left behind");
        } catch (IOException io) {
            throw new AssertionError(io);
        }
        return e;
    }

    private static final String TA = """
            merge_method: task_arithmetic
            base_model: base
            models:
              - {model: ft1, parameters: {weight: 1.0}}
            """;

    @Test
    void missingTensorNamesTensorAndModel() throws IOException {
        fx.model("base", "a", new float[] {1, 2}, "b", new float[] {3});
        fx.model("ft1", "a", new float[] {1, 2});
        MergeException e = fails(TA);
        assertTrue(e.getMessage().contains("tensor b") && e.getMessage().contains("ft1"), e.getMessage());
    }

    @Test
    void shapeMismatchNamesTensorAndShapes() throws IOException {
        fx.model("base", DType.F32, Map.of("a", new long[] {2, 2}), "a", new float[] {1, 2, 3, 4});
        fx.model("ft1", DType.F32, Map.of("a", new long[] {4}), "a", new float[] {1, 2, 3, 4});
        MergeException e = fails(TA);
        assertTrue(e.getMessage().contains("tensor a") && e.getMessage().contains("[2, 2]")
                && e.getMessage().contains("[4]"), e.getMessage());
    }

    @Test
    void nanInAnInputNamesTensorAndModel() throws IOException {
        fx.model("base", "a", new float[] {1, 2}, "z", new float[] {1, 2});
        fx.model("ft1", "a", new float[] {1, 2}, "z", new float[] {1, Float.NaN});
        MergeException e = fails(TA);
        assertTrue(e.getMessage().contains("tensor z") && e.getMessage().contains("ft1")
                && e.getMessage().contains("allow_nonfinite"), e.getMessage());
    }

    @Test
    void infInTheBaseIsAnErrorToo() throws IOException {
        fx.model("base", "a", new float[] {Float.POSITIVE_INFINITY, 2});
        fx.model("ft1", "a", new float[] {1, 2});
        MergeException e = fails(TA);
        assertTrue(e.getMessage().contains("tensor a of model base"), e.getMessage());
    }

    @Test
    void allowNonfiniteMergesAnyway() throws IOException {
        fx.model("base", "a", new float[] {1, 2});
        fx.model("ft1", "a", new float[] {Float.NaN, 3});
        fx.run(TA + "parameters: {allow_nonfinite: true}\n", out);
        float[] r = MergeFixture.read(out, "a");
        assertTrue(Float.isNaN(r[0]));
        assertEquals(3f, r[1]);
    }

    @Test
    void float16OverflowOfTheOutputIsAnError() throws IOException {
        fx.model("base", "a", new float[] {60000f, 1});
        fx.model("ft1", "a", new float[] {65000f, 1});
        MergeException e = fails(TA.replace("weight: 1.0", "weight: 4.0") + "out_dtype: float16\n");
        assertTrue(e.getMessage().contains("tensor a") && e.getMessage().contains("F16"), e.getMessage());
    }

    @Test
    void largerEmbeddingIsCroppedToTheBaseSmallerIsAnError() throws IOException {
        fx.model("base", DType.F32, Map.of("lm_head.weight", new long[] {2, 2}), "lm_head.weight", new float[] {1, 1, 1, 1});
        fx.model("ft1", DType.F32, Map.of("lm_head.weight", new long[] {3, 2}), "lm_head.weight", new float[] {2, 3, 4, 5, 9, 9});
        MergeReport report = fx.run(TA, out);
        assertArrayEquals(new float[] {2, 3, 4, 5}, MergeFixture.read(out, "lm_head.weight"));
        assertTrue(report.warnings().stream().anyMatch(w -> w.contains("cropped")), report.warnings().toString());

        Path small = dir.resolve("small");
        Files.createDirectories(small);
        MergeFixture other = new MergeFixture(small);
        other.model("base", DType.F32, Map.of("lm_head.weight", new long[] {3, 2}), "lm_head.weight", new float[] {1, 1, 1, 1, 1, 1});
        other.model("ft1", DType.F32, Map.of("lm_head.weight", new long[] {2, 2}), "lm_head.weight", new float[] {1, 1, 1, 1});
        MergeException e = assertThrows(MergeException.class, () -> other.run(TA, small.resolve("o")));
        assertTrue(e.getMessage().contains("smaller"), e.getMessage());
    }

    @Test
    void linearCropsEmbeddingsToTheCommonShape() throws IOException {
        fx.model("x", DType.F32, Map.of("model.embed_tokens.weight", new long[] {3, 2}), "model.embed_tokens.weight",
                new float[] {1, 2, 3, 4, 5, 6});
        fx.model("y", DType.F32, Map.of("model.embed_tokens.weight", new long[] {2, 3}), "model.embed_tokens.weight",
                new float[] {3, 4, 99, 5, 6, 99});
        fx.run("""
                merge_method: linear
                models:
                  - {model: x, parameters: {weight: 1.0}}
                  - {model: y, parameters: {weight: 1.0}}
                """, out);
        assertArrayEquals(new float[] {2, 3, 4, 5}, MergeFixture.read(out, "model.embed_tokens.weight"));
    }

    @Test
    void linearWithZeroWeightSumIsAnError() throws IOException {
        fx.model("x", "a", new float[] {1});
        fx.model("y", "a", new float[] {2});
        MergeException e = fails("""
                merge_method: linear
                models:
                  - {model: x, parameters: {weight: 1.0}}
                  - {model: y, parameters: {weight: -1.0}}
                """);
        assertTrue(e.getMessage().contains("tensor a") && e.getMessage().contains("sum to 0"), e.getMessage());
    }

    @Test
    void integerTensorsAreCopiedFromTheBaseWithAWarningWhenTheyDiffer() throws IOException {
        Path sub = dir.resolve("ints");
        Files.createDirectories(sub);
        MergeFixture ints = new MergeFixture(sub);
        writeI64(sub.resolve("base"), new long[] {1, 2, 3});
        writeI64(sub.resolve("ft1"), new long[] {1, 2, 4});
        MergeReport report = ints.run(TA, sub.resolve("o"));
        try (var f = dev.amalgam.io.ModelFolder.open(sub.resolve("o"))) {
            assertEquals(DType.I64, f.info("ids").dtype());
            assertEquals(3L, f.tensor("ids").data().getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, 2));
        }
        assertTrue(report.warnings().stream().anyMatch(w -> w.contains("differs")), report.warnings().toString());
    }

    private static void writeI64(Path folder, long[] values) throws IOException {
        var info = new dev.amalgam.tensor.TensorInfo("ids", DType.I64, new long[] {values.length});
        try (var w = dev.amalgam.io.ShardWriter.builder(folder, java.util.List.of(info)).open()) {
            var seg = w.segmentFor("ids");
            for (int i = 0; i < values.length; i++) seg.setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, values[i]);
            w.finish();
        }
    }

    @Test
    void float64InputsAreRoundedToFloat32WithAWarning() throws IOException {
        fx.model("base", DType.F64, Map.of(), "a", new float[] {1, 2});
        fx.model("ft1", "a", new float[] {1.5f, 2.5f});
        MergeReport report = fx.run(TA, out);
        assertEquals(DType.F32, MergeFixture.info(out, "a").dtype());
        assertArrayEquals(new float[] {1.5f, 2.5f}, MergeFixture.read(out, "a"));
        assertTrue(report.warnings().stream().anyMatch(w -> w.contains("F64")), report.warnings().toString());
    }

    @Test
    void densityKeepingNothingWarnsAndReturnsTheBase() throws IOException {
        fx.model("base", "a", new float[] {1, 2, 3});
        fx.model("ft1", "a", new float[] {2, 3, 4});
        MergeReport report = fx.run("""
                merge_method: ties
                base_model: base
                models:
                  - {model: ft1, parameters: {weight: 1.0, density: 0.1}}
                """, out);
        assertArrayEquals(new float[] {1, 2, 3}, MergeFixture.read(out, "a"));
        assertTrue(report.warnings().stream().anyMatch(w -> w.contains("k = 0")), report.warnings().toString());
    }

    @Test
    void nonEmptyTargetIsRefusedWithoutForce() throws IOException {
        fx.model("base", "a", new float[] {1});
        fx.model("ft1", "a", new float[] {2});
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "precious");
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> fx.run(TA, out));
        assertEquals("precious", Files.readString(out.resolve("keep.txt")));
    }
}

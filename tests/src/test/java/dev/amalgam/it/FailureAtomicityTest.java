package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.synth.SyntheticFamily;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A merge that fails or is killed midway never leaves anything under the target name (README,
 * "Output layout"); a failure also removes its temporary folder and names tensor and model.
 */
class FailureAtomicityTest {

    @TempDir
    Path work;

    /** One-line error of a failed in-process run, after checking that nothing was left behind. */
    private String assertFailedCleanly(Cli.Result r, Path out) throws IOException {
        assertEquals(1, r.exitCode(), r.all());
        assertFalse(Files.exists(out), "target folder " + out + " must not exist");
        assertEquals(List.of(), ChildJvm.leftovers(out.getParent(), out.getFileName().toString()), "temporary folders left");
        List<String> err = r.errLines().stream().filter(l -> !l.isBlank()).toList();
        assertEquals(1, err.size(), r.all());
        return err.getFirst();
    }

    @Test
    void aNanInTheLastTensorOfOneFineTuneFailsTheMergeAndLeavesNothing() throws IOException {
        Path examples = ExampleFiles.copyTo(work.resolve("examples"));
        // model.norm.weight is the last tensor in plan (UTF-8) order: every other tensor has been
        // merged and written into the temporary folder when the NaN is met.
        plantBits(examples.resolve("family/ft-2/model.safetensors"), "model.norm.weight", 17, 0x7FC0);
        for (String config : List.of("ties.yaml", "linear.yaml", "dare_ties.yaml")) {
            Path out = work.resolve("out-" + config);
            String line = assertFailedCleanly(Cli.run("merge", examples.resolve(config), out), out);
            assertTrue(line.contains("tensor model.norm.weight of model family/ft-2 contains NaN or Inf"), config + ": " + line);
        }
    }

    @Test
    void aFailedForcedMergeKeepsThePreviousOutput() throws IOException {
        Path examples = ExampleFiles.copyTo(work.resolve("examples"));
        Path out = work.resolve("previous");
        assertEquals(0, Cli.run("merge", examples.resolve("ties.yaml"), out).exitCode());
        var before = OutputFolders.files(out);
        plantBits(examples.resolve("family/base/model.safetensors"), "model.norm.weight", 0, 0xFF80); // −Inf in the base
        Cli.Result r = Cli.run("merge", examples.resolve("ties.yaml"), out, "--force");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("tensor model.norm.weight of model family/base contains NaN or Inf"), r.all());
        var after = OutputFolders.files(out);
        assertEquals(before.keySet(), after.keySet());
        for (String f : before.keySet()) assertTrue(java.util.Arrays.equals(before.get(f), after.get(f)), f + " changed");
        assertEquals(List.of(), ChildJvm.leftovers(work, "previous"));
    }

    @Test
    void allowNonfiniteLetsTheSameMergeThrough() throws IOException {
        Path examples = ExampleFiles.copyTo(work.resolve("examples"));
        plantBits(examples.resolve("family/ft-2/model.safetensors"), "model.norm.weight", 17, 0x7FC0);
        Path cfg = Files.writeString(examples.resolve("nonfinite.yaml"), """
                merge_method: task_arithmetic
                base_model: family/base
                models:
                  - model: family/ft-1
                    parameters: {weight: 1.0}
                  - model: family/ft-2
                    parameters: {weight: 1.0}
                parameters:
                  allow_nonfinite: true
                """);
        Path out = work.resolve("out-nonfinite");
        Cli.Result r = Cli.run("merge", cfg, out);
        assertEquals(0, r.exitCode(), r.all());
        Map<String, OracleMerge.Stored> merged = OracleMerge.read(out);
        assertTrue(Float.isNaN(merged.get("model.norm.weight").values()[17]));
        assertFalse(Float.isNaN(merged.get("model.norm.weight").values()[16]));
    }

    @Test
    void aFloat16OverflowInALateTensorFailsTheMergeAndLeavesNothing() throws IOException {
        Map<String, float[]> base = new LinkedHashMap<>(), ft1 = new LinkedHashMap<>(), ft2 = new LinkedHashMap<>();
        base.put("a.weight", new float[] {1, 2, 3, 4});
        ft1.put("a.weight", new float[] {1.5f, 2, 3, 4});
        ft2.put("a.weight", new float[] {1, 2.5f, 3, 4});
        base.put("z.weight", new float[] {60000, 1, 1, 1});
        ft1.put("z.weight", new float[] {65000, 1, 1, 1});
        ft2.put("z.weight", new float[] {65000, 1, 1, 1}); // 60000 + 5000 + 5000 = 70000 > 65504
        Path fam = work.resolve("tiny");
        SafetensorsTestFiles.writeModel(fam.resolve("base"), base, Map.of(), DType.F32);
        SafetensorsTestFiles.writeModel(fam.resolve("ft-1"), ft1, Map.of(), DType.F32);
        SafetensorsTestFiles.writeModel(fam.resolve("ft-2"), ft2, Map.of(), DType.F32);
        Path cfg = Files.writeString(fam.resolve("f16.yaml"), """
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: ft-1
                    parameters: {weight: 1.0}
                  - model: ft-2
                    parameters: {weight: 1.0}
                out_dtype: float16
                """);
        Path out = work.resolve("out-f16");
        String line = assertFailedCleanly(Cli.run("merge", cfg, out), out);
        assertTrue(line.contains("tensor z.weight: 1 output elements are NaN or Inf in F16"), line);
    }

    @Test
    void aShapeMismatchNamesTensorModelsAndShapesAndLeavesNothing() throws IOException {
        Path fam = work.resolve("shapes");
        float[] six = {1, 2, 3, 4, 5, 6};
        SafetensorsTestFiles.writeModel(fam.resolve("base"), Map.of("model.layers.0.w", six), Map.of("model.layers.0.w", new long[] {2, 3}), DType.F32);
        SafetensorsTestFiles.writeModel(fam.resolve("ft-1"), Map.of("model.layers.0.w", six), Map.of("model.layers.0.w", new long[] {2, 3}), DType.F32);
        SafetensorsTestFiles.writeModel(fam.resolve("ft-2"), Map.of("model.layers.0.w", six), Map.of("model.layers.0.w", new long[] {3, 2}), DType.F32);
        Path cfg = Files.writeString(fam.resolve("ties.yaml"), """
                merge_method: ties
                base_model: base
                models:
                  - model: ft-1
                    parameters: {weight: 1.0, density: 0.5}
                  - model: ft-2
                    parameters: {weight: 1.0, density: 0.5}
                """);
        Path out = work.resolve("out-shapes");
        String line = assertFailedCleanly(Cli.run("merge", cfg, out), out);
        assertTrue(line.contains("tensor model.layers.0.w: shape mismatch"), line);
        assertTrue(line.contains("base has F32 [2, 3]") && line.contains("ft-2 has F32 [3, 2]"), line);
        // --dry-run finds the same from the headers alone
        Cli.Result dry = Cli.run("merge", cfg, out, "--dry-run");
        assertEquals(1, dry.exitCode(), dry.all());
        assertTrue(dry.err().contains("shape mismatch"), dry.all());
    }

    @Test
    void linearWeightsSummingToZeroFailTheMergeAndLeaveNothing() throws IOException {
        Path examples = ExampleFiles.copyTo(work.resolve("examples"));
        Path cfg = Files.writeString(examples.resolve("zero.yaml"), """
                merge_method: linear
                models:
                  - model: family/ft-1
                    parameters: {weight: 1.0}
                  - model: family/ft-2
                    parameters: {weight: -1.0}
                """);
        Path out = work.resolve("out-zero");
        String line = assertFailedCleanly(Cli.run("merge", cfg, out), out);
        assertTrue(line.contains("tensor lm_head.weight: the weights sum to 0"), line);
    }

    @Test
    void aTensorMissingInOneModelIsNamed() throws IOException {
        Path fam = work.resolve("missing");
        float[] v = {1, 2, 3};
        SafetensorsTestFiles.writeModel(fam.resolve("base"), Map.of("a", v, "b", v), Map.of(), DType.F32);
        SafetensorsTestFiles.writeModel(fam.resolve("ft-1"), Map.of("a", v, "b", v), Map.of(), DType.F32);
        SafetensorsTestFiles.writeModel(fam.resolve("ft-2"), Map.of("a", v), Map.of(), DType.F32);
        Path cfg = Files.writeString(fam.resolve("ta.yaml"), """
                merge_method: task_arithmetic
                base_model: base
                models:
                  - model: ft-1
                    parameters: {weight: 1.0}
                  - model: ft-2
                    parameters: {weight: 1.0}
                """);
        Path out = work.resolve("out-missing");
        String line = assertFailedCleanly(Cli.run("merge", cfg, out), out);
        assertTrue(line.contains("tensor b is missing in model ft-2"), line);
    }

    /**
     * Kills a merge in a child JVM while it writes: the target must not exist. The family (4 ×
     * 16.7M BF16 parameters) takes the reference backend several seconds; the child is killed
     * once its temporary folder has appeared and half a second has passed.
     */
    @Test
    void aKilledMergeLeavesNoTargetFolder() throws Exception {
        Path fam = work.resolve("big");
        SyntheticFamily.write(fam, new SyntheticFamily.Spec(4, 512, 1376, 4000, 3, DType.BF16, 11, 5_000_000_000L));
        Path cfg = Files.writeString(work.resolve("big.yaml"), """
                merge_method: ties
                base_model: big/base
                models:
                  - model: big/ft-1
                  - model: big/ft-2
                  - model: big/ft-3
                parameters: {weight: 1.0, density: 0.3}
                """);
        Path out = work.resolve("killed");
        Process child = ChildJvm.start(work.resolve("log"), List.of("-Damalgam.backend=reference", "-Xmx256m"), "merge", cfg, out);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (ChildJvm.leftovers(work, "killed").isEmpty() && !Files.exists(out)) {
                assertTrue(child.isAlive(), "child ended before writing: " + ChildJvm.output(work.resolve("log")));
                assertTrue(System.nanoTime() < deadline, "no temporary folder after 60 s");
                Thread.sleep(5);
            }
            Thread.sleep(500);
            assertTrue(child.isAlive(), "the merge finished within 0.5 s of starting to write; the family is too small to kill it midway");
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        } finally {
            child.destroyForcibly();
        }
        assertFalse(Files.exists(out), "a killed merge left " + out);
        List<Path> temp = ChildJvm.leftovers(work, "killed");
        assertEquals(1, temp.size(), "the killed child's temporary folder stays (nothing could delete it): " + temp);
        assertTrue(temp.getFirst().getFileName().toString().startsWith(".killed.amalgam-tmp-"), temp.toString());

        // The leftover does not get in the way of the next merge to the same target.
        Cli.Result again = Cli.runWithBackend("reference", "merge", cfg, out, "--max-shard-size", "20MB");
        assertEquals(0, again.exitCode(), again.all());
        assertTrue(Files.isRegularFile(out.resolve("model.safetensors.index.json")));
    }

    /** Overwrites one element's stored bits (16-bit dtypes) of a tensor in a single safetensors file. */
    static void plantBits(Path file, String tensor, long element, int bits) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            int headerLength = Math.toIntExact(len.flip().getLong());
            ByteBuffer header = ByteBuffer.allocate(headerLength);
            ch.read(header, 8);
            JsonNode h = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
            JsonNode t = h.get(tensor);
            if (t == null) throw new IllegalArgumentException(tensor + " not in " + file);
            long begin = t.get("data_offsets").get(0).asLong();
            ByteBuffer value = ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) bits).flip();
            ch.write(value, 8 + headerLength + begin + 2 * element);
        }
    }
}

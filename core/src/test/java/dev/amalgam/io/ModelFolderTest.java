package dev.amalgam.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.SafetensorsFormatException.Violation;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.amalgam.io.SafetensorsFormatException.Violation.*;
import static org.junit.jupiter.api.Assertions.*;

class ModelFolderTest {

    private static final long SEED = 20250611L;

    @TempDir
    Path tmp;

    /** Six F32 tensors of 10..60 elements (40..240 bytes), random non-zero values. */
    private static Map<String, float[]> model() {
        System.out.println("ModelFolderTest seed " + SEED);
        SplittableRandom r = new SplittableRandom(SEED);
        Map<String, float[]> m = new LinkedHashMap<>();
        String[] names = {"model.embed.weight", "model.layers.0.w", "model.layers.1.w", "model.layers.0.b", "lm_head.weight", "model.norm"};
        for (int i = 0; i < names.length; i++) {
            float[] v = new float[10 * (i + 1)];
            for (int j = 0; j < v.length; j++) v[j] = (float) r.nextDouble(-2, 2);
            m.put(names[i], v);
        }
        return m;
    }

    /** Writes model() sharded at 200 bytes: shards of [40+80], [120], [160], [200], [240] bytes. */
    private Path shardedModel(String name) throws Exception {
        return SafetensorsTestFiles.writeModel(tmp.resolve(name), model(), Map.of("model.layers.1.w", new long[]{5, 6}), DType.F32, 200);
    }

    private static SafetensorsFormatException expect(Violation v, Path path) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> ModelFolder.open(path).close());
        assertEquals(v, e.violation(), e.getMessage());
        return e;
    }

    @Test
    void shardedWriteReadsBackThroughTheIndex() throws Exception {
        Path dir = shardedModel("sharded");
        Map<String, float[]> expected = model();
        try (ModelFolder m = ModelFolder.open(dir)) {
            assertEquals(ModelFolder.Layout.INDEXED, m.layout());
            assertEquals(5, m.shards().size());
            assertEquals(List.of("lm_head.weight", "model.embed.weight", "model.layers.0.b", "model.layers.0.w",
                    "model.layers.1.w", "model.norm"), m.tensors().stream().map(TensorInfo::name).toList());
            for (Map.Entry<String, float[]> e : expected.entrySet()) {
                assertArrayEquals(e.getValue(), SafetensorsTestFiles.readFloats(m.tensor(e.getKey())), e.getKey());
            }
            assertArrayEquals(new long[]{5, 6}, m.info("model.layers.1.w").shape());
            assertEquals(dir.resolve("model-00001-of-00005.safetensors"), m.shardOf("model.embed.weight"));
            assertEquals(dir.resolve("model-00001-of-00005.safetensors"), m.shardOf("model.layers.0.w"));
            assertEquals(dir.resolve("model-00005-of-00005.safetensors"), m.shardOf("model.norm"));
            assertEquals(Map.of("format", "pt"), m.metadata());
            assertEquals(Map.of("total_size", "840"), m.indexMetadata());
            assertEquals(dir, m.path());
        }
        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        assertEquals(840, index.get("metadata").get("total_size").asLong());
        assertEquals("model-00002-of-00005.safetensors", index.get("weight_map").get("model.layers.1.w").asText());
        assertEquals(6, index.get("weight_map").size());
    }

    @Test
    void singleFileFolderAndFilePath() throws Exception {
        Path dir = SafetensorsTestFiles.writeModel(tmp.resolve("single"), model(), Map.of(), DType.BF16);
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
        try (ModelFolder m = ModelFolder.open(dir); ModelFolder f = ModelFolder.open(dir.resolve("model.safetensors"))) {
            assertEquals(ModelFolder.Layout.SINGLE_FILE, m.layout());
            assertEquals(m.tensors(), f.tensors());
            assertEquals(dir.resolve("model.safetensors"), f.path());
            assertEquals(DType.BF16, m.info("model.norm").dtype());
        }
    }

    @Test
    void oneArbitrarilyNamedFileIsTheCheckpoint() throws Exception {
        Path dir = SafetensorsTestFiles.writeModel(tmp.resolve("single"), model(), Map.of(), DType.F16);
        Files.move(dir.resolve("model.safetensors"), dir.resolve("adapter_model.safetensors"));
        try (ModelFolder m = ModelFolder.open(dir)) {
            assertEquals(ModelFolder.Layout.SINGLE_FILE, m.layout());
            assertEquals(6, m.tensors().size());
        }
    }

    @Test
    void completeShardSetWithoutIndex() throws Exception {
        Path dir = shardedModel("noindex");
        Files.delete(dir.resolve("model.safetensors.index.json"));
        try (ModelFolder m = ModelFolder.open(dir)) {
            assertEquals(ModelFolder.Layout.SHARDS_WITHOUT_INDEX, m.layout());
            assertEquals(6, m.tensors().size());
            assertEquals(dir.resolve("model-00004-of-00005.safetensors"), m.shardOf("lm_head.weight"));
        }
    }

    @Test
    void incompleteShardSetWithoutIndexIsAmbiguous() throws Exception {
        Path dir = shardedModel("partial");
        Files.delete(dir.resolve("model.safetensors.index.json"));
        Files.delete(dir.resolve("model-00002-of-00005.safetensors"));
        expect(AMBIGUOUS_CHECKPOINT, dir);
    }

    @Test
    void unrelatedFilesAreAmbiguousAndAnEmptyFolderHasNoCheckpoint() throws Exception {
        Path dir = SafetensorsTestFiles.writeModel(tmp.resolve("two"), model(), Map.of(), DType.F32);
        Files.copy(dir.resolve("model.safetensors"), dir.resolve("model.fp32.safetensors"));
        Files.move(dir.resolve("model.safetensors"), dir.resolve("model.bf16.safetensors"));
        SafetensorsFormatException e = expect(AMBIGUOUS_CHECKPOINT, dir);
        assertTrue(e.getMessage().startsWith(dir.toString()), "names the folder: " + e.getMessage());
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Files.writeString(empty.resolve("config.json"), "{}");
        expect(NO_CHECKPOINT, empty);
    }

    @Test
    void tensorInTwoShardsWithoutIndex() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("dup"));
        Path a = SafetensorsTestFiles.writeModel(tmp.resolve("a"), Map.of("w", new float[]{1}), Map.of(), DType.F32);
        Files.copy(a.resolve("model.safetensors"), dir.resolve("model-00001-of-00002.safetensors"));
        Files.copy(a.resolve("model.safetensors"), dir.resolve("model-00002-of-00002.safetensors"));
        SafetensorsFormatException e = expect(TENSOR_IN_TWO_SHARDS, dir);
        assertEquals("w", e.tensor());
    }

    // ---- index validation ----

    private Path withIndex(String name, String weightMapJson) throws Exception {
        Path dir = shardedModel(name);
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":840},\"weight_map\":" + weightMapJson + "}");
        return dir;
    }

    /** The real weight map with one entry's value replaced. */
    private static String weightMap(String tensor, String shardJson) {
        StringBuilder sb = new StringBuilder("{");
        String[][] real = {{"model.embed.weight", "1"}, {"model.layers.0.w", "1"}, {"model.layers.1.w", "2"},
                {"model.layers.0.b", "3"}, {"lm_head.weight", "4"}, {"model.norm", "5"}};
        for (String[] e : real) {
            if (sb.length() > 1) sb.append(',');
            String shard = e[0].equals(tensor) ? shardJson : "\"model-0000" + e[1] + "-of-00005.safetensors\"";
            sb.append('"').append(e[0]).append("\":").append(shard);
        }
        return sb.append('}').toString();
    }

    @Test
    void theHandWrittenWeightMapMatchesTheWriter() throws Exception {
        Path dir = withIndex("ok", weightMap("none", null));
        try (ModelFolder m = ModelFolder.open(dir)) {
            assertEquals(6, m.tensors().size());
        }
    }

    @Test
    void indexPointingOutsideTheFolderWithDotDot() throws Exception {
        Path dir = withIndex("dotdot", weightMap("model.norm", "\"../model-00005-of-00005.safetensors\""));
        Files.copy(dir.resolve("model-00005-of-00005.safetensors"), tmp.resolve("model-00005-of-00005.safetensors"));
        SafetensorsFormatException e = expect(SHARD_PATH_ESCAPES, dir);
        assertEquals(dir.resolve("model.safetensors.index.json"), e.file());
        assertEquals("model.norm", e.tensor());
    }

    @Test
    void indexPointingOutsideTheFolderWithAnAbsolutePath() throws Exception {
        Path outside = shardedModel("victim").resolve("model-00005-of-00005.safetensors").toAbsolutePath();
        Path dir = withIndex("absolute", weightMap("model.norm", "\"" + outside + "\""));
        expect(SHARD_PATH_ESCAPES, dir);
    }

    @Test
    void indexPointingOutsideTheFolderThroughALink() throws Exception {
        Path outside = shardedModel("victim").resolve("model-00005-of-00005.safetensors").toAbsolutePath();
        Path dir = withIndex("link", weightMap("model.norm", "\"innocent.safetensors\""));
        Files.delete(dir.resolve("model-00005-of-00005.safetensors"));
        Files.createSymbolicLink(dir.resolve("innocent.safetensors"), outside);
        SafetensorsFormatException e = expect(SHARD_PATH_ESCAPES, dir);
        assertTrue(e.getMessage().contains("innocent.safetensors"), e.getMessage());
    }

    @Test
    void aLinkInsideTheFolderIsFine() throws Exception {
        Path dir = withIndex("innerlink", weightMap("model.norm", "\"sub/last.safetensors\""));
        Files.createDirectory(dir.resolve("sub"));
        Files.move(dir.resolve("model-00005-of-00005.safetensors"), dir.resolve("real.bin"));
        Files.createSymbolicLink(dir.resolve("sub/last.safetensors"), Path.of("../real.bin"));
        try (ModelFolder m = ModelFolder.open(dir)) {
            assertEquals(dir.resolve("sub/last.safetensors"), m.shardOf("model.norm"));
        }
    }

    @Test
    void huggingFaceCacheSnapshotLinksIntoBlobsAreAccepted() throws Exception {
        Path written = shardedModel("src");
        Path repo = tmp.resolve("models--org--name");
        Path blobs = Files.createDirectories(repo.resolve("blobs"));
        Path snapshot = Files.createDirectories(repo.resolve("snapshots").resolve("0123abcd"));
        try (var files = Files.list(written)) {
            for (Path f : files.toList()) {
                Path blob = Files.move(f, blobs.resolve("sha-" + f.getFileName()));
                Files.createSymbolicLink(snapshot.resolve(f.getFileName()), Path.of("../../blobs").resolve(blob.getFileName()));
            }
        }
        try (ModelFolder m = ModelFolder.open(snapshot)) {
            assertEquals(ModelFolder.Layout.INDEXED, m.layout());
            assertEquals(6, m.tensors().size());
        }
    }

    @Test
    void indexTensorMissingInItsShard() throws Exception {
        Path dir = withIndex("missing", weightMap("model.norm", "\"model-00001-of-00005.safetensors\""));
        SafetensorsFormatException e = expect(INDEX_TENSOR_MISSING, dir);
        assertEquals("model.norm", e.tensor());
        assertTrue(e.getMessage().contains("model-00001-of-00005.safetensors"), e.getMessage());
    }

    @Test
    void shardTensorMissingInTheIndex() throws Exception {
        Path dir = withIndex("unlisted", "{\"model.embed.weight\":\"model-00001-of-00005.safetensors\"}");
        SafetensorsFormatException e = expect(TENSOR_NOT_IN_INDEX, dir);
        assertEquals("model.layers.0.w", e.tensor());
    }

    @Test
    void tensorInTwoShardsWithIndex() throws Exception {
        Path dir = withIndex("twice", weightMap("none", null));
        // Shard 5 gets a second copy of shard 1's tensors under its own name: now model.embed.weight is in 1 and 5.
        Files.copy(dir.resolve("model-00001-of-00005.safetensors"), dir.resolve("model-00005-of-00005.safetensors"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":{"
                + "\"model.embed.weight\":\"model-00001-of-00005.safetensors\","
                + "\"model.layers.0.w\":\"model-00005-of-00005.safetensors\"}}");
        SafetensorsFormatException e = expect(TENSOR_IN_TWO_SHARDS, dir);
        assertEquals("model.layers.0.w", e.tensor());
    }

    @Test
    void shardFileMissing() throws Exception {
        Path dir = withIndex("gone", weightMap("model.norm", "\"model-00009-of-00005.safetensors\""));
        expect(SHARD_MISSING, dir);
    }

    @Test
    void duplicateTensorInTheWeightMap() throws Exception {
        Path dir = withIndex("dupkey", "{\"a\":\"model-00001-of-00005.safetensors\",\"a\":\"model-00002-of-00005.safetensors\"}");
        SafetensorsFormatException e = expect(DUPLICATE_NAME, dir);
        assertEquals("a", e.tensor());
    }

    @Test
    void malformedIndex() throws Exception {
        Path dir = shardedModel("malformed");
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\":{}}");
        expect(INDEX_MALFORMED, dir);
        Files.writeString(index, "{\"weight_map\":{\"a\":1}}");
        expect(INDEX_MALFORMED, dir);
        Files.writeString(index, "{\"weight_map\":");
        SafetensorsFormatException e = expect(MALFORMED_JSON, dir);
        assertEquals(index, e.file());
    }

    @Test
    void aBadShardHeaderIsReportedWithTheShardFile() throws Exception {
        Path dir = shardedModel("badshard");
        Path shard = dir.resolve("model-00003-of-00005.safetensors");
        Files.write(shard, new byte[]{1, 2, 3});
        SafetensorsFormatException e = expect(HEADER_TRUNCATED, dir);
        assertEquals(shard, e.file());
    }

    /** A shard one byte short of its last tensor's end fails through the index, naming that shard; intact it opens. */
    @Test
    void shardDataOneBytePastItsEndIsReportedWithTheShardFile() throws Exception {
        Path dir = shardedModel("shortshard");
        try (ModelFolder f = ModelFolder.open(dir)) {
            for (String name : model().keySet()) assertTrue(f.contains(name), name);
        }
        Path shard = dir.resolve("model-00005-of-00005.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length - 1));
        SafetensorsFormatException e = expect(OFFSETS_OUT_OF_BOUNDS, dir);
        assertEquals(shard, e.file());
    }
}

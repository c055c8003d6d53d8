package dev.amalgam.io;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class ShardWriterTest {

    @TempDir
    Path tmp;

    private static final List<TensorInfo> INFOS = List.of(
            new TensorInfo("a", DType.F32, new long[]{4}),
            new TensorInfo("b", DType.F32, new long[]{4}),
            new TensorInfo("c", DType.BF16, new long[]{2, 3}));

    /** Entries of the parent folder: nothing hidden (temporary or old folders) may be left behind. */
    private List<String> listing(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void fill(ShardWriter w, float value) {
        for (TensorInfo t : INFOS) {
            Tensor tensor = w.tensorFor(t.name());
            for (int i = 0; i < tensor.elementCount(); i++) tensor.setFloat(i, value + i);
        }
    }

    @Test
    void writesIntoAHiddenTemporaryFolderAndRenamesAtFinish() throws Exception {
        Path target = tmp.resolve("out");
        try (ShardWriter w = ShardWriter.builder(target, INFOS).maxShardSize(16).open()) {
            assertEquals(3, w.plan().shards().size());
            assertEquals(tmp, w.tempFolder().getParent());
            assertTrue(w.tempFolder().getFileName().toString().startsWith(".out.amalgam-tmp-"));
            assertFalse(Files.exists(target));
            // Headers are written at open, before any tensor.
            assertTrue(Files.size(w.tempFolder().resolve("model-00001-of-00003.safetensors")) > 16);
            fill(w, 1f);
            assertEquals(target, w.finish());
        }
        assertEquals(List.of("out"), listing(tmp));
        assertEquals(List.of(ShardWriter.MARKER_FILE_NAME, "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                "model-00003-of-00003.safetensors", "model.safetensors.index.json"), listing(target));
        try (ModelFolder m = ModelFolder.open(target)) {
            assertArrayEquals(new float[]{1, 2, 3, 4}, SafetensorsTestFiles.readFloats(m.tensor("b")));
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, SafetensorsTestFiles.readFloats(m.tensor("c")));
        }
        String index = Files.readString(target.resolve("model.safetensors.index.json"));
        assertEquals("""
                {
                  "metadata": {
                    "total_size": 44
                  },
                  "weight_map": {
                    "a": "model-00001-of-00003.safetensors",
                    "b": "model-00002-of-00003.safetensors",
                    "c": "model-00003-of-00003.safetensors"
                  }
                }
                """, index);
    }

    @Test
    void tensorsFlushedInTheBackgroundEndUpInTheFileAndAbortStillCleansUp() throws Exception {
        Path target = tmp.resolve("flushed");
        try (ShardWriter w = ShardWriter.builder(target, INFOS).maxShardSize(16).open()) {
            for (TensorInfo t : INFOS) {
                Tensor tensor = w.tensorFor(t.name());
                for (int i = 0; i < tensor.elementCount(); i++) tensor.setFloat(i, 7f + i);
                w.written(t.name());
            }
            w.finish();
        }
        try (ModelFolder m = ModelFolder.open(target)) {
            assertArrayEquals(new float[]{7, 8, 9, 10}, SafetensorsTestFiles.readFloats(m.tensor("a")));
            assertArrayEquals(new float[]{7, 8, 9, 10, 11, 12}, SafetensorsTestFiles.readFloats(m.tensor("c")));
        }

        Path aborted = tmp.resolve("aborted");
        try (ShardWriter w = ShardWriter.builder(aborted, INFOS).open()) {
            fill(w, 1f);
            w.written("a");
            w.written("b");
            w.abort();
        }
        assertFalse(Files.exists(aborted));
        assertEquals(List.of("flushed"), listing(tmp));
    }

    @Test
    void refusesANonEmptyTargetWithoutForce() throws Exception {
        Path target = Files.createDirectory(tmp.resolve("out"));
        Files.writeString(target.resolve("keep.txt"), "precious");
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                () -> ShardWriter.builder(target, INFOS).open());
        assertTrue(e.getMessage().contains(target.toString()), e.getMessage());
        assertEquals(List.of("out"), listing(tmp), "no temporary folder created");
        assertEquals("precious", Files.readString(target.resolve("keep.txt")));
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertThrows(FileAlreadyExistsException.class, () -> ShardWriter.builder(file, INFOS).open());
    }

    @Test
    void anEmptyTargetFolderIsUsed() throws Exception {
        Path target = Files.createDirectory(tmp.resolve("out"));
        try (ShardWriter w = ShardWriter.builder(target, INFOS).open()) {
            fill(w, 0f);
            w.finish();
        }
        assertEquals(List.of(ShardWriter.MARKER_FILE_NAME, "model.safetensors"), listing(target));
    }

    @Test
    void forceReplacesTheOldTargetOnlyAtFinish() throws Exception {
        Path target = Files.createDirectory(tmp.resolve("out"));
        Files.writeString(target.resolve("old.txt"), "old");
        Files.writeString(target.resolve(ShardWriter.MARKER_FILE_NAME), ""); // an earlier output
        try (ShardWriter w = ShardWriter.builder(target, INFOS).force(true).open()) {
            fill(w, 7f);
            assertEquals("old", Files.readString(target.resolve("old.txt")), "old output intact until finish");
            w.finish();
        }
        assertEquals(List.of("out"), listing(tmp), "old output and temporary folder gone");
        assertEquals(List.of(ShardWriter.MARKER_FILE_NAME, "model.safetensors"), listing(target));
        try (ModelFolder m = ModelFolder.open(target)) {
            assertEquals(7f, m.tensor("a").getFloat(0));
        }
    }

    @Test
    void abortedOrUnfinishedWritersLeaveNothing() throws Exception {
        Path target = tmp.resolve("out");
        Path temp;
        try (ShardWriter w = ShardWriter.builder(target, INFOS).maxShardSize(16).open()) {
            temp = w.tempFolder();
            fill(w, 1f);
            assertTrue(Files.isDirectory(temp));
        } // closed without finish
        assertFalse(Files.exists(temp));
        assertEquals(List.of(), listing(tmp));

        ShardWriter w = ShardWriter.builder(target, INFOS).open();
        MemorySegment s = w.segmentFor("a");
        w.abort();
        w.abort(); // idempotent
        assertEquals(List.of(), listing(tmp));
        assertThrows(IllegalStateException.class, () -> s.get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0), "mapping released");
        assertThrows(IllegalStateException.class, () -> w.segmentFor("a"));
        assertThrows(IllegalStateException.class, w::finish);
    }

    @Test
    void abortWithForceKeepsTheOldTarget() throws Exception {
        Path target = Files.createDirectory(tmp.resolve("out"));
        Files.writeString(target.resolve("old.txt"), "old");
        Files.writeString(target.resolve(ShardWriter.MARKER_FILE_NAME), ""); // an earlier output
        try (ShardWriter w = ShardWriter.builder(target, INFOS).force(true).open()) {
            fill(w, 1f);
        }
        assertEquals(List.of("out"), listing(tmp));
        assertEquals(List.of(ShardWriter.MARKER_FILE_NAME, "old.txt"), listing(target));
    }

    @Test
    void finishRefusesWhileATensorWasNeverWritten() throws Exception {
        Path target = tmp.resolve("out");
        try (ShardWriter w = ShardWriter.builder(target, INFOS).open()) {
            w.segmentFor("a");
            IllegalStateException e = assertThrows(IllegalStateException.class, w::finish);
            assertTrue(e.getMessage().contains("[b, c]"), e.getMessage());
            w.segmentFor("b");
            w.segmentFor("c");
            w.finish();
        }
        assertTrue(Files.isRegularFile(target.resolve("model.safetensors")));
    }

    @Test
    void segmentsAreInvalidAfterFinishAndUnknownNamesAreRejected() throws Exception {
        try (ShardWriter w = ShardWriter.builder(tmp.resolve("out"), INFOS).open()) {
            assertThrows(java.util.NoSuchElementException.class, () -> w.segmentFor("zzz"));
            fill(w, 1f);
            Tensor a = w.tensorFor("a");
            w.finish();
            assertThrows(IllegalStateException.class, () -> a.setFloat(0, 1f));
            w.abort(); // no-op after finish
        }
        assertTrue(Files.isDirectory(tmp.resolve("out")));
    }

    @Test
    void putCopiesPassThroughBytes() throws Exception {
        TensorInfo ids = new TensorInfo("ids", DType.I8, new long[]{3});
        try (ShardWriter w = ShardWriter.builder(tmp.resolve("out"), List.of(ids)).open()) {
            assertThrows(IllegalArgumentException.class, () -> w.put("ids", MemorySegment.ofArray(new byte[2])));
            w.put("ids", MemorySegment.ofArray(new byte[]{-1, 0, 5}));
            w.finish();
        }
        try (ModelFolder m = ModelFolder.open(tmp.resolve("out"))) {
            assertArrayEquals(new byte[]{-1, 0, 5}, SafetensorsTestFiles.bytes(m.tensor("ids")));
        }
    }

    @Test
    void nonWeightFilesAreListedAndCopied() throws Exception {
        Path base = Files.createDirectory(tmp.resolve("base"));
        for (String n : List.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "model.safetensors", "model-00001-of-00002.safetensors", "model.safetensors.index.json",
                "pytorch_model.bin", "pytorch_model.bin.index.json", ".gitattributes")) {
            Files.writeString(base.resolve(n), "content of " + n);
        }
        Files.createDirectory(base.resolve("original"));
        Files.createSymbolicLink(base.resolve("special_tokens_map.json"), base.resolve("tokenizer.json"));
        List<Path> files = ShardWriter.nonWeightFiles(base);
        assertEquals(List.of("config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.json",
                "tokenizer_config.json"), files.stream().map(p -> p.getFileName().toString()).toList());

        Path target = tmp.resolve("out");
        try (ShardWriter w = ShardWriter.builder(target, INFOS).maxShardSize(16).copyFiles(files).open()) {
            fill(w, 1f);
            w.finish();
        }
        assertEquals("content of config.json", Files.readString(target.resolve("config.json")));
        assertEquals("content of tokenizer.json", Files.readString(target.resolve("special_tokens_map.json")));
        assertFalse(Files.isSymbolicLink(target.resolve("special_tokens_map.json")), "links are copied as files");
        assertEquals(10, listing(target).size()); // 9 + the output marker
    }

    @Test
    void copyFilesAreCheckedAtOpen() throws Exception {
        Path clash = Files.writeString(Files.createDirectory(tmp.resolve("src")).resolve("model.safetensors"), "x");
        Path target = tmp.resolve("out");
        assertThrows(AmalgamIOException.class, () -> ShardWriter.builder(target, INFOS).copyFiles(List.of(clash)).open());
        assertThrows(NoSuchFileException.class,
                () -> ShardWriter.builder(target, INFOS).copyFiles(List.of(tmp.resolve("nope.json"))).open());
        assertEquals(List.of("src"), listing(tmp));
    }

    @Test
    void createsMissingParentFolders() throws Exception {
        Path target = tmp.resolve("a/b/out");
        try (ShardWriter w = ShardWriter.builder(target, INFOS).metadata(Map.of()).open()) {
            fill(w, 1f);
            w.finish();
        }
        assertTrue(Files.isRegularFile(target.resolve("model.safetensors")));
    }
}

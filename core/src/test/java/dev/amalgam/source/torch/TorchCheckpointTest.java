package dev.amalgam.source.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TorchCheckpointTest {

    @TempDir
    Path tmp;

    /** A safetensors folder with awkward shapes and its tensors. */
    private ModelFolder twin(String name, DType dtype, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> values = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long[][] dims = {{7, 13}, {13}, {3, 5, 2}, {1}, {1, 300}};
        for (int i = 0; i < dims.length; i++) {
            String n = "model.layers." + i + ".w";
            float[] v = new float[(int) dev.amalgam.tensor.TensorInfo.elementCount(dims[i])];
            for (int j = 0; j < v.length; j++) v[j] = (float) r.nextGaussian();
            values.put(n, v);
            shapes.put(n, dims[i]);
        }
        return ModelFolder.open(SafetensorsTestFiles.writeModel(tmp.resolve(name), values, shapes, dtype));
    }

    @Test
    void readsTensorsBitForBitAsWritten() throws IOException {
        for (DType d : List.of(DType.F32, DType.BF16, DType.F16)) {
            try (ModelFolder st = twin("st-" + d, d, 11)) {
                Path bin = TorchZipWriter.write(tmp.resolve("bin-" + d).resolve(TorchCheckpoint.SINGLE_FILE_NAME), tensors(st));
                try (TorchCheckpoint pt = TorchCheckpoint.open(bin.getParent())) {
                    assertEquals(st.tensors(), pt.tensors());
                    for (var info : st.tensors()) {
                        assertArrayEquals(SafetensorsTestFiles.bytes(st.tensor(info.name())),
                                SafetensorsTestFiles.bytes(pt.tensor(info.name())), info.name());
                        assertTrue(pt.tensor(info.name()).data().isReadOnly());
                    }
                }
            }
        }
    }

    @Test
    void readsAShardedIndex() throws IOException {
        try (ModelFolder st = twin("st", DType.F32, 5)) {
            List<Tensor> all = tensors(st);
            Path dir = tmp.resolve("sharded");
            TorchZipWriter.write(dir.resolve("pytorch_model-00001-of-00002.bin"), all.subList(0, 2));
            TorchZipWriter.write(dir.resolve("pytorch_model-00002-of-00002.bin"), all.subList(2, all.size()));
            StringBuilder map = new StringBuilder();
            for (int i = 0; i < all.size(); i++) {
                map.append(i == 0 ? "" : ",").append('"').append(all.get(i).name()).append("\":\"pytorch_model-0000")
                        .append(i < 2 ? 1 : 2).append("-of-00002.bin\"");
            }
            Files.writeString(dir.resolve(TorchCheckpoint.INDEX_FILE_NAME), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
            try (TorchCheckpoint pt = TorchCheckpoint.open(dir)) {
                assertEquals(st.tensors(), pt.tensors());
                for (var info : st.tensors()) {
                    assertArrayEquals(SafetensorsTestFiles.bytes(st.tensor(info.name())), SafetensorsTestFiles.bytes(pt.tensor(info.name())));
                }
            }
        }
    }

    @Test
    void refusesAForeignGlobalNamingIt() throws IOException {
        try (ModelFolder st = twin("st", DType.F32, 1)) {
            TorchZipWriter w = new TorchZipWriter().foreignGlobal("os.system");
            Path bin = w.writeArchive(tmp.resolve("evil.bin"), w.statePickle(tensors(st)), false);
            IOException e = assertThrows(IOException.class, () -> TorchCheckpoint.open(bin));
            assertTrue(e.getMessage().contains("refused global `os.system`"), e.getMessage());
            assertTrue(e.getMessage().contains("evil.bin"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
    }

    @Test
    void refusesCompressedTruncatedAndLegacyFiles() throws IOException {
        try (ModelFolder st = twin("st", DType.F32, 2)) {
            TorchZipWriter w = new TorchZipWriter();
            Path zipped = w.writeArchive(tmp.resolve("deflated.bin"), w.statePickle(tensors(st)), true);
            assertOneLine(assertThrows(IOException.class, () -> TorchCheckpoint.open(zipped)), "compressed");
            Path ok = TorchZipWriter.write(tmp.resolve("ok.bin"), tensors(st));
            byte[] all = Files.readAllBytes(ok);
            Path cut = Files.write(tmp.resolve("cut.bin"), java.util.Arrays.copyOf(all, all.length / 2));
            assertOneLine(assertThrows(IOException.class, () -> TorchCheckpoint.open(cut)), "truncated");
            Path legacy = Files.write(tmp.resolve("legacy.bin"), new byte[]{(byte) 0x80, 2, (byte) 0x8a, 10});
            assertOneLine(assertThrows(IOException.class, () -> TorchCheckpoint.open(legacy)), "legacy");
            Path empty = Files.write(tmp.resolve("empty.bin"), new byte[0]);
            assertOneLine(assertThrows(IOException.class, () -> TorchCheckpoint.open(empty)), "not a zip");
        }
    }

    /** Random damage to the pickle and the zip gives an IOException (never another exception), or a valid read. */
    @Test
    void fuzzedArchivesFailCleanly() throws IOException {
        try (ModelFolder st = twin("st", DType.F32, 3)) {
            Path ok = TorchZipWriter.write(tmp.resolve("ok.bin"), tensors(st));
            byte[] good = Files.readAllBytes(ok);
            SplittableRandom r = new SplittableRandom(42);
            int failures = 0;
            for (int round = 0; round < 400; round++) {
                byte[] b = good.clone();
                int edits = 1 + r.nextInt(4);
                for (int k = 0; k < edits; k++) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                if (r.nextInt(5) == 0) b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
                Path f = Files.write(tmp.resolve("fuzz.bin"), b);
                try (TorchCheckpoint pt = TorchCheckpoint.open(f)) {
                    for (var info : pt.tensors()) pt.tensor(info.name()).data().byteSize();
                } catch (IOException expected) {
                    failures++;
                    assertFalse(expected.getMessage().isBlank());
                }
            }
            assertTrue(failures > 0);
            // Pickle-only fuzz: random bytes after a valid header must be refused, never executed.
            for (int round = 0; round < 400; round++) {
                byte[] p = new byte[1 + r.nextInt(64)];
                for (int i = 0; i < p.length; i++) p[i] = (byte) r.nextInt(256);
                try {
                    RestrictedUnpickler.stateDict(java.lang.foreign.MemorySegment.ofArray(p), "fuzz");
                } catch (TorchFormatException expected) {
                    assertFalse(expected.getMessage().isBlank());
                }
            }
        }
    }

    private static void assertOneLine(IOException e, String word) {
        assertTrue(e.getMessage().contains(word), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    static List<Tensor> tensors(ModelFolder st) {
        List<Tensor> out = new ArrayList<>();
        for (var info : st.tensors()) out.add(st.tensor(info.name()));
        return out;
    }
}

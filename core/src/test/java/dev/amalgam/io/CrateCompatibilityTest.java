package dev.amalgam.io;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Agreement with the reference implementation: {@code crate-written.safetensors} was written by
 * the Python {@code safetensors} package 0.8.0 (Rust crate), with
 * <pre>
 *   rng = np.random.default_rng(7)
 *   save_file({"z.weight": rng.standard_normal((3,5)).astype(np.float32),
 *              "a.bias": rng.standard_normal((7,)).astype(np.float16),
 *              "ids": np.array([1,-2,3], dtype=np.int64), "mask": np.array([True,False,True]),
 *              "scalar": np.array(3.5, dtype=np.float64), "empty": np.zeros((0,4), dtype=np.float32),
 *              "u": np.arange(5, dtype=np.uint8)},
 *             "crate-written.safetensors", metadata={"format": "pt", "note": "hé"})
 * </pre>
 * and Python read back Amalgam's sharded output of the same tensors unchanged (checked once by hand).
 */
class CrateCompatibilityTest {

    @TempDir
    Path tmp;

    private Path crateFile() throws Exception {
        Path p = tmp.resolve("crate-written.safetensors");
        try (InputStream in = getClass().getResourceAsStream("crate-written.safetensors")) {
            Files.copy(in, p);
        }
        return p;
    }

    @Test
    void readsTheCratesFile() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(crateFile())) {
            assertEquals(List.of("ids", "scalar", "empty", "z.weight", "a.bias", "u", "mask"),
                    f.tensors().stream().map(TensorInfo::name).toList());
            assertEquals(Map.of("format", "pt", "note", "hé"), f.metadata());
            assertEquals(new TensorInfo("a.bias", DType.F16, new long[]{7}), f.info("a.bias"));
            assertEquals(0x1.427a32p-10f, f.tensor("z.weight").getFloat(0));
            assertEquals(-0x1.e18p-3f, f.tensor("a.bias").getFloat(6));
            assertEquals(3.5f, f.tensor("scalar").getFloat(0));
            assertEquals(-2L, f.tensor("ids").data().getAtIndex(
                    ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 1));
            assertArrayEquals(new byte[]{1, 0, 1}, SafetensorsTestFiles.bytes(f.tensor("mask")));
        }
    }

    @Test
    void rewritingInTheSameOrderReproducesTheCratesBytes() throws Exception {
        Path in = crateFile();
        Path out = tmp.resolve("out");
        try (SafetensorsFile f = SafetensorsFile.open(in);
             ShardWriter w = ShardWriter.builder(out, f.tensors()).metadata(f.metadata()).open()) {
            for (TensorInfo t : f.tensors()) w.put(t.name(), f.tensor(t.name()).data());
            w.finish();
        }
        assertArrayEquals(Files.readAllBytes(in), Files.readAllBytes(out.resolve("model.safetensors")));
    }
}

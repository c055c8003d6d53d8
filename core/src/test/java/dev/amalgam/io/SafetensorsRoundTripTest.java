package dev.amalgam.io;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

import static org.junit.jupiter.api.Assertions.*;

/** Write with {@link ShardWriter}, read back with {@link SafetensorsFile}: bytes, infos, order, metadata. */
class SafetensorsRoundTripTest {

    private static final long SEED = 0x5AFE_7E50L;

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(DType.class)
    void everyDtypeRoundTripsBitExactIncludingScalarAndEmptyTensors(DType dtype) throws Exception {
        List<TensorInfo> infos = List.of(
                new TensorInfo("layers.0.weight", dtype, new long[]{3, 5}),
                new TensorInfo("scalar", dtype, new long[0]),
                new TensorInfo("empty", dtype, new long[]{0, 4}),
                new TensorInfo("bias", dtype, new long[]{7}));
        long seed = SEED + dtype.ordinal();
        System.out.println("round trip " + dtype + " seed " + seed);
        Map<String, byte[]> written = new LinkedHashMap<>();
        Path out = tmp.resolve("out");
        try (ShardWriter w = ShardWriter.builder(out, infos).open()) {
            int k = 0;
            for (TensorInfo t : infos) {
                byte[] bytes = SafetensorsTestFiles.randomBytes(seed + k++, (int) t.byteSize());
                w.segmentFor(t.name()).copyFrom(MemorySegment.ofArray(bytes));
                written.put(t.name(), bytes);
            }
            w.finish();
        }
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals(infos, f.tensors(), "file order = write order");
            for (TensorInfo t : infos) {
                Tensor read = f.tensor(t.name());
                assertEquals(t, read.info());
                assertArrayEquals(written.get(t.name()), SafetensorsTestFiles.bytes(read), t.name());
            }
            assertEquals(1, f.tensor("scalar").elementCount());
            assertEquals(0, f.tensor("empty").data().byteSize());
            assertTrue(f.tensor("bias").data().isReadOnly(), "views of an input are read-only");
            assertEquals(0, f.header().dataStart() % 8);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32", "F16", "BF16"})
    void floatValuesSurviveInEveryFloatDtype(DType dtype) throws Exception {
        // Values exactly representable in all four dtypes, including signs, zero and a subnormal-free range.
        float[] values = {0f, -0f, 1f, -2.5f, 0.125f, 96f, -1024f, 3.0f};
        Map<String, float[]> model = new LinkedHashMap<>();
        model.put("w", values);
        Path dir = SafetensorsTestFiles.writeModel(tmp.resolve("m"), model, Map.of("w", new long[]{2, 4}), dtype);
        try (ModelFolder m = ModelFolder.open(dir)) {
            Tensor t = m.tensor("w");
            assertEquals(dtype, t.dtype());
            assertArrayEquals(new long[]{2, 4}, t.info().shape());
            float[] read = SafetensorsTestFiles.readFloats(t);
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.floatToIntBits(values[i]), Float.floatToIntBits(read[i]), "element " + i);
            }
        }
    }

    @Test
    void bf16NarrowingRoundsToNearestEven() throws Exception {
        // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties to even gives 1.0.
        float halfway = 1f + 0x1p-8f;
        Path dir = SafetensorsTestFiles.writeModel(tmp.resolve("m"), Map.of("w", new float[]{halfway, 1f + 0x1p-7f + 0x1p-8f}),
                Map.of(), DType.BF16);
        try (ModelFolder m = ModelFolder.open(dir)) {
            assertArrayEquals(new float[]{1f, 1f + 0x1p-6f}, SafetensorsTestFiles.readFloats(m.tensor("w")));
        }
    }

    @Test
    void metadataIsKeptDefaultedOrOmitted() throws Exception {
        TensorInfo t = new TensorInfo("x", DType.U8, new long[]{3});
        Map<String, String> md = new LinkedHashMap<>();
        md.put("format", "pt");
        md.put("merged_by", "amalgam ✓");
        Path withMd = write(tmp.resolve("a"), List.of(t), md);
        Path defaulted = tmp.resolve("b");
        try (ShardWriter w = ShardWriter.builder(defaulted, List.of(t)).open()) {
            w.put("x", MemorySegment.ofArray(new byte[]{1, 2, 3}));
            w.finish();
        }
        Path none = write(tmp.resolve("c"), List.of(t), Map.of());
        try (ModelFolder a = ModelFolder.open(withMd); ModelFolder b = ModelFolder.open(defaulted);
             ModelFolder c = ModelFolder.open(none)) {
            assertEquals(md, a.metadata());
            assertEquals(List.copyOf(md.keySet()), List.copyOf(a.metadata().keySet()), "order kept");
            assertEquals(Map.of("format", "pt"), b.metadata());
            assertEquals(Map.of(), c.metadata());
            assertArrayEquals(new byte[]{1, 2, 3}, SafetensorsTestFiles.bytes(b.tensor("x")));
        }
        String header = new String(Files.readAllBytes(none.resolve("model.safetensors")), 8, 20, java.nio.charset.StandardCharsets.UTF_8);
        assertFalse(header.contains("__metadata__"));
    }

    @Test
    void viewsBecomeInvalidAfterClose() throws Exception {
        TensorInfo t = new TensorInfo("x", DType.F32, new long[]{2});
        Path dir = write(tmp.resolve("a"), List.of(t), Map.of());
        Tensor view;
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            view = f.tensor("x");
            assertEquals(0f, view.getFloat(1));
        }
        assertThrows(IllegalStateException.class, () -> view.getFloat(0));
    }

    @Test
    void unknownTensorNamesTheFileAndTheTensor() throws Exception {
        Path dir = write(tmp.resolve("a"), List.of(new TensorInfo("x", DType.F32, new long[]{2})), Map.of());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"));
             ModelFolder m = ModelFolder.open(dir)) {
            NoSuchElementException e = assertThrows(NoSuchElementException.class, () -> f.tensor("nope"));
            assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains("'nope'"), e.getMessage());
            e = assertThrows(NoSuchElementException.class, () -> m.info("nope"));
            assertTrue(e.getMessage().contains(dir.toString()) && e.getMessage().contains("'nope'"), e.getMessage());
            assertFalse(m.contains("nope"));
            assertTrue(m.contains("x"));
        }
    }

    @Test
    void aFileWithNoTensorsRoundTrips() throws Exception {
        Path dir = write(tmp.resolve("a"), List.of(), Map.of("format", "pt"));
        try (ModelFolder m = ModelFolder.open(dir)) {
            assertEquals(List.of(), m.tensors());
            assertEquals(Map.of("format", "pt"), m.metadata());
        }
    }

    @Test
    void readsTheIntegerValuesItWasGiven() throws Exception {
        TensorInfo t = new TensorInfo("ids", DType.I64, new long[]{3});
        Path out = tmp.resolve("ints");
        try (ShardWriter w = ShardWriter.builder(out, List.of(t)).open()) {
            MemorySegment s = w.segmentFor("ids");
            long[] values = {-1L, Long.MAX_VALUE, 42L};
            for (int i = 0; i < 3; i++) s.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), i, values[i]);
            w.finish();
        }
        byte[] file = Files.readAllBytes(out.resolve("model.safetensors"));
        // The last 8 bytes are 42 little-endian.
        assertEquals(42, file[file.length - 8]);
        for (int i = 1; i < 8; i++) assertEquals(0, file[file.length - 8 + i]);
        try (ModelFolder m = ModelFolder.open(out)) {
            assertEquals(Long.MAX_VALUE, m.tensor("ids").data().getAtIndex(
                    ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 1));
        }
    }

    private static Path write(Path dir, List<TensorInfo> infos, Map<String, String> metadata) throws Exception {
        try (ShardWriter w = ShardWriter.builder(dir, new ArrayList<>(infos)).metadata(metadata).open()) {
            for (TensorInfo t : infos) w.segmentFor(t.name());
            return w.finish();
        }
    }
}

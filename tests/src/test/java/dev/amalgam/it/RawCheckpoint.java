package dev.amalgam.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.SafetensorsTestFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes a {@code model.safetensors} with tensors of any dtype (integers, bool, F64, 0-D, empty) from raw bytes. */
final class RawCheckpoint {

    private record Entry(String name, String dtype, long[] shape, byte[] data) {
    }

    private final List<Entry> entries = new ArrayList<>();

    RawCheckpoint add(String name, String dtype, long[] shape, byte[] data) {
        entries.add(new Entry(name, dtype, shape, data));
        return this;
    }

    RawCheckpoint f32(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        return add(name, "F32", shape, b.array());
    }

    RawCheckpoint f64(String name, long[] shape, double... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) b.putDouble(v);
        return add(name, "F64", shape, b.array());
    }

    RawCheckpoint f16(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putShort(Float.floatToFloat16(v));
        return add(name, "F16", shape, b.array());
    }

    RawCheckpoint i64(String name, long... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) b.putLong(v);
        return add(name, "I64", new long[] {values.length}, b.array());
    }

    /** Writes {@code dir/model.safetensors} (header padded with spaces to 8 bytes) and a config.json. */
    Path writeTo(Path dir) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (Entry e : entries) {
            long begin = data.size();
            data.write(e.data());
            header.put(e.name(), Map.of("dtype", e.dtype(), "shape", e.shape(), "data_offsets", new long[] {begin, data.size()}));
        }
        StringBuilder json = new StringBuilder(new ObjectMapper().writeValueAsString(header));
        while (json.length() % 8 != 0) json.append(' ');
        Files.createDirectories(dir);
        SafetensorsTestFiles.writeRaw(dir.resolve("model.safetensors"), json.toString(), data.toByteArray());
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"test\"}\n");
        return dir;
    }
}

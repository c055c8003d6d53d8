package dev.amalgam.io;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Test fixture: writes model folders and hand-crafted (also broken) safetensors files.
 * Reusable from other modules through core's test-jar.
 */
public final class SafetensorsTestFiles {

    private SafetensorsTestFiles() {
    }

    /**
     * Writes {@code values} (in the map's iteration order) as a checkpoint folder {@code dir} with
     * one dtype (F32, F16, BF16 or F64; narrowing rounds to nearest even) in a single
     * {@code model.safetensors}.
     *
     * @param shapes shape per name; a name without one is 1-D of its value count
     */
    public static Path writeModel(Path dir, Map<String, float[]> values, Map<String, long[]> shapes, DType dtype)
            throws IOException {
        return writeModel(dir, values, shapes, dtype, ShardPlan.DEFAULT_MAX_SHARD_SIZE);
    }

    /** As {@link #writeModel(Path, Map, Map, DType)}, sharded at {@code maxShardSize} data bytes. */
    public static Path writeModel(Path dir, Map<String, float[]> values, Map<String, long[]> shapes, DType dtype,
                                  long maxShardSize) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            long[] shape = shapes.getOrDefault(e.getKey(), new long[]{e.getValue().length});
            TensorInfo info = new TensorInfo(e.getKey(), dtype, shape);
            if (info.elementCount() != e.getValue().length) {
                throw new IllegalArgumentException(e.getKey() + ": " + e.getValue().length + " values for shape "
                        + TensorInfo.shapeString(shape));
            }
            infos.add(info);
        }
        try (ShardWriter w = ShardWriter.builder(dir, infos).maxShardSize(maxShardSize).open()) {
            for (TensorInfo info : infos) {
                Tensor t = w.tensorFor(info.name());
                float[] v = values.get(info.name());
                for (int i = 0; i < v.length; i++) t.setFloat(i, v[i]);
            }
            return w.finish();
        }
    }

    /** The tensor's elements upcast to float32. */
    public static float[] readFloats(Tensor t) {
        float[] out = new float[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < out.length; i++) out[i] = t.getFloat(i);
        return out;
    }

    /** The tensor's bytes copied to the heap. */
    public static byte[] bytes(Tensor t) {
        return t.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
    }

    /**
     * Writes a raw safetensors file: the 8-byte little-endian length of {@code headerJson}'s UTF-8
     * bytes, those bytes unpadded, then {@code data}. Nothing is validated: for bad-file tests.
     */
    public static Path writeRaw(Path file, String headerJson, byte[] data) throws IOException {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return writeRaw(file, header.length, header, data);
    }

    /** Writes {@code declaredHeaderLength} (u64 LE), then {@code header} and {@code data} as they are. */
    public static Path writeRaw(Path file, long declaredHeaderLength, byte[] header, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(header).put(data);
        Files.write(file, b.array());
        return file;
    }

    /** {@code n} pseudo-random bytes from {@code seed}, never all zero for n > 0. */
    public static byte[] randomBytes(long seed, int n) {
        byte[] out = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) out[i] = (byte) r.nextInt(256);
        if (n > 0) out[0] |= 1;
        return out;
    }
}

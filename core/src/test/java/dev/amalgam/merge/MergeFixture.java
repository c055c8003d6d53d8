package dev.amalgam.merge;

import dev.amalgam.config.MergeConfig;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.kernel.Device;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/** Writes tiny models into a folder and runs merges on them with the reference kernels. */
final class MergeFixture {

    final Path dir;
    private int outputs;

    MergeFixture(Path dir) {
        this.dir = dir;
    }

    /** A model folder {@code name} with F32 tensors given as name, values pairs. */
    Path model(String name, Object... nameValues) throws IOException {
        return model(name, DType.F32, Map.of(), nameValues);
    }

    Path model(String name, DType dtype, Map<String, long[]> shapes, Object... nameValues) throws IOException {
        Map<String, float[]> values = new LinkedHashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) values.put((String) nameValues[i], (float[]) nameValues[i + 1]);
        return SafetensorsTestFiles.writeModel(dir.resolve(name), values, shapes, dtype);
    }

    /** Runs a merge of {@code yaml} (paths relative to the fixture folder) and returns the output folder. */
    Path merge(String yaml) throws IOException {
        Path out = dir.resolve("out-" + (outputs++));
        run(yaml, out);
        return out;
    }

    MergeReport run(String yaml, Path out) throws IOException {
        return run(yaml, out, "reference");
    }

    /** Runs a merge with the kernel backend named {@code backend} ({@code reference}, {@code cpu}). */
    MergeReport run(String yaml, Path out, String backend) throws IOException {
        System.setProperty("amalgam.backend", backend);
        try {
            MergeConfig config = MergeConfig.parse(yaml, dir, "test.yaml");
            return MergeJob.run(config, new MergeJob.Options(out, Device.CPU, 5_000_000_000L, false, OptionalLong.empty()),
                    ProgressListener.NONE);
        } finally {
            System.clearProperty("amalgam.backend");
        }
    }

    static float[] read(Path folder, String tensor) throws IOException {
        try (ModelFolder f = ModelFolder.open(folder)) {
            return SafetensorsTestFiles.readFloats(f.tensor(tensor));
        }
    }

    static TensorInfo info(Path folder, String tensor) throws IOException {
        try (ModelFolder f = ModelFolder.open(folder)) {
            return f.info(tensor);
        }
    }
}

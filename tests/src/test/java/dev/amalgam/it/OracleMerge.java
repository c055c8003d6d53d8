package dev.amalgam.it;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Runs {@link NaiveMergeOracle} over whole checkpoints for a config read by {@link OracleConfig}:
 * reads the inputs into float arrays (upcasting the stored bits itself), evaluates the
 * parameters per tensor, and gives the expected float32 result and output dtype of every tensor.
 */
final class OracleMerge {

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private OracleMerge() {
    }

    /** A stored tensor: safetensors dtype name, shape, values upcast exactly to float32. */
    record Stored(String dtype, long[] shape, float[] values) {
    }

    /** An expected output tensor: dtype it must be stored in, shape, float32 value before rounding. */
    record Expected(String dtype, long[] shape, float[] values) {
    }

    /** Every tensor of a checkpoint folder, in UTF-8 name order. */
    static Map<String, Stored> read(Path folder) throws IOException {
        return read(folder, name -> true);
    }

    /** The tensors of a checkpoint folder whose names pass {@code names}, in UTF-8 name order. */
    static Map<String, Stored> read(Path folder, Predicate<String> names) throws IOException {
        Map<String, Stored> out = new TreeMap<>(NaiveMergeOracle::compareUtf8);
        try (ModelFolder f = ModelFolder.open(folder)) {
            for (TensorInfo info : f.tensors()) {
                if (!names.test(info.name())) continue;
                Tensor t = f.tensor(info.name());
                String dtype = info.dtype().safetensorsName();
                float[] v = new float[Math.toIntExact(info.elementCount())];
                for (int i = 0; i < v.length; i++) v[i] = upcast(t, i, dtype);
                out.put(info.name(), new Stored(dtype, info.shape(), v));
            }
        }
        return out;
    }

    /** The stored bits of element i: 16 bits for F16/BF16, 32 for F32. */
    static int bits(Tensor t, long i) {
        return switch (t.dtype().safetensorsName()) {
            case "F32" -> t.data().getAtIndex(U32, i);
            case "F16", "BF16" -> t.data().getAtIndex(U16, i) & 0xFFFF;
            default -> throw new IllegalArgumentException(t.name() + ": " + t.dtype());
        };
    }

    private static float upcast(Tensor t, long i, String dtype) {
        if (dtype.equals("F64")) return (float) t.data().getAtIndex(F64, i); // §1.2: rounded to float32 on load
        int b = bits(t, i);
        return switch (dtype) {
            case "F32" -> Float.intBitsToFloat(b);
            case "BF16" -> Float.intBitsToFloat(b << 16);
            case "F16" -> Float.float16ToFloat((short) b);
            default -> throw new IllegalArgumentException(dtype);
        };
    }

    /** The expected output of {@code cfg}; {@code seedOverride} plays {@code --seed}. */
    static Map<String, Expected> expected(OracleConfig cfg, Long seedOverride) throws IOException {
        return expected(cfg, seedOverride, name -> true);
    }

    /**
     * The expected output tensors whose names pass {@code names} (all of them for
     * {@code density_scope: model}, whose selection spans every tensor).
     */
    static Map<String, Expected> expected(OracleConfig cfg, Long seedOverride, Predicate<String> names) throws IOException {
        NaiveMergeOracle.GtaMethod gta = NaiveMergeOracle.GtaMethod.of(cfg.method);
        return gta != null ? gtaMerge(cfg, gta, seedOverride, names) : linearMerge(cfg, names);
    }

    private static Map<String, Expected> linearMerge(OracleConfig cfg, Predicate<String> names) throws IOException {
        List<OracleConfig.Model> inputs = cfg.linearInputs();
        List<Map<String, Stored>> data = new ArrayList<>();
        for (OracleConfig.Model m : inputs) data.add(read(m.path(), names));
        Map<String, Stored> reference = cfg.base != null ? data.get(inputs.indexOf(cfg.base)) : data.getFirst();
        try (ModelFolder f = ModelFolder.open(cfg.base != null ? cfg.base.path() : inputs.getFirst().path())) {
            cfg.layersFrom(f.tensors().stream().map(TensorInfo::name).toList());
        }
        Map<String, Expected> out = new LinkedHashMap<>();
        for (String name : reference.keySet()) {
            // §1.2: linear crops embeddings to the common [min rows, min cols]
            long[] shape = reference.get(name).shape().clone();
            for (Map<String, Stored> d : data) {
                for (int k = 0; k < shape.length; k++) shape[k] = Math.min(shape[k], d.get(name).shape()[k]);
            }
            float[][] xs = new float[inputs.size()][];
            double[] w = new double[inputs.size()];
            for (int j = 0; j < inputs.size(); j++) {
                xs[j] = crop(name, data.get(j).get(name), shape);
                w[j] = cfg.number("weight", inputs.get(j), name);
            }
            float[] merged = NaiveMergeOracle.linear(xs, w, cfg.bool("normalize", name));
            out.put(name, new Expected(outDtype(cfg, reference.get(name)), shape, merged));
        }
        return out;
    }

    private static Map<String, Expected> gtaMerge(OracleConfig cfg, NaiveMergeOracle.GtaMethod method, Long seedOverride,
                                                  Predicate<String> names) throws IOException {
        boolean modelScoped = method == NaiveMergeOracle.GtaMethod.TIES && cfg.string("density_scope", "").equals("model");
        Predicate<String> load = modelScoped ? name -> true : names;
        Map<String, Stored> base = read(cfg.base.path(), load);
        List<OracleConfig.Model> tasks = cfg.taskModels();
        List<Map<String, Stored>> data = new ArrayList<>();
        for (OracleConfig.Model m : tasks) {
            // §1.2: the GTA family crops a larger embedding to the base's shape
            Map<String, Stored> cropped = new TreeMap<>(NaiveMergeOracle::compareUtf8);
            read(m.path(), load).forEach((name, st) -> cropped.put(name,
                    new Stored(st.dtype(), base.get(name).shape(), crop(name, st, base.get(name).shape()))));
            data.add(cropped);
        }
        try (ModelFolder f = ModelFolder.open(cfg.base.path())) {
            cfg.layersFrom(f.tensors().stream().map(TensorInfo::name).toList());
        }
        long seed = seedOverride != null ? seedOverride : cfg.seed();

        List<Map<String, boolean[]>> modelScope = null;
        if (modelScoped) {
            Map<String, float[]> b = values(base);
            List<Map<String, float[]>> xs = new ArrayList<>();
            double[] densities = new double[tasks.size()];
            String first = base.keySet().iterator().next();
            for (int m = 0; m < tasks.size(); m++) {
                xs.add(values(data.get(m)));
                densities[m] = cfg.number("density", tasks.get(m), first);
            }
            modelScope = NaiveMergeOracle.modelScopeMasks(b, xs, densities);
        }

        Map<String, Expected> out = new LinkedHashMap<>();
        for (String name : base.keySet()) {
            if (!names.test(name)) continue;
            float[][] xs = new float[tasks.size()][];
            NaiveMergeOracle.Task[] params = new NaiveMergeOracle.Task[tasks.size()];
            boolean[][] preset = modelScope == null ? null : new boolean[tasks.size()][];
            for (int m = 0; m < tasks.size(); m++) {
                OracleConfig.Model model = tasks.get(m);
                xs[m] = data.get(m).get(name).values();
                boolean band = method.sparsifier == NaiveMergeOracle.Sparsifier.BAND;
                params[m] = new NaiveMergeOracle.Task(model.index(), cfg.number("weight", model, name),
                        method.sparsifier == NaiveMergeOracle.Sparsifier.NONE ? 1.0 : cfg.number("density", model, name),
                        band ? cfg.number("gamma", model, name) : 0.0);
                if (preset != null) preset[m] = modelScope.get(m).get(name);
            }
            boolean sparsifies = method.sparsifier != NaiveMergeOracle.Sparsifier.NONE;
            NaiveMergeOracle.Global g = new NaiveMergeOracle.Global(cfg.bool("normalize", name), cfg.number("lambda", null, name),
                    sparsifies && cfg.bool("rescale", name), sparsifies ? cfg.string("rescale_mode", name) : "l1",
                    method.elects ? cfg.string("consensus_method", name) : "sum", seed);
            float[] merged = NaiveMergeOracle.gta(method, name, base.get(name).values(), xs, params, g, preset);
            out.put(name, new Expected(outDtype(cfg, base.get(name)), base.get(name).shape(), merged));
        }
        return out;
    }

    /** The leading [rows, cols] block of a 2-D embedding; other tensors must already have the shape. */
    static float[] crop(String name, Stored s, long[] shape) {
        if (java.util.Arrays.equals(s.shape(), shape)) return s.values();
        if (shape.length != 2 || !(name.contains("embed_tokens") || name.contains("lm_head"))) {
            throw new IllegalArgumentException(name + ": " + java.util.Arrays.toString(s.shape()) + " vs " + java.util.Arrays.toString(shape));
        }
        int rows = (int) shape[0], cols = (int) shape[1], srcCols = (int) s.shape()[1];
        float[] out = new float[rows * cols];
        for (int r = 0; r < rows; r++) System.arraycopy(s.values(), r * srcCols, out, r * cols, cols);
        return out;
    }

    private static Map<String, float[]> values(Map<String, Stored> m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v.values()));
        return out;
    }

    private static String outDtype(OracleConfig cfg, Stored reference) {
        if (cfg.outDtype == null) return reference.dtype().equals("F64") ? "F32" : reference.dtype();
        return switch (cfg.outDtype) {
            case "bfloat16" -> "BF16";
            case "float16" -> "F16";
            case "float32" -> "F32";
            default -> throw new IllegalArgumentException(cfg.outDtype);
        };
    }
}

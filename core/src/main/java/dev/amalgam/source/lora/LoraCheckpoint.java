package dev.amalgam.source.lora;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.io.AmalgamIOException;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.SoftReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model with a LoRA adapter applied on the fly (spec §16.4), as a {@link Checkpoint}: every
 * weight an adapter module targets reads as W + s·B·A in float32 (dtype F32), computed when
 * the merge asks for it and kept only while memory allows (its stored dtype, {@link #storedDtype},
 * stays the base's: the default output dtype); every other tensor is the base's
 * own zero-copy view. Nothing is written to disk.
 *
 * <p>The adapter's tensors are {@code base_model.model.<module>.lora_A.weight} ({@code [r, in]})
 * and {@code .lora_B.weight} ({@code [out, r]}) for a weight {@code <module>.weight} of the
 * model ({@code [out, in]}, or {@code [in, out]} with {@code fan_in_fan_out}), and
 * {@code lora_embedding_A/B} ({@code [r, vocab]}, {@code [dim, r]}) for an embedding
 * {@code [vocab, dim]}. Any other adapter tensor is an error naming it.
 *
 * <p>Thread-safety: safe for concurrent reads.
 */
public final class LoraCheckpoint implements Checkpoint, dev.amalgam.source.StoredDtypes {

    private static final String PREFIX = "base_model.model.";

    /** One targeted weight. */
    private record Module(String name, Tensor a, Tensor b, boolean transpose, double scale) {
    }

    private final String label;
    private final Checkpoint base;
    private final LoraAdapter adapter;
    private final Map<String, Module> modules;
    private final List<TensorInfo> infos;
    private final Map<String, SoftReference<Tensor>> computed = new ConcurrentHashMap<>();

    private LoraCheckpoint(String label, Checkpoint base, LoraAdapter adapter, Map<String, Module> modules) {
        this.label = label;
        this.base = base;
        this.adapter = adapter;
        this.modules = modules;
        List<TensorInfo> all = new ArrayList<>();
        for (TensorInfo t : base.tensors()) {
            all.add(modules.containsKey(t.name()) ? new TensorInfo(t.name(), DType.F32, t.shape()) : t);
        }
        this.infos = Collections.unmodifiableList(all);
    }

    /**
     * Decorates {@code base} with {@code adapter}; both are closed with this checkpoint.
     *
     * @param label   names the input in messages ({@code FOLDER+ADAPTER})
     * @throws IOException naming the adapter module for a module without a matching weight, a
     *                     shape that does not fit, or an unknown adapter tensor
     */
    public static LoraCheckpoint of(String label, Checkpoint base, LoraAdapter adapter) throws IOException {
        Checkpoint w = adapter.weights();
        Map<String, Tensor[]> pairs = new LinkedHashMap<>();
        for (TensorInfo t : w.tensors()) {
            String n = t.name();
            String stripped = n.startsWith(PREFIX) ? n.substring(PREFIX.length()) : n;
            int at = -1;
            int slot = -1;
            boolean embedding = false;
            for (String[] s : new String[][]{{".lora_A.weight", "0"}, {".lora_B.weight", "1"},
                    {".lora_embedding_A", "0"}, {".lora_embedding_B", "1"}}) {
                if (stripped.endsWith(s[0])) {
                    at = stripped.length() - s[0].length();
                    slot = Integer.parseInt(s[1]);
                    embedding = s[0].contains("embedding");
                }
            }
            if (at < 0) {
                throw new AmalgamIOException(adapter.folder(), "adapter tensor " + n + " is not a lora_A/lora_B weight"
                        + " (modules_to_save, DoRA magnitudes and biases are not supported)");
            }
            String module = stripped.substring(0, at);
            Tensor[] p = pairs.computeIfAbsent(module + (embedding ? "#embedding" : ""), k -> new Tensor[2]);
            p[slot] = w.tensor(n);
        }
        Map<String, Module> modules = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor[]> e : pairs.entrySet()) {
            boolean embedding = e.getKey().endsWith("#embedding");
            String module = embedding ? e.getKey().substring(0, e.getKey().length() - "#embedding".length()) : e.getKey();
            Tensor a = e.getValue()[0], b = e.getValue()[1];
            if (a == null || b == null) {
                throw new AmalgamIOException(adapter.folder(), "adapter module " + module + " has lora_" + (a == null ? "B" : "A")
                        + " but no lora_" + (a == null ? "A" : "B"));
            }
            String target = module + ".weight";
            if (!base.contains(target)) {
                throw new AmalgamIOException(adapter.folder(), "adapter module " + module + " has no matching weight "
                        + target + " in " + label.substring(0, Math.max(0, label.indexOf('+'))));
            }
            for (Tensor t : List.of(a, b)) {
                if (t.info().rank() != 2 || !t.dtype().isMergeable() && t.dtype() != DType.F64) {
                    throw new AmalgamIOException(adapter.folder(), "adapter tensor " + t.name() + " must be a 2-D float"
                            + " tensor, is " + t.info());
                }
            }
            long r = a.info().dim(0);
            if (b.info().dim(1) != r) {
                throw new AmalgamIOException(adapter.folder(), "adapter module " + module + ": lora_A " + a.info()
                        + " and lora_B " + b.info() + " disagree on the rank");
            }
            if (r != adapter.rank(module)) {
                throw new AmalgamIOException(adapter.folder(), "adapter module " + module + " has rank " + r
                        + " but adapter_config.json says r = " + adapter.rank(module) + " (see rank_pattern)");
            }
            long out = b.info().dim(0), in = a.info().dim(1);
            long[] w0 = base.info(target).shape();
            boolean transpose = embedding || adapter.fanInFanOut();
            long[] expect = transpose ? new long[]{in, out} : new long[]{out, in};
            if (!Arrays.equals(w0, expect)) {
                throw new AmalgamIOException(adapter.folder(), "adapter module " + module + ": B·A is [" + out + ", " + in + "]"
                        + (transpose ? " transposed" : "") + " but " + target + " is " + TensorInfo.shapeString(w0)
                        + (adapter.fanInFanOut() ? " (fan_in_fan_out: true)" : embedding ? "" : "; is fan_in_fan_out set right?"));
            }
            if (!base.info(target).dtype().isMergeable() && base.info(target).dtype() != DType.F64) {
                throw new AmalgamIOException(adapter.folder(), "adapter module " + module + ": " + target + " is not a float tensor");
            }
            modules.put(target, new Module(module, a, b, transpose, adapter.scale(module)));
        }
        return new LoraCheckpoint(label, base, adapter, modules);
    }

    /** The weights the adapter changes. */
    public java.util.Set<String> adaptedTensors() {
        return Collections.unmodifiableSet(modules.keySet());
    }

    @Override
    public List<TensorInfo> tensors() {
        return infos;
    }

    @Override
    public boolean contains(String name) {
        return base.contains(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo t = base.info(name);
        return modules.containsKey(name) ? new TensorInfo(name, DType.F32, t.shape()) : t;
    }

    @Override
    public Tensor tensor(String name) {
        Module m = modules.get(name);
        if (m == null) return base.tensor(name);
        SoftReference<Tensor> ref = computed.get(name);
        Tensor t = ref == null ? null : ref.get();
        if (t != null) return t;
        t = apply(base.tensor(name), m);
        computed.put(name, new SoftReference<>(t));
        return t;
    }

    private static Tensor apply(Tensor w, Module m) {
        long[] shape = w.info().shape();
        int rank = Math.toIntExact(m.a().info().dim(0));
        int rows = Math.toIntExact(m.b().info().dim(0)), cols = Math.toIntExact(m.a().info().dim(1));
        float[] a = upcast(m.a()), b = upcast(m.b()), wf = upcast(w);
        float[] out = new float[wf.length];
        float s = (float) m.scale();
        if (m.transpose()) {
            float[] wt = transpose(wf, cols, rows); // W is [cols, rows]: work on [rows, cols]
            float[] o = new float[wt.length];
            LoraProduct.fast(wt, b, a, rows, rank, cols, s, o);
            out = transpose(o, rows, cols);
        } else {
            LoraProduct.fast(wf, b, a, rows, rank, cols, s, out);
        }
        MemorySegment seg = Arena.ofAuto().allocate((long) out.length * 4, 64);
        MemorySegment.copy(out, 0, seg, Tensor.F32_LE, 0, out.length);
        return new Tensor(new TensorInfo(w.name(), DType.F32, shape), seg.asReadOnly());
    }

    static float[] upcast(Tensor t) {
        float[] f = new float[Math.toIntExact(t.elementCount())];
        if (t.dtype() == DType.F32) {
            MemorySegment.copy(t.data(), Tensor.F32_LE, 0, f, 0, f.length);
        } else {
            for (int i = 0; i < f.length; i++) f[i] = t.getFloat(i);
        }
        return f;
    }

    private static float[] transpose(float[] x, int rows, int cols) {
        float[] t = new float[x.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
        return t;
    }

    @Override
    public DType storedDtype(String name) {
        return dev.amalgam.source.StoredDtypes.of(base, base.info(name));
    }

    @Override
    public Map<String, String> metadata() {
        return base.metadata();
    }

    @Override
    public void close() {
        try {
            base.close();
        } finally {
            adapter.close();
        }
    }

    @Override
    public String toString() {
        return "LoraCheckpoint[" + label + ", " + modules.size() + " adapted weights]";
    }
}

package dev.amalgam.source.tokenizer;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.io.AmalgamIOException;
import dev.amalgam.source.tokenizer.VocabularyMerge.Default;
import dev.amalgam.source.tokenizer.VocabularyMerge.Mean;
import dev.amalgam.source.tokenizer.VocabularyMerge.Row;
import dev.amalgam.source.tokenizer.VocabularyMerge.Zero;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.SoftReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One model of a tokenizer merge seen with its embedding and LM-head rows in the output
 * vocabulary's order ({@link VocabularyMerge}): each such tensor reads as
 * {@code [rows, width]} in its own dtype, its own rows copied bit for bit, missing or forced
 * rows from the token's default, padding rows the mean of the new vocabulary rows. Computed on
 * first read and kept while memory allows; every other tensor is the model's own view.
 *
 * <p>Thread-safety: safe for concurrent reads.
 */
final class PermutedCheckpoint implements Checkpoint, dev.amalgam.source.StoredDtypes {

    private final VocabularyMerge merge;
    private final int model;
    private final Checkpoint inner;
    private final List<TensorInfo> infos;
    private final Map<String, SoftReference<Tensor>> computed = new ConcurrentHashMap<>();

    PermutedCheckpoint(VocabularyMerge merge, int model) {
        this.merge = merge;
        this.model = model;
        this.inner = merge.models().get(model).checkpoint();
        List<TensorInfo> all = new ArrayList<>();
        for (TensorInfo t : inner.tensors()) all.add(VocabularyMerge.isEmbedding(t) ? reshaped(t) : t);
        this.infos = Collections.unmodifiableList(all);
    }

    VocabularyMerge merge() {
        return merge;
    }

    private TensorInfo reshaped(TensorInfo t) {
        return new TensorInfo(t.name(), t.dtype(), new long[]{merge.rows(), t.dim(1)});
    }

    @Override
    public List<TensorInfo> tensors() {
        return infos;
    }

    @Override
    public boolean contains(String name) {
        return inner.contains(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo t = inner.info(name);
        return VocabularyMerge.isEmbedding(t) ? reshaped(t) : t;
    }

    @Override
    public Tensor tensor(String name) {
        TensorInfo t = inner.info(name);
        if (!VocabularyMerge.isEmbedding(t)) return inner.tensor(name);
        SoftReference<Tensor> ref = computed.get(name);
        Tensor hit = ref == null ? null : ref.get();
        if (hit != null) return hit;
        Tensor out;
        try {
            out = permute(name, t);
        } catch (AmalgamIOException e) {
            throw new UncheckedIOException(e);
        }
        computed.put(name, new SoftReference<>(out));
        return out;
    }

    private Tensor permute(String name, TensorInfo t) throws AmalgamIOException {
        merge.checkShapes(name);
        if (!t.dtype().isMergeable() && t.dtype() != DType.F64) {
            throw new AmalgamIOException(merge.models().get(model).folder(), "tensor " + name + " is " + t.dtype()
                    + ", not a float embedding");
        }
        int width = Math.toIntExact(t.dim(1));
        int n = merge.vocabulary().size();
        long es = t.dtype().byteSize();
        MemorySegment seg = Arena.ofAuto().allocate((long) merge.rows() * width * es, 64);
        Tensor out = new Tensor(reshaped(t), seg);
        Tensor own = inner.tensor(name);
        double[] sum = new double[width];
        for (int id = 0; id < n; id++) {
            int r = merge.own(model, id);
            long dst = (long) id * width;
            if (r >= 0 && !merge.forced(id)) {
                MemorySegment.copy(own.data(), r * width * es, seg, dst * es, width * es);
            } else {
                Default d = merge.defaultOf(id);
                double[] row = row(name, d, width);
                for (int j = 0; j < width; j++) out.setFloat(dst + j, (float) row[j]);
            }
            for (int j = 0; j < width; j++) sum[j] += out.getFloat(dst + j);
        }
        for (int id = n; id < merge.rows(); id++) {
            for (int j = 0; j < width; j++) out.setFloat((long) id * width + j, (float) (sum[j] / n));
        }
        return new Tensor(out.info(), seg.asReadOnly());
    }

    /** A default row in double. */
    private double[] row(String name, Default d, int width) throws AmalgamIOException {
        double[] v = new double[width];
        switch (d) {
            case Zero z -> {
            }
            case Row r -> add(v, r, name, width, 1.0);
            case Mean m -> {
                for (Row r : m.rows()) add(v, r, name, width, 1.0);
                for (int j = 0; j < width; j++) v[j] /= m.rows().size();
            }
            case null -> throw new AmalgamIOException(merge.models().get(model).folder(), "tensor " + name + ": no row for a token");
        }
        return v;
    }

    private void add(double[] v, Row r, String name, int width, double w) throws AmalgamIOException {
        VocabularyMerge.Model src = merge.models().get(r.model());
        if (!src.checkpoint().contains(name)) {
            throw new AmalgamIOException(src.folder(), "tensor " + name + " is missing; it is the source of a token's row");
        }
        Tensor t = src.checkpoint().tensor(name);
        if (r.row() < 0 || r.row() >= t.info().dim(0)) {
            throw new AmalgamIOException(src.folder(), "tensor " + name + " has no row " + r.row() + " (tokenizer.tokens source)");
        }
        long at = (long) r.row() * width;
        for (int j = 0; j < width; j++) v[j] += w * t.getFloat(at + j);
    }

    @Override
    public DType storedDtype(String name) {
        return dev.amalgam.source.StoredDtypes.of(inner, inner.info(name));
    }

    @Override
    public Map<String, String> metadata() {
        return inner.metadata();
    }

    @Override
    public void close() {
        // the merge's caller closes the inner checkpoints
    }

    @Override
    public String toString() {
        return "PermutedCheckpoint[" + merge.models().get(model).label() + ", " + merge.rows() + " rows]";
    }
}

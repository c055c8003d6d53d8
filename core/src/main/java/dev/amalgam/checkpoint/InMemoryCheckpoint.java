package dev.amalgam.checkpoint;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * Tensors whose bytes the caller owns, seen as a {@link Checkpoint} without a copy: each tensor
 * is a {@link MemorySegment} (off-heap, mapped, or on the heap over a {@code byte[]}) holding
 * its elements little-endian in row-major order. Merges read the segments in place; the
 * caller keeps them alive and unchanged while a merge runs, and frees them (closes their
 * arena) afterwards — {@link #close()} does nothing.
 *
 * <pre>{@code
 * Checkpoint weights = InMemoryCheckpoint.builder()
 *         .add("layer.weight", DType.F32, new long[] {out, in}, segment)
 *         .build();
 * }</pre>
 *
 * <p>Segments must be accessible from every thread (heap, {@code Arena.ofShared()},
 * {@code ofAuto()}, {@code global()}, a mapped file): the kernels read them from several.
 * Heap segments must wrap a {@code byte[]} ({@code MemorySegment.ofArray(byte[])}): the
 * vectorized CPU kernels read heap memory only through byte arrays, so a segment over a
 * {@code float[]} is refused when added rather than failing mid-merge.
 *
 * <p>Thread-safety: immutable after {@link Builder#build()}; safe for concurrent reads.
 */
public final class InMemoryCheckpoint implements Checkpoint {

    private final String label;
    private final Map<String, Tensor> tensors;
    private final List<TensorInfo> infos;
    private final Map<String, String> metadata;

    private InMemoryCheckpoint(String label, Map<String, Tensor> tensors, Map<String, String> metadata) {
        this.label = label;
        this.tensors = Collections.unmodifiableMap(new TreeMap<>(tensors));
        List<TensorInfo> all = new ArrayList<>(tensors.size());
        for (Tensor t : this.tensors.values()) all.add(t.info());
        all.sort(Comparator.comparing(TensorInfo::name));
        this.infos = Collections.unmodifiableList(all);
        this.metadata = Map.copyOf(metadata);
    }

    /**
     * @return a builder with no tensors, labelled {@code in-memory}
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A checkpoint of existing tensors (their views are used as they are).
     *
     * @param tensors the tensors; names must be distinct
     * @return the checkpoint
     */
    public static InMemoryCheckpoint of(List<Tensor> tensors) {
        Builder b = builder();
        for (Tensor t : tensors) b.add(t);
        return b.build();
    }

    @Override
    public List<TensorInfo> tensors() {
        return infos;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return tensor(name).info();
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new NoSuchElementException(label + ": no tensor '" + name + "' in the checkpoint");
        return t;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * @param name tensor name
     * @return the segment of that tensor, as added
     * @throws NoSuchElementException if there is no such tensor
     */
    public MemorySegment segment(String name) {
        return tensor(name).data();
    }

    @Override
    public String toString() {
        return "InMemoryCheckpoint[" + label + ", " + infos.size() + " tensors]";
    }

    /** A thread that never runs: a segment it may access is accessible from every thread. */
    private static final Thread ANY_OTHER_THREAD = Thread.ofPlatform().unstarted(() -> { });

    /**
     * Fails if {@code segment} is confined to one thread: the kernels read and write from several.
     *
     * @param segment the segment
     * @param what    names it in the message
     * @throws IllegalArgumentException for a segment of an {@code Arena.ofConfined()}
     */
    public static void requireShared(MemorySegment segment, String what) {
        if (!segment.isAccessibleBy(ANY_OTHER_THREAD)) {
            throw new IllegalArgumentException(what + ": the segment is confined to one thread (Arena.ofConfined()); the"
                    + " kernels use several threads: allocate it in Arena.ofShared(), Arena.ofAuto() or Arena.global()");
        }
    }

    /**
     * Collects tensors for an {@link InMemoryCheckpoint}.
     *
     * <p>Thread-safety: not thread-safe; use from one thread.
     */
    public static final class Builder {
        private final Map<String, Tensor> tensors = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private String label = "in-memory";

        private Builder() {
        }

        /**
         * @param label names the checkpoint in messages
         * @return this builder
         */
        public Builder label(String label) {
            this.label = label;
            return this;
        }

        /**
         * Adds a tensor over {@code data}, which must hold exactly the element count of
         * {@code shape} times the dtype's size in bytes.
         *
         * @param name  tensor name
         * @param dtype storage dtype
         * @param shape dimensions, row-major
         * @param data  the bytes, little-endian; not copied
         * @return this builder
         * @throws IllegalArgumentException if the name repeats, the size is wrong, or a heap
         *                                  segment does not wrap a {@code byte[]}
         */
        public Builder add(String name, DType dtype, long[] shape, MemorySegment data) {
            return add(new Tensor(new TensorInfo(name, dtype, shape), data));
        }

        /**
         * Adds an existing tensor view.
         *
         * @param tensor the tensor; not copied
         * @return this builder
         * @throws IllegalArgumentException if the name repeats or a heap segment does not wrap a {@code byte[]}
         */
        public Builder add(Tensor tensor) {
            MemorySegment data = tensor.data();
            if (!data.isNative() && !(data.heapBase().orElse(null) instanceof byte[])) {
                throw new IllegalArgumentException(label + ": tensor " + tensor.name() + ": a heap segment must wrap a"
                        + " byte[] (MemorySegment.ofArray(byte[])), not " + data.heapBase().map(o -> o.getClass().getSimpleName())
                        .orElse("?") + "; or use native memory (Arena.allocate)");
            }
            requireShared(data, label + ": tensor " + tensor.name());
            if (tensors.putIfAbsent(tensor.name(), tensor) != null) {
                throw new IllegalArgumentException(label + ": tensor " + tensor.name() + " is added twice");
            }
            return this;
        }

        /**
         * @param key   metadata key
         * @param value metadata value
         * @return this builder
         */
        public Builder metadata(String key, String value) {
            metadata.put(key, value);
            return this;
        }

        /**
         * @return the checkpoint (later changes to the builder do not affect it)
         */
        public InMemoryCheckpoint build() {
            return new InMemoryCheckpoint(label, tensors, metadata);
        }
    }
}

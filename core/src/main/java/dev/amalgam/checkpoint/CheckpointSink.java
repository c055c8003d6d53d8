package dev.amalgam.checkpoint;

import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

/**
 * Where a merge writes its output tensors in memory: one writable segment per output tensor,
 * of exactly {@code info.byteSize()} bytes, filled little-endian in the output dtype. The merge
 * asks once per tensor, in output order, and never reads the segment back as an input.
 *
 * <p>Thread-safety: a merge calls its sink from one thread.
 */
@FunctionalInterface
public interface CheckpointSink {

    /**
     * @param info name, output dtype and shape of the next tensor
     * @return a writable segment of {@code info.byteSize()} bytes, accessible from every thread
     *         (native and not confined, or a heap segment over a {@code byte[]})
     */
    MemorySegment segmentFor(TensorInfo info);

    /**
     * Output tensors allocated in {@code arena} (64-byte aligned); they live until the caller closes it.
     *
     * @param arena the caller's arena: shared, auto or global (the kernels write from several threads)
     * @return the sink
     */
    static CheckpointSink in(Arena arena) {
        return info -> {
            MemorySegment s = arena.allocate(Math.max(1, info.byteSize()), 64).asSlice(0, info.byteSize());
            InMemoryCheckpoint.requireShared(s, "output tensor " + info.name());
            return s;
        };
    }

    /**
     * Output tensors written into segments the caller already holds, by tensor name (for
     * example the weights of a running model).
     *
     * @param segments one segment per output tensor name, each of the tensor's byte size
     * @return the sink; it fails naming the tensor if one is missing or of the wrong size
     */
    static CheckpointSink into(Map<String, MemorySegment> segments) {
        return info -> {
            MemorySegment s = segments.get(info.name());
            if (s == null) throw new IllegalArgumentException("no output segment for tensor " + info.name());
            if (s.byteSize() != info.byteSize()) {
                throw new IllegalArgumentException("output segment for tensor " + info.name() + " has " + s.byteSize()
                        + " bytes; " + info.dtype() + " " + TensorInfo.shapeString(info.shape()) + " needs " + info.byteSize());
            }
            InMemoryCheckpoint.requireShared(s, "output tensor " + info.name());
            return s;
        };
    }
}

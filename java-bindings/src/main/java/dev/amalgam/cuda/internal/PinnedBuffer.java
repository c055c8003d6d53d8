package dev.amalgam.cuda.internal;

import java.lang.foreign.MemorySegment;

/** Page-locked host memory from {@code cuMemAllocHost_v2} (the staging of async copies). */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public final class PinnedBuffer implements AutoCloseable {

    private final Cuda cuda;
    private final MemorySegment segment;
    private boolean closed;

    public PinnedBuffer(Cuda cuda, long byteSize) {
        this.cuda = cuda;
        this.segment = MemorySegment.ofAddress(cuda.memAllocHost(byteSize)).reinterpret(byteSize);
    }

    public MemorySegment segment() {
        if (closed) throw new IllegalStateException("pinned buffer already freed");
        return segment;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cuda.memFreeHost(segment.address());
    }
}

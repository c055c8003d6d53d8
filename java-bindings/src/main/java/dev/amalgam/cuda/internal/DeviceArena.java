package dev.amalgam.cuda.internal;

/**
 * One device allocation reused across calls and carved up per call by a bump pointer, so that a
 * merge of thousands of tensors does not pay a cuMemAlloc/cuMemFree per tensor.
 *
 * <p>Implementation notes: {@link #reset(long)} makes room for at least that many bytes (growing
 * the allocation if needed, which invalidates every address handed out before) and starts a new
 * call; {@link #take(long)} returns 256-byte aligned addresses.
 */
public final class DeviceArena implements AutoCloseable {

    public static final long ALIGNMENT = 256;

    private final Cuda cuda;
    private DeviceBuffer buffer;
    private long used;
    private long limit;

    public DeviceArena(Cuda cuda) {
        this.cuda = cuda;
    }

    /** Bytes to request for {@code bytes} of payload in {@code pieces} aligned pieces. */
    public static long padded(long bytes, int pieces) {
        return bytes + pieces * ALIGNMENT;
    }

    public void reset(long bytes) {
        if (buffer == null || buffer.byteSize() < bytes) {
            if (buffer != null) buffer.close();
            buffer = null;
            buffer = new DeviceBuffer(cuda, Math.max(bytes, 1 << 20));
        }
        used = 0;
        limit = bytes;
    }

    public long capacity() {
        return buffer == null ? 0 : buffer.byteSize();
    }

    public long take(long bytes) {
        long offset = (used + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        if (offset + bytes > buffer.byteSize()) {
            throw new IllegalStateException("device arena overflow: " + (offset + bytes) + " > " + buffer.byteSize()
                    + " (planned " + limit + ")");
        }
        used = offset + bytes;
        return buffer.address() + offset;
    }

    @Override
    public void close() {
        if (buffer != null) buffer.close();
        buffer = null;
    }
}

package dev.amalgam.cuda.internal;

/**
 * Device memory from {@code cuMemAlloc_v2}, freed by {@link #close()}. It is only an address:
 * Java code cannot read or write it except through the copy functions of {@link Transfers}.
 */
public final class DeviceBuffer implements AutoCloseable {

    private final Cuda cuda;
    private final long address;
    private final long byteSize;
    private boolean closed;

    public DeviceBuffer(Cuda cuda, long byteSize) {
        this.cuda = cuda;
        this.byteSize = byteSize;
        this.address = cuda.memAlloc(byteSize);
    }

    /** The device address, for kernel arguments and copies. */
    public long address() {
        if (closed) throw new IllegalStateException("device buffer already freed");
        return address;
    }

    public long byteSize() {
        return byteSize;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cuda.memFree(address);
    }
}

package dev.amalgam.cuda;

import dev.amalgam.cuda.internal.ChunkPipeline;
import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.DeviceArena;
import dev.amalgam.cuda.internal.KernelAttributes;
import dev.amalgam.cuda.internal.Transfers;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything one CUDA backend holds for its lifetime, shared by every kernel family that borrows
 * it: the context, the fatbin loaded once, a copy and a compute stream, the pinned staging
 * buffers, the chunk pipeline, one device arena and so one memory budget.
 *
 * <p>Implementation notes
 * <ul>
 *   <li>Contexts: {@link #primary} retains the device's primary context and releases it on
 *       {@link #close()}; {@link #current} runs in the caller's context and never releases it.
 *       Closing puts back whatever context was current before, and never leaves a released
 *       primary context current.</li>
 *   <li>One arena for all families: the budget of a call counts what the arena already holds as
 *       its own, whichever family grew it, so families do not starve each other.</li>
 *   <li>Not thread-safe by itself: the families serialize on this object ({@code synchronized
 *       (session)}), so a facade and the SVD kernels it hands out never run at once.</li>
 * </ul>
 */
final class CudaSession implements AutoCloseable {

    private static final long MIB = 1L << 20;
    /** Dynamic shared memory every kernel may use without cuFuncSetAttribute. */
    static final int DEFAULT_SHARED = 48 * 1024;

    private final Cuda cuda;
    private final CudaDeviceInfo device;
    private final long context;
    private final int retainedDevice;   // ≥ 0: the device whose primary context we retained
    private final long module;
    private final long copyStream;
    private final long computeStream;
    private final Transfers transfers;
    private final ChunkPipeline pipeline;
    private final DeviceArena arena;
    private final long maxChunkBytes;
    private final long stagingBytes;
    private final KernelAttributes attributes;
    private final int maxSharedOptin;   // the most dynamic shared memory a block may opt in to, 0 if unknown
    private final List<AutoCloseable> borrowers = new ArrayList<>();
    private Transfers computeTransfers; // staging on the compute stream (families that copy and compute in order)
    private boolean closed;

    /** Retains device {@code ordinal}'s primary context and opens a session in it. */
    static CudaSession primary(Cuda cuda, int ordinal, byte[] fatbin, KernelAttributes attributes, long maxChunkBytes,
                               long stagingBytes) {
        cuda.init();
        CudaDeviceInfo info = CudaDeviceInfo.query(cuda, ordinal);
        int handle = cuda.device(ordinal);
        long context = cuda.retainPrimaryContext(handle);
        return new CudaSession(cuda, info, context, handle, fatbin, attributes, maxChunkBytes, stagingBytes);
    }

    /** Opens a session in the context current on the calling thread, which it never releases. */
    static CudaSession current(Cuda cuda, byte[] fatbin, KernelAttributes attributes, long maxChunkBytes, long stagingBytes) {
        long context = cuda.currentContext();
        if (context == 0) {
            throw new IllegalStateException("no CUDA context is current on this thread: create or set one first"
                    + " (cuCtxCreate / cuCtxSetCurrent, e.g. through JCuda), then attach");
        }
        return new CudaSession(cuda, CudaDeviceInfo.query(cuda, cuda.currentDevice()), context, -1, fatbin, attributes,
                maxChunkBytes, stagingBytes);
    }

    private CudaSession(Cuda cuda, CudaDeviceInfo device, long context, int retainedDevice, byte[] fatbin,
                        KernelAttributes attributes, long maxChunkBytes, long stagingBytes) {
        this.cuda = cuda;
        this.device = device;
        this.context = context;
        this.retainedDevice = retainedDevice;
        this.maxChunkBytes = maxChunkBytes;
        this.stagingBytes = stagingBytes;
        this.attributes = attributes;
        long previous = cuda.currentContext();
        long m = 0, copy = 0, compute = 0;
        Transfers t = null;
        ChunkPipeline p = null;
        try {
            cuda.setCurrent(context);
            m = cuda.loadModule(fatbin);
            copy = cuda.streamCreate();
            compute = cuda.streamCreate();
            t = new Transfers(cuda, copy, stagingBytes);
            p = new ChunkPipeline(cuda, copy, compute);
        } catch (RuntimeException e) {
            if (p != null) p.close();
            if (t != null) t.close();
            if (compute != 0) cuda.streamDestroy(compute);
            if (copy != 0) cuda.streamDestroy(copy);
            if (m != 0) cuda.unloadModule(m);
            restore(previous, true);
            throw e;
        }
        this.module = m;
        this.copyStream = copy;
        this.computeStream = compute;
        this.transfers = t;
        this.pipeline = p;
        this.arena = new DeviceArena(cuda);
        this.maxSharedOptin = attributes.available()
                ? cuda.attribute(KernelAttributes.DEVICE_MAX_SHARED_PER_BLOCK_OPTIN, cuda.device(device.ordinal()))
                : 0;
    }

    Cuda cuda() { return cuda; }
    CudaDeviceInfo device() { return device; }
    long context() { return context; }
    /** The fatbin's module handle in this context; families look their functions up in it. */
    long module() { return module; }
    long copyStream() { return copyStream; }
    long computeStream() { return computeStream; }
    /** Staging on the copy stream (ordered against kernels by the pipeline's events). */
    Transfers transfers() { return transfers; }
    ChunkPipeline pipeline() { return pipeline; }
    DeviceArena arena() { return arena; }
    KernelAttributes attributes() { return attributes; }
    long maxChunkBytes() { return maxChunkBytes; }
    /** The device's opt-in shared memory limit per block, 0 when the attribute cannot be queried. */
    int maxSharedOptin() { return maxSharedOptin; }
    boolean closed() { return closed; }

    /** Staging buffers on the compute stream, made on first use (copies in order with the kernels). */
    Transfers computeTransfers() {
        if (computeTransfers == null) computeTransfers = new Transfers(cuda, computeStream, stagingBytes);
        return computeTransfers;
    }

    /** Registers a family's resources (a cuBLAS handle, events) to close before the session's own. */
    void borrowedBy(AutoCloseable family) {
        borrowers.add(family);
    }

    /** Makes this session's context current on the calling thread. */
    void enter() {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        cuda.setCurrent(context);
    }

    /** Enters for a device-memory call ordered after {@code callerStream}; returns the context to put back. */
    long enterForCaller(long callerStream) {
        if (closed) throw new IllegalStateException("CUDA backend is closed");
        long previous = cuda.currentContext();
        cuda.setCurrent(context);
        pipeline.afterCallerStream(callerStream);
        return previous;
    }

    /** Puts back the context {@link #enterForCaller} found current. */
    void leaveForCaller(long previous) {
        if (previous != 0 && previous != context) cuda.setCurrent(previous);
    }

    /**
     * Device bytes one call may use for its data after {@code fixedBytes} of tables: free memory
     * plus what the shared arena already holds, minus a reserve of max(256 MiB, 5% of the device)
     * for the driver and other users, capped by {@code cap} and the session's {@code maxChunkBytes}.
     */
    long dataBudget(long fixedBytes, long cap) {
        long[] info = cuda.memInfo();
        long reserve = Math.max(256 * MIB, info[1] / 20);
        long usable = info[0] + arena.capacity() - reserve - fixedBytes;
        return Math.max(0, Math.min(usable, Math.min(cap, maxChunkBytes)));
    }

    /**
     * Checks that {@code t} lies inside one allocation of this session's context, so that a wrong
     * pointer or size is an exception naming the tensor rather than a device fault that would
     * poison the context.
     */
    void checkDeviceTensor(DeviceTensor t) {
        if (t.byteSize() == 0) return;
        String what = "checking device tensor " + t.name() + " at 0x" + Long.toHexString(t.address());
        long start = cuda.pointerAttribute(Cuda.POINTER_RANGE_START, t.address(), what);
        long size = cuda.pointerAttribute(Cuda.POINTER_RANGE_SIZE, t.address(), what);
        if (Long.compareUnsigned(t.address() + t.byteSize(), start + size) > 0) {
            throw new IllegalArgumentException("device tensor " + t.name() + ": " + t.byteSize() + " bytes at 0x"
                    + Long.toHexString(t.address()) + " run past the end of its allocation (" + size + " bytes at 0x"
                    + Long.toHexString(start) + ")");
        }
        long owner = cuda.pointerAttribute(Cuda.POINTER_CONTEXT, t.address(), what);
        if (owner != 0 && owner != context) {  // 0: the driver does not tie this memory to one context
            throw new IllegalArgumentException("device tensor " + t.name() + " belongs to CUDA context 0x"
                    + Long.toHexString(owner) + " but this backend runs in 0x" + Long.toHexString(context)
                    + ": use CudaKernels.attachToCurrentContext() while that context is current");
        }
    }

    /** Grid size for {@code elements} with {@code block} threads, at most {@code perSm} blocks per multiprocessor. */
    int gridFor(long elements, int block, int perSm) {
        long blocks = (elements + block - 1) / block;
        return (int) Math.max(1, Math.min(blocks, (long) device.multiprocessors() * perSm));
    }

    /**
     * Waits for both streams, closes the borrowers, frees everything, puts back the caller's
     * context and releases a retained primary context (never while it is current).
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        long previous = cuda.currentContext();
        cuda.setCurrent(context);
        RuntimeException failure = null;
        try {
            cuda.streamSynchronize(copyStream);
            cuda.streamSynchronize(computeStream);
        } catch (RuntimeException e) {
            failure = e;
        }
        for (AutoCloseable b : borrowers.reversed()) {
            try {
                b.close();
            } catch (Exception e) {
                if (failure == null) failure = e instanceof RuntimeException r ? r : new IllegalStateException(e);
            }
        }
        try {
            pipeline.close();
            transfers.close();
            if (computeTransfers != null) computeTransfers.close();
            arena.close();
            cuda.streamDestroy(copyStream);
            cuda.streamDestroy(computeStream);
            cuda.unloadModule(module);
        } finally {
            restore(previous, true);
        }
        if (failure != null) throw failure;
    }

    /** Puts back {@code previous}; a released primary context must not stay current on this thread. */
    private void restore(long previous, boolean release) {
        if (previous != context) {
            cuda.setCurrent(previous);
        } else if (retainedDevice >= 0) {
            cuda.setCurrent(0);
        }
        if (release && retainedDevice >= 0) cuda.releasePrimaryContext(retainedDevice);
    }
}

package dev.amalgam.cuda.internal;

import dev.amalgam.cuda.CudaException;
import java.lang.foreign.MemorySegment;

/**
 * Checked access to a {@link CudaDriver}: every call's {@code CUresult} is checked, and a failure
 * becomes a {@link CudaException} naming the call and the driver's error name and text.
 */
public final class Cuda {

    /** {@code CU_DEVICE_ATTRIBUTE_*} values used here. */
    public static final int ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    /** {@code CU_EVENT_DISABLE_TIMING}. */
    public static final int EVENT_DISABLE_TIMING = 0x2;
    /** {@code CU_STREAM_NON_BLOCKING}. */
    public static final int STREAM_NON_BLOCKING = 0x1;
    /** {@code CU_POINTER_ATTRIBUTE_*} values used here. */
    public static final int POINTER_CONTEXT = 1, POINTER_RANGE_START = 11, POINTER_RANGE_SIZE = 12;

    /** {@code -Damalgam.cuda.syncEachLaunch=true}: synchronize after every launch, so a fault names its kernel. */
    public static final String SYNC_EACH_LAUNCH = "amalgam.cuda.syncEachLaunch";

    private final CudaDriver driver;
    private final boolean syncEachLaunch;

    public Cuda(CudaDriver driver) {
        this(driver, Boolean.getBoolean(SYNC_EACH_LAUNCH));
    }

    /** {@code syncEachLaunch}: wait for every kernel right after launching it (debugging; slow). */
    public Cuda(CudaDriver driver, boolean syncEachLaunch) {
        this.driver = driver;
        this.syncEachLaunch = syncEachLaunch;
    }

    public boolean syncEachLaunch() {
        return syncEachLaunch;
    }

    /**
     * Checks a launch's result and, with {@link #syncEachLaunch()}, waits for the kernel, so that a
     * fault is reported under the kernel's name instead of at the next synchronize of whatever call
     * comes after it.
     */
    public void checkLaunch(int result, String name, long stream) {
        check(result, "cuLaunchKernel", "launching " + name);
        if (syncEachLaunch) {
            check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize",
                    "running kernel " + name + " (-D" + SYNC_EACH_LAUNCH + "=true)");
        }
    }

    public CudaDriver driver() {
        return driver;
    }

    /** Throws {@link CudaException} unless {@code result} is CUDA_SUCCESS. */
    public void check(int result, String call) {
        check(result, call, null);
    }

    public void check(int result, String call, String context) {
        if (result == 0) return;
        String name = null, text = null;
        try {
            name = driver.cuGetErrorName(result);
            text = driver.cuGetErrorString(result);
        } catch (RuntimeException ignored) {
            // the error lookup itself failed: report the raw code below
        }
        throw new CudaException(call, result, name != null ? name : "CUresult " + result,
                text != null ? text : "unknown error code", context);
    }

    public void init() {
        check(driver.cuInit(0), "cuInit");
    }

    public int deviceCount() {
        int[] n = new int[1];
        check(driver.cuDeviceGetCount(n), "cuDeviceGetCount");
        return n[0];
    }

    public int device(int ordinal) {
        int[] d = new int[1];
        check(driver.cuDeviceGet(d, ordinal), "cuDeviceGet");
        return d[0];
    }

    public String deviceName(int device) {
        byte[] name = new byte[256];
        check(driver.cuDeviceGetName(name, device), "cuDeviceGetName");
        int end = 0;
        while (end < name.length && name[end] != 0) end++;
        return new String(name, 0, end, java.nio.charset.StandardCharsets.UTF_8);
    }

    public int attribute(int attribute, int device) {
        int[] v = new int[1];
        check(driver.cuDeviceGetAttribute(v, attribute, device), "cuDeviceGetAttribute");
        return v[0];
    }

    public long totalMemory(int device) {
        long[] v = new long[1];
        check(driver.cuDeviceTotalMem_v2(v, device), "cuDeviceTotalMem_v2");
        return v[0];
    }

    public long retainPrimaryContext(int device) {
        long[] c = new long[1];
        check(driver.cuDevicePrimaryCtxRetain(c, device), "cuDevicePrimaryCtxRetain");
        return c[0];
    }

    public void releasePrimaryContext(int device) {
        check(driver.cuDevicePrimaryCtxRelease_v2(device), "cuDevicePrimaryCtxRelease_v2");
    }

    public void setCurrent(long context) {
        check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    /** The calling thread's current context, 0 if none. */
    public long currentContext() {
        long[] c = new long[1];
        check(driver.cuCtxGetCurrent(c), "cuCtxGetCurrent");
        return c[0];
    }

    /** The device (ordinal) of the calling thread's current context. */
    public int currentDevice() {
        int[] d = new int[1];
        check(driver.cuCtxGetDevice(d), "cuCtxGetDevice");
        return d[0];
    }

    public long loadModule(MemorySegment image) {
        long[] m = new long[1];
        check(driver.cuModuleLoadData(m, image), "cuModuleLoadData", "loading amalgam.fatbin");
        return m[0];
    }

    /** Loads a fatbin given as bytes (copied to native memory for the call: the driver keeps its own copy). */
    public long loadModule(byte[] fatbin) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment image = arena.allocate(fatbin.length, 16);
            MemorySegment.copy(fatbin, 0, image, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, fatbin.length);
            return loadModule(image);
        }
    }

    public long function(long module, String name) {
        long[] f = new long[1];
        check(driver.cuModuleGetFunction(f, module, name), "cuModuleGetFunction", "looking up kernel " + name);
        return f[0];
    }

    public void unloadModule(long module) {
        check(driver.cuModuleUnload(module), "cuModuleUnload");
    }

    public long memAlloc(long bytes) {
        long[] p = new long[1];
        check(driver.cuMemAlloc_v2(p, Math.max(1, bytes)), "cuMemAlloc_v2", "allocating " + bytes + " bytes");
        return p[0];
    }

    public void memFree(long pointer) {
        check(driver.cuMemFree_v2(pointer), "cuMemFree_v2");
    }

    public long memAllocHost(long bytes) {
        long[] p = new long[1];
        check(driver.cuMemAllocHost_v2(p, Math.max(1, bytes)), "cuMemAllocHost_v2", "pinning " + bytes + " bytes");
        return p[0];
    }

    public void memFreeHost(long pointer) {
        check(driver.cuMemFreeHost(pointer), "cuMemFreeHost");
    }

    public void copyHtoDAsync(long dst, long srcHost, long bytes, long stream) {
        check(driver.cuMemcpyHtoDAsync_v2(dst, srcHost, bytes, stream), "cuMemcpyHtoDAsync_v2");
    }

    public void copyDtoHAsync(long dstHost, long src, long bytes, long stream) {
        check(driver.cuMemcpyDtoHAsync_v2(dstHost, src, bytes, stream), "cuMemcpyDtoHAsync_v2");
    }

    public void copyDtoDAsync(long dst, long src, long bytes, long stream) {
        check(driver.cuMemcpyDtoDAsync_v2(dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2");
    }

    /** An attribute of the allocation holding {@code pointer} (see {@link CudaDriver#cuPointerGetAttribute}). */
    public long pointerAttribute(int attribute, long pointer, String context) {
        long[] v = new long[1];
        check(driver.cuPointerGetAttribute(v, attribute, pointer), "cuPointerGetAttribute", context);
        return v[0];
    }

    public void memsetAsync(long dst, int value, long bytes, long stream) {
        check(driver.cuMemsetD8Async(dst, (byte) value, bytes, stream), "cuMemsetD8Async");
    }

    public long streamCreate() {
        long[] s = new long[1];
        check(driver.cuStreamCreate(s, STREAM_NON_BLOCKING), "cuStreamCreate");
        return s[0];
    }

    public void streamWaitEvent(long stream, long event) {
        check(driver.cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent");
    }

    public void streamDestroy(long stream) {
        check(driver.cuStreamDestroy_v2(stream), "cuStreamDestroy_v2");
    }

    public void streamSynchronize(long stream) {
        check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    public long eventCreate(int flags) {
        long[] e = new long[1];
        check(driver.cuEventCreate(e, flags), "cuEventCreate");
        return e[0];
    }

    public void eventRecord(long event, long stream) {
        check(driver.cuEventRecord(event, stream), "cuEventRecord");
    }

    public void eventSynchronize(long event) {
        check(driver.cuEventSynchronize(event), "cuEventSynchronize");
    }

    public float eventElapsedMillis(long start, long end) {
        float[] ms = new float[1];
        check(driver.cuEventElapsedTime(ms, start, end), "cuEventElapsedTime");
        return ms[0];
    }

    public void eventDestroy(long event) {
        check(driver.cuEventDestroy_v2(event), "cuEventDestroy_v2");
    }

    public void launch(long function, String name, long grid, int block, int sharedBytes, long stream,
                       MemorySegment arguments) {
        if (grid <= 0 || grid > Integer.MAX_VALUE) throw new IllegalArgumentException("kernel " + name + ": grid " + grid);
        checkLaunch(driver.cuLaunchKernel(function, (int) grid, 1, 1, block, 1, 1, sharedBytes, stream, arguments), name, stream);
    }

    /** {free, total} bytes of the current context's device. */
    public long[] memInfo() {
        long[] free = new long[1], total = new long[1];
        check(driver.cuMemGetInfo_v2(free, total), "cuMemGetInfo_v2");
        return new long[] {free[0], total[0]};
    }
}

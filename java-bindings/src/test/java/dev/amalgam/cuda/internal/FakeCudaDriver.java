package dev.amalgam.cuda.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A CUDA driver for host tests. "Device" memory is host memory (so copies really move bytes and
 * can be checked), handles are counters, and any call can be made to fail with a given code.
 * Kernel launches are only recorded.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public class FakeCudaDriver implements CudaDriver {

    public static final Map<Integer, String[]> ERRORS = Map.of(
            1, new String[] {"CUDA_ERROR_INVALID_VALUE", "invalid argument"},
            2, new String[] {"CUDA_ERROR_OUT_OF_MEMORY", "out of memory"},
            100, new String[] {"CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"},
            209, new String[] {"CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"});

    private final Arena arena = Arena.ofShared();
    private final Map<Long, MemorySegment> allocations = new HashMap<>();
    private final Map<String, Integer> failures = new HashMap<>();
    public final List<String> calls = new ArrayList<>();
    public int deviceCount = 1;
    public int computeMajor = 9, computeMinor = 0;
    public String deviceName = "Fake H100";
    public long totalMemory = 80L << 30;
    public long freeMemory = 79L << 30;
    private long handles = 1;

    /** Makes every later call to {@code symbol} return {@code result}. */
    public FakeCudaDriver failing(String symbol, int result) {
        failures.put(symbol, result);
        return this;
    }

    public int liveAllocations() {
        return allocations.size();
    }

    private int call(String symbol) {
        calls.add(symbol);
        return failures.getOrDefault(symbol, 0);
    }

    /** The host memory standing for device address {@code address} (inside some allocation). */
    public MemorySegment at(long address, long bytes) {
        for (Map.Entry<Long, MemorySegment> e : allocations.entrySet()) {
            long start = e.getKey();
            if (address >= start && address + bytes <= start + e.getValue().byteSize()) {
                return e.getValue().asSlice(address - start, bytes);
            }
        }
        throw new IllegalArgumentException("fake driver: no allocation holds [" + address + ", +" + bytes + ")");
    }

    @Override public int cuInit(int flags) { return call("cuInit"); }
    @Override public int cuDeviceGetCount(int[] count) { count[0] = deviceCount; return call("cuDeviceGetCount"); }
    @Override public int cuDeviceGet(int[] device, int ordinal) { device[0] = ordinal; return call("cuDeviceGet"); }

    @Override
    public int cuDeviceGetName(byte[] name, int device) {
        byte[] b = deviceName.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        System.arraycopy(b, 0, name, 0, Math.min(b.length, name.length - 1));
        return call("cuDeviceGetName");
    }

    @Override
    public int cuDeviceGetAttribute(int[] value, int attribute, int device) {
        value[0] = switch (attribute) {
            case Cuda.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR -> computeMajor;
            case Cuda.ATTRIBUTE_COMPUTE_CAPABILITY_MINOR -> computeMinor;
            case Cuda.ATTRIBUTE_MULTIPROCESSOR_COUNT -> 132;
            default -> 0;
        };
        return call("cuDeviceGetAttribute");
    }

    @Override public int cuDeviceTotalMem_v2(long[] bytes, int device) { bytes[0] = totalMemory; return call("cuDeviceTotalMem_v2"); }
    @Override public int cuDevicePrimaryCtxRetain(long[] context, int device) { context[0] = handles++; return call("cuDevicePrimaryCtxRetain"); }
    @Override public int cuDevicePrimaryCtxRelease_v2(int device) { return call("cuDevicePrimaryCtxRelease_v2"); }
    @Override public int cuCtxSetCurrent(long context) { return call("cuCtxSetCurrent"); }
    @Override public int cuModuleLoadData(long[] module, MemorySegment image) { module[0] = handles++; return call("cuModuleLoadData"); }
    @Override public int cuModuleGetFunction(long[] function, long module, String name) { function[0] = handles++; return call("cuModuleGetFunction"); }
    @Override public int cuModuleUnload(long module) { return call("cuModuleUnload"); }

    @Override
    public int cuMemAlloc_v2(long[] devicePointer, long bytes) {
        int rc = call("cuMemAlloc_v2");
        if (rc != 0) return rc;
        MemorySegment s = arena.allocate(bytes, 256);
        allocations.put(s.address(), s);
        devicePointer[0] = s.address();
        return 0;
    }

    @Override
    public int cuMemFree_v2(long devicePointer) {
        int rc = call("cuMemFree_v2");
        if (rc == 0 && allocations.remove(devicePointer) == null) return 1;
        return rc;
    }

    @Override
    public int cuMemAllocHost_v2(long[] hostPointer, long bytes) {
        int rc = call("cuMemAllocHost_v2");
        if (rc != 0) return rc;
        hostPointer[0] = arena.allocate(bytes, 64).address();
        return 0;
    }

    @Override public int cuMemFreeHost(long hostPointer) { return call("cuMemFreeHost"); }

    @Override
    public int cuMemcpyHtoDAsync_v2(long dstDevice, long srcHost, long bytes, long stream) {
        int rc = call("cuMemcpyHtoDAsync_v2");
        if (rc != 0) return rc;
        MemorySegment.copy(MemorySegment.ofAddress(srcHost).reinterpret(bytes), 0, at(dstDevice, bytes), 0, bytes);
        return 0;
    }

    @Override
    public int cuMemcpyDtoHAsync_v2(long dstHost, long srcDevice, long bytes, long stream) {
        int rc = call("cuMemcpyDtoHAsync_v2");
        if (rc != 0) return rc;
        MemorySegment.copy(at(srcDevice, bytes), 0, MemorySegment.ofAddress(dstHost).reinterpret(bytes), 0, bytes);
        return 0;
    }

    @Override
    public int cuMemsetD8Async(long dstDevice, byte value, long count, long stream) {
        int rc = call("cuMemsetD8Async");
        if (rc == 0) at(dstDevice, count).fill(value);
        return rc;
    }

    @Override public int cuStreamCreate(long[] stream, int flags) { stream[0] = handles++; return call("cuStreamCreate"); }
    @Override public int cuStreamDestroy_v2(long stream) { return call("cuStreamDestroy_v2"); }
    @Override public int cuStreamSynchronize(long stream) { return call("cuStreamSynchronize"); }
    @Override public int cuEventCreate(long[] event, int flags) { event[0] = handles++; return call("cuEventCreate"); }
    @Override public int cuEventRecord(long event, long stream) { return call("cuEventRecord"); }
    @Override public int cuEventSynchronize(long event) { return call("cuEventSynchronize"); }
    @Override public int cuEventElapsedTime(float[] ms, long start, long end) { ms[0] = 1.5f; return call("cuEventElapsedTime"); }
    @Override public int cuEventDestroy_v2(long event) { return call("cuEventDestroy_v2"); }

    @Override
    public int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                              int sharedMemBytes, long stream, MemorySegment argumentBlock) {
        return call("cuLaunchKernel");
    }

    @Override
    public int cuMemGetInfo_v2(long[] free, long[] total) {
        free[0] = freeMemory;
        total[0] = totalMemory;
        return call("cuMemGetInfo_v2");
    }

    @Override
    public String cuGetErrorName(int result) {
        String[] e = ERRORS.get(result);
        return e == null ? null : e[0];
    }

    @Override
    public String cuGetErrorString(int result) {
        String[] e = ERRORS.get(result);
        return e == null ? null : e[1];
    }
}

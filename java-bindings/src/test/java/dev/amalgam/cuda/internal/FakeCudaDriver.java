package dev.amalgam.cuda.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A CUDA driver for host tests. "Device" memory is host memory (so copies really move bytes and
 * can be checked), handles are counters, and any call can be made to fail with a given code.
 * Kernel launches are only recorded.
 *
 * <p>With {@link #trackDependencies} it also models stream semantics for scheduling tests: every
 * queued operation ({@link Op}) records which earlier operations it is ordered after (its
 * stream's history plus the events its stream waited for), and which operations the host had
 * already waited for (event or stream synchronizations) when it was issued. Operations still
 * execute at once, so "ordered after" is what the real driver would guarantee, not what happened.
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
    private long currentContext;
    /** The context current at each successful cuLaunchKernel, in launch order. */
    public final java.util.List<Long> launchContexts = new java.util.ArrayList<>();
    private final Map<Long, Long> allocationContext = new HashMap<>();
    private final Map<Long, String> functionNames = new HashMap<>();

    /** One queued device operation; {@code kind} is H2D, D2H, D2D, memset or the kernel's name. */
    public record Op(int id, String kind, long stream, String tag, Set<Integer> orderedAfter, Set<Integer> hostWaitedBefore,
                     long address, long bytes) {
        /** Whether the driver guarantees that {@code earlier} completes before this starts. */
        public boolean after(Op earlier) {
            return orderedAfter.contains(earlier.id());
        }

        /** Whether the host had blocked until {@code other} completed when it queued this. */
        public boolean issuedAfterHostWaitedFor(Op other) {
            return hostWaitedBefore.contains(other.id());
        }
    }

    /** Turns on {@link #ops} recording (off by default: it keeps every operation). */
    public boolean trackDependencies;
    /** A label copied into the next recorded operations (tests set it around the calls they issue). */
    public String tag = "";
    public final List<Op> ops = new ArrayList<>();
    private final Map<Long, Set<Integer>> streamHistory = new HashMap<>();
    private final Map<Long, Set<Integer>> eventHistory = new HashMap<>();
    private final Set<Integer> hostWaited = new HashSet<>();

    private void queue(String kind, long stream, long address, long bytes) {
        if (!trackDependencies) return;
        Set<Integer> history = streamHistory.computeIfAbsent(stream, s -> new HashSet<>());
        Op op = new Op(ops.size(), kind, stream, tag, Set.copyOf(history), Set.copyOf(hostWaited), address, bytes);
        ops.add(op);
        history.add(op.id());
    }

    /** The recorded operations of a kind, in issue order. */
    public List<Op> ops(String kind) {
        return ops.stream().filter(o -> o.kind().equals(kind)).toList();
    }

    public long currentContext() {
        return currentContext;
    }

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
    @Override
    public int cuCtxSetCurrent(long context) {
        int rc = call("cuCtxSetCurrent");
        if (rc == 0) currentContext = context;
        return rc;
    }

    @Override public int cuCtxGetCurrent(long[] context) { context[0] = currentContext; return call("cuCtxGetCurrent"); }
    @Override public int cuCtxGetDevice(int[] device) { device[0] = 0; return call("cuCtxGetDevice"); }
    @Override public int cuModuleLoadData(long[] module, MemorySegment image) { module[0] = handles++; return call("cuModuleLoadData"); }

    @Override
    public int cuModuleGetFunction(long[] function, long module, String name) {
        function[0] = handles++;
        functionNames.put(function[0], name);
        return call("cuModuleGetFunction");
    }

    /** The kernel name a function handle was looked up by. */
    public String functionName(long function) {
        return functionNames.get(function);
    }
    @Override public int cuModuleUnload(long module) { return call("cuModuleUnload"); }

    @Override
    public int cuMemAlloc_v2(long[] devicePointer, long bytes) {
        int rc = call("cuMemAlloc_v2");
        if (rc != 0) return rc;
        MemorySegment s = arena.allocate(bytes, 256);
        allocations.put(s.address(), s);
        allocationContext.put(s.address(), currentContext);
        devicePointer[0] = s.address();
        return 0;
    }

    @Override
    public int cuMemFree_v2(long devicePointer) {
        int rc = call("cuMemFree_v2");
        if (rc == 0 && allocations.remove(devicePointer) == null) return 1;
        allocationContext.remove(devicePointer);
        return rc;
    }

    @Override
    public int cuPointerGetAttribute(long[] value, int attribute, long pointer) {
        int rc = call("cuPointerGetAttribute");
        if (rc != 0) return rc;
        for (Map.Entry<Long, MemorySegment> e : allocations.entrySet()) {
            long start = e.getKey();
            if (pointer >= start && pointer < start + e.getValue().byteSize()) {
                switch (attribute) {
                    case Cuda.POINTER_CONTEXT -> value[0] = allocationContext.get(start);
                    case Cuda.POINTER_RANGE_START -> value[0] = start;
                    case Cuda.POINTER_RANGE_SIZE -> value[0] = e.getValue().byteSize();
                    default -> {
                        return 1;
                    }
                }
                return 0;
            }
        }
        return 1;  // CUDA_ERROR_INVALID_VALUE: not device memory the driver knows
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
        queue("H2D", stream, dstDevice, bytes);
        return 0;
    }

    @Override
    public int cuMemcpyDtoHAsync_v2(long dstHost, long srcDevice, long bytes, long stream) {
        int rc = call("cuMemcpyDtoHAsync_v2");
        if (rc != 0) return rc;
        MemorySegment.copy(at(srcDevice, bytes), 0, MemorySegment.ofAddress(dstHost).reinterpret(bytes), 0, bytes);
        queue("D2H", stream, srcDevice, bytes);
        return 0;
    }

    @Override
    public int cuMemcpyDtoDAsync_v2(long dstDevice, long srcDevice, long bytes, long stream) {
        int rc = call("cuMemcpyDtoDAsync_v2");
        if (rc != 0) return rc;
        MemorySegment.copy(at(srcDevice, bytes), 0, at(dstDevice, bytes), 0, bytes);
        queue("D2D", stream, dstDevice, bytes);
        return 0;
    }

    @Override
    public int cuMemsetD8Async(long dstDevice, byte value, long count, long stream) {
        int rc = call("cuMemsetD8Async");
        if (rc == 0) {
            at(dstDevice, count).fill(value);
            queue("memset", stream, dstDevice, count);
        }
        return rc;
    }

    @Override public int cuStreamCreate(long[] stream, int flags) { stream[0] = handles++; return call("cuStreamCreate"); }
    @Override public int cuStreamDestroy_v2(long stream) { return call("cuStreamDestroy_v2"); }
    @Override
    public int cuStreamSynchronize(long stream) {
        if (trackDependencies) hostWaited.addAll(streamHistory.getOrDefault(stream, Set.of()));
        return call("cuStreamSynchronize");
    }

    @Override
    public int cuStreamWaitEvent(long stream, long event, int flags) {
        if (trackDependencies) {
            streamHistory.computeIfAbsent(stream, s -> new HashSet<>()).addAll(eventHistory.getOrDefault(event, Set.of()));
        }
        return call("cuStreamWaitEvent");
    }

    @Override public int cuEventCreate(long[] event, int flags) { event[0] = handles++; return call("cuEventCreate"); }

    @Override
    public int cuEventRecord(long event, long stream) {
        if (trackDependencies) eventHistory.put(event, new HashSet<>(streamHistory.getOrDefault(stream, Set.of())));
        return call("cuEventRecord");
    }

    @Override
    public int cuEventSynchronize(long event) {
        if (trackDependencies) hostWaited.addAll(eventHistory.getOrDefault(event, Set.of()));
        return call("cuEventSynchronize");
    }
    @Override public int cuEventElapsedTime(float[] ms, long start, long end) { ms[0] = 1.5f; return call("cuEventElapsedTime"); }
    @Override public int cuEventDestroy_v2(long event) { return call("cuEventDestroy_v2"); }

    @Override
    public int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                              int sharedMemBytes, long stream, MemorySegment argumentBlock) {
        int rc = call("cuLaunchKernel");
        if (rc == 0) {
            launchContexts.add(currentContext);
            queue(String.valueOf(functionNames.get(function)), stream, 0, 0);
        }
        return rc;
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

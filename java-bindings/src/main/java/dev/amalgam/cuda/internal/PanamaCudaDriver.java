package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * {@link CudaDriver} over {@code libcuda.so.1} with the Foreign Function &amp; Memory API.
 *
 * <p>Implementation notes
 * <ul>
 *   <li>Only the driver library is used (no runtime, no toolkit at run time). It is looked up by
 *       soname; {@link #load()} never throws: a missing library or symbol becomes a reason.</li>
 *   <li>Handles, device pointers and host pointers travel as {@code JAVA_LONG}: on the LP64/LLP64
 *       platforms that have libcuda, a pointer and a 64-bit integer are passed alike.</li>
 *   <li>Out-parameters live in a confined arena for the duration of one call.</li>
 *   <li>The {@code _v2} symbols are the ones the CUDA headers map the plain names to.</li>
 * </ul>
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public final class PanamaCudaDriver implements CudaDriver {

    public static final String LIBRARY = "libcuda.so.1";

    /** The driver, or why there is none. */
    public record Loaded(CudaDriver driver, String reason) {
    }

    private static final Linker LINKER = Linker.nativeLinker();

    private final MethodHandle cuInit, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName, cuDeviceGetAttribute,
            cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease, cuCtxSetCurrent, cuCtxGetCurrent, cuCtxGetDevice,
            cuModuleLoadData, cuModuleGetFunction, cuModuleUnload, cuMemAlloc, cuMemFree, cuMemAllocHost,
            cuMemFreeHost, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync, cuMemcpyDtoDAsync, cuMemsetD8Async,
            cuPointerGetAttribute, cuStreamCreate, cuStreamWaitEvent,
            cuStreamDestroy, cuStreamSynchronize, cuEventCreate, cuEventRecord, cuEventSynchronize,
            cuEventElapsedTime, cuEventDestroy, cuLaunchKernel, cuMemGetInfo, cuGetErrorName, cuGetErrorString;

    private final SymbolLookup library;
    private volatile KernelAttributes kernelAttributes;

    private PanamaCudaDriver(SymbolLookup lib) {
        this.library = lib;
        FunctionDescriptor l = FunctionDescriptor.of(JAVA_INT, JAVA_LONG);
        FunctionDescriptor ll = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG);
        FunctionDescriptor li = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT);
        FunctionDescriptor i = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        cuInit = bind(lib, "cuInit", i);
        cuDeviceGetCount = bind(lib, "cuDeviceGetCount", l);
        cuDeviceGet = bind(lib, "cuDeviceGet", li);
        cuDeviceGetName = bind(lib, "cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));
        cuDeviceGetAttribute = bind(lib, "cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = bind(lib, "cuDeviceTotalMem_v2", li);
        cuDevicePrimaryCtxRetain = bind(lib, "cuDevicePrimaryCtxRetain", li);
        cuDevicePrimaryCtxRelease = bind(lib, "cuDevicePrimaryCtxRelease_v2", i);
        cuCtxSetCurrent = bind(lib, "cuCtxSetCurrent", l);
        cuCtxGetCurrent = bind(lib, "cuCtxGetCurrent", l);
        cuCtxGetDevice = bind(lib, "cuCtxGetDevice", l);
        cuModuleLoadData = bind(lib, "cuModuleLoadData", ll);
        cuModuleGetFunction = bind(lib, "cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuModuleUnload = bind(lib, "cuModuleUnload", l);
        cuMemAlloc = bind(lib, "cuMemAlloc_v2", ll);
        cuMemFree = bind(lib, "cuMemFree_v2", l);
        cuMemAllocHost = bind(lib, "cuMemAllocHost_v2", ll);
        cuMemFreeHost = bind(lib, "cuMemFreeHost", l);
        FunctionDescriptor copy = FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        cuMemcpyHtoDAsync = bind(lib, "cuMemcpyHtoDAsync_v2", copy);
        cuMemcpyDtoHAsync = bind(lib, "cuMemcpyDtoHAsync_v2", copy);
        cuMemcpyDtoDAsync = bind(lib, "cuMemcpyDtoDAsync_v2", copy);
        cuPointerGetAttribute = bind(lib, "cuPointerGetAttribute", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG));
        cuMemsetD8Async = bind(lib, "cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, JAVA_LONG));
        cuStreamCreate = bind(lib, "cuStreamCreate", li);
        cuStreamDestroy = bind(lib, "cuStreamDestroy_v2", l);
        cuStreamSynchronize = bind(lib, "cuStreamSynchronize", l);
        cuStreamWaitEvent = bind(lib, "cuStreamWaitEvent", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
        cuEventCreate = bind(lib, "cuEventCreate", li);
        cuEventRecord = bind(lib, "cuEventRecord", ll);
        cuEventSynchronize = bind(lib, "cuEventSynchronize", l);
        cuEventElapsedTime = bind(lib, "cuEventElapsedTime", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuEventDestroy = bind(lib, "cuEventDestroy_v2", l);
        cuLaunchKernel = bind(lib, "cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, JAVA_LONG,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuMemGetInfo = bind(lib, "cuMemGetInfo_v2", ll);
        cuGetErrorName = bind(lib, "cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        cuGetErrorString = bind(lib, "cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    }

    /** {@code cuFuncSetAttribute} from the same library as the other entry points. */
    public KernelAttributes kernelAttributes() {
        KernelAttributes a = kernelAttributes;
        if (a == null) kernelAttributes = a = KernelAttributes.from(library);
        return a;
    }

    private static MethodHandle bind(SymbolLookup lib, String symbol, FunctionDescriptor descriptor) {
        MemorySegment address = lib.find(symbol)
                .orElseThrow(() -> new MissingSymbol(LIBRARY + " has no symbol " + symbol + " (driver too old?)"));
        return LINKER.downcallHandle(address, descriptor);
    }

    private static final class MissingSymbol extends RuntimeException {
        MissingSymbol(String message) {
            super(message);
        }
    }

    /** Loads {@code libcuda.so.1}; never throws. */
    public static Loaded load() {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError e) {
            return new Loaded(null, LIBRARY + " not found (no NVIDIA driver on this machine)");
        }
        return bindAll(lib);
    }

    /** Loads a driver library from a path (tests use a stub with the same symbols); never throws. */
    public static Loaded load(java.nio.file.Path library) {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(library, Arena.global());
        } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError e) {
            return new Loaded(null, library + " not found");
        }
        return bindAll(lib);
    }

    private static Loaded bindAll(SymbolLookup lib) {
        try {
            return new Loaded(new PanamaCudaDriver(lib), LIBRARY);
        } catch (MissingSymbol e) {
            return new Loaded(null, e.getMessage());
        }
    }

    // ---- helpers: every invokeExact below matches its descriptor exactly ----

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private interface OutCall {
        int call(MemorySegment out) throws Throwable;
    }

    private static int withLongOut(long[] out, OutCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(JAVA_LONG);
            int rc = call.call(slot);
            out[0] = slot.get(JAVA_LONG, 0);
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int withIntOut(int[] out, OutCall call) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(JAVA_INT);
            int rc = call.call(slot);
            out[0] = slot.get(JAVA_INT, 0);
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int plain(MethodHandle h, long a) {
        try {
            return (int) h.invokeExact(a);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static int plain(MethodHandle h, long a, long b) {
        try {
            return (int) h.invokeExact(a, b);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuInit(int flags) {
        try {
            return (int) cuInit.invokeExact(flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuDeviceGetCount(int[] count) {
        return withIntOut(count, s -> (int) cuDeviceGetCount.invokeExact(s.address()));
    }

    @Override
    public int cuDeviceGet(int[] device, int ordinal) {
        return withIntOut(device, s -> (int) cuDeviceGet.invokeExact(s.address(), ordinal));
    }

    @Override
    public int cuDeviceGetName(byte[] name, int device) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(name.length);
            int rc = (int) cuDeviceGetName.invokeExact(buf.address(), name.length, device);
            MemorySegment.copy(buf, JAVA_BYTE, 0, name, 0, name.length);
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuDeviceGetAttribute(int[] value, int attribute, int device) {
        return withIntOut(value, s -> (int) cuDeviceGetAttribute.invokeExact(s.address(), attribute, device));
    }

    @Override
    public int cuDeviceTotalMem_v2(long[] bytes, int device) {
        return withLongOut(bytes, s -> (int) cuDeviceTotalMem.invokeExact(s.address(), device));
    }

    @Override
    public int cuDevicePrimaryCtxRetain(long[] context, int device) {
        return withLongOut(context, s -> (int) cuDevicePrimaryCtxRetain.invokeExact(s.address(), device));
    }

    @Override
    public int cuDevicePrimaryCtxRelease_v2(int device) {
        try {
            return (int) cuDevicePrimaryCtxRelease.invokeExact(device);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuCtxSetCurrent(long context) {
        return plain(cuCtxSetCurrent, context);
    }

    @Override
    public int cuCtxGetCurrent(long[] context) {
        return withLongOut(context, s -> (int) cuCtxGetCurrent.invokeExact(s.address()));
    }

    @Override
    public int cuCtxGetDevice(int[] device) {
        return withIntOut(device, s -> (int) cuCtxGetDevice.invokeExact(s.address()));
    }

    @Override
    public int cuModuleLoadData(long[] module, MemorySegment image) {
        return withLongOut(module, s -> (int) cuModuleLoadData.invokeExact(s.address(), image.address()));
    }

    @Override
    public int cuModuleGetFunction(long[] function, long module, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocateFrom(name, StandardCharsets.US_ASCII);
            MemorySegment slot = arena.allocate(JAVA_LONG);
            int rc = (int) cuModuleGetFunction.invokeExact(slot.address(), module, cName.address());
            function[0] = slot.get(JAVA_LONG, 0);
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuModuleUnload(long module) {
        return plain(cuModuleUnload, module);
    }

    @Override
    public int cuMemAlloc_v2(long[] devicePointer, long bytes) {
        return withLongOut(devicePointer, s -> (int) cuMemAlloc.invokeExact(s.address(), bytes));
    }

    @Override
    public int cuMemFree_v2(long devicePointer) {
        return plain(cuMemFree, devicePointer);
    }

    @Override
    public int cuMemAllocHost_v2(long[] hostPointer, long bytes) {
        return withLongOut(hostPointer, s -> (int) cuMemAllocHost.invokeExact(s.address(), bytes));
    }

    @Override
    public int cuMemFreeHost(long hostPointer) {
        return plain(cuMemFreeHost, hostPointer);
    }

    @Override
    public int cuMemcpyHtoDAsync_v2(long dstDevice, long srcHost, long bytes, long stream) {
        try {
            return (int) cuMemcpyHtoDAsync.invokeExact(dstDevice, srcHost, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuMemcpyDtoHAsync_v2(long dstHost, long srcDevice, long bytes, long stream) {
        try {
            return (int) cuMemcpyDtoHAsync.invokeExact(dstHost, srcDevice, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuMemcpyDtoDAsync_v2(long dstDevice, long srcDevice, long bytes, long stream) {
        try {
            return (int) cuMemcpyDtoDAsync.invokeExact(dstDevice, srcDevice, bytes, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuPointerGetAttribute(long[] value, int attribute, long pointer) {
        // the driver writes 4 or 8 bytes depending on the attribute: a zeroed 8-byte slot reads right either way
        return withLongOut(value, s -> (int) cuPointerGetAttribute.invokeExact(s.address(), attribute, pointer));
    }

    @Override
    public int cuMemsetD8Async(long dstDevice, byte value, long count, long stream) {
        try {
            return (int) cuMemsetD8Async.invokeExact(dstDevice, value, count, stream);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuStreamCreate(long[] stream, int flags) {
        return withLongOut(stream, s -> (int) cuStreamCreate.invokeExact(s.address(), flags));
    }

    @Override
    public int cuStreamDestroy_v2(long stream) {
        return plain(cuStreamDestroy, stream);
    }

    @Override
    public int cuStreamSynchronize(long stream) {
        return plain(cuStreamSynchronize, stream);
    }

    @Override
    public int cuStreamWaitEvent(long stream, long event, int flags) {
        try {
            return (int) cuStreamWaitEvent.invokeExact(stream, event, flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuEventCreate(long[] event, int flags) {
        return withLongOut(event, s -> (int) cuEventCreate.invokeExact(s.address(), flags));
    }

    @Override
    public int cuEventRecord(long event, long stream) {
        return plain(cuEventRecord, event, stream);
    }

    @Override
    public int cuEventSynchronize(long event) {
        return plain(cuEventSynchronize, event);
    }

    @Override
    public int cuEventElapsedTime(float[] milliseconds, long start, long end) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(JAVA_FLOAT);
            int rc = (int) cuEventElapsedTime.invokeExact(slot.address(), start, end);
            milliseconds[0] = slot.get(JAVA_FLOAT, 0);
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuEventDestroy_v2(long event) {
        return plain(cuEventDestroy, event);
    }

    @Override
    public int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                              int sharedMemBytes, long stream, MemorySegment argumentBlock) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment params = arena.allocate(MemoryLayout.sequenceLayout(1, ADDRESS));
            params.set(ADDRESS, 0, argumentBlock);
            return (int) cuLaunchKernel.invokeExact(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                    sharedMemBytes, stream, params.address(), 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int cuMemGetInfo_v2(long[] free, long[] total) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(JAVA_LONG);
            MemorySegment t = arena.allocate(JAVA_LONG);
            int rc = (int) cuMemGetInfo.invokeExact(f.address(), t.address());
            free[0] = f.get(JAVA_LONG, 0);
            total[0] = t.get(JAVA_LONG, 0);
            return rc;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public String cuGetErrorName(int result) {
        return errorText(cuGetErrorName, result);
    }

    @Override
    public String cuGetErrorString(int result) {
        return errorText(cuGetErrorString, result);
    }

    private static String errorText(MethodHandle h, int result) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment slot = arena.allocate(JAVA_LONG);
            int rc = (int) h.invokeExact(result, slot.address());
            long p = slot.get(JAVA_LONG, 0);
            if (rc != 0 || p == 0) return null;
            return MemorySegment.ofAddress(p).reinterpret(Long.MAX_VALUE).getString(0, StandardCharsets.US_ASCII);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}

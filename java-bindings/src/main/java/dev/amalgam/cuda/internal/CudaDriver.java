package dev.amalgam.cuda.internal;

import java.lang.foreign.MemorySegment;

/**
 * The slice of the CUDA driver API that Amalgam uses, one method per driver symbol, returning
 * the raw {@code CUresult} (0 = success). Out-parameters are one-element arrays; handles,
 * device pointers and pinned host pointers are {@code long}s.
 *
 * <p>Implementation notes. This interface exists so that everything above it ({@link Cuda}'s
 * error mapping, transfers, chunking) can be tested with a fake on machines without a GPU;
 * {@link PanamaCudaDriver} is the real one. Nothing here checks return codes: {@link Cuda} does.
 */
public interface CudaDriver {

    int cuInit(int flags);

    int cuDeviceGetCount(int[] count);

    int cuDeviceGet(int[] device, int ordinal);

    int cuDeviceGetName(byte[] name, int device);

    int cuDeviceGetAttribute(int[] value, int attribute, int device);

    int cuDeviceTotalMem_v2(long[] bytes, int device);

    int cuDevicePrimaryCtxRetain(long[] context, int device);

    int cuDevicePrimaryCtxRelease_v2(int device);

    int cuCtxSetCurrent(long context);

    /** The calling thread's current context, 0 if none. */
    int cuCtxGetCurrent(long[] context);

    /** The device of the calling thread's current context. */
    int cuCtxGetDevice(int[] device);

    /** {@code image} must stay readable for the duration of the call (native memory). */
    int cuModuleLoadData(long[] module, MemorySegment image);

    int cuModuleGetFunction(long[] function, long module, String name);

    int cuModuleUnload(long module);

    int cuMemAlloc_v2(long[] devicePointer, long bytes);

    int cuMemFree_v2(long devicePointer);

    int cuMemAllocHost_v2(long[] hostPointer, long bytes);

    int cuMemFreeHost(long hostPointer);

    int cuMemcpyHtoDAsync_v2(long dstDevice, long srcHost, long bytes, long stream);

    int cuMemcpyDtoHAsync_v2(long dstHost, long srcDevice, long bytes, long stream);

    int cuMemcpyDtoDAsync_v2(long dstDevice, long srcDevice, long bytes, long stream);

    int cuMemsetD8Async(long dstDevice, byte value, long count, long stream);

    /**
     * One attribute of the allocation holding {@code pointer}; {@code value} receives the 8 bytes
     * the driver writes (a CUcontext, a CUdeviceptr, a size_t, or an unsigned int in the low half).
     */
    int cuPointerGetAttribute(long[] value, int attribute, long pointer);

    int cuStreamCreate(long[] stream, int flags);

    int cuStreamDestroy_v2(long stream);

    int cuStreamSynchronize(long stream);

    /** Makes later work on {@code stream} wait for {@code event} (no host wait). */
    int cuStreamWaitEvent(long stream, long event, int flags);

    int cuEventCreate(long[] event, int flags);

    int cuEventRecord(long event, long stream);

    int cuEventSynchronize(long event);

    int cuEventElapsedTime(float[] milliseconds, long start, long end);

    int cuEventDestroy_v2(long event);

    /**
     * Launches {@code function} with ONE kernel argument: the struct in {@code argumentBlock}
     * (Amalgam's kernels all take a single by-value struct, see KernelLayouts).
     */
    int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedMemBytes, long stream, MemorySegment argumentBlock);

    int cuMemGetInfo_v2(long[] free, long[] total);

    /** The enum name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}, or null if the driver does not know the code. */
    String cuGetErrorName(int result);

    /** The driver's description, e.g. {@code out of memory}, or null if unknown. */
    String cuGetErrorString(int result);
}

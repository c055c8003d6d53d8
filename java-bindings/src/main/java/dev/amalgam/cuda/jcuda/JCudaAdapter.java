package dev.amalgam.cuda.jcuda;

import dev.amalgam.cuda.CudaKernels;
import dev.amalgam.cuda.DeviceDeltaSource;
import dev.amalgam.cuda.DeviceGtaPass;
import dev.amalgam.cuda.DeviceLinearPass;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.tensor.DType;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import java.util.List;

/**
 * Amalgam's kernels for applications that manage CUDA with JCuda: wrap your {@code CUdeviceptr}s
 * (driver API) or device {@code Pointer}s (runtime API, from cudaMalloc) as {@link DeviceTensor}s
 * with {@link #tensor}, build a {@link DeviceGtaPass} / {@link DeviceLinearPass}, and run it on
 * your stream. A thin layer over {@link CudaKernels}' device-memory entry points.
 *
 * <pre>{@code
 * cuCtxSetCurrent(context);                          // JCuda: your context, current on this thread
 * try (JCudaAdapter amalgam = JCudaAdapter.attachToCurrentContext()) {
 *     DeviceTensor base = JCudaAdapter.tensor("w", DType.BF16, dBase, rows, cols);
 *     ...
 *     GtaResult r = amalgam.gta(new DeviceGtaPass(...), stream);   // CUstream or cudaStream_t
 * }
 * }</pre>
 *
 * <p>Implementation notes
 * <ul>
 *   <li>Raw addresses. JCuda keeps a pointer's value in {@code NativePointerObject.nativePointer}
 *       plus {@code Pointer.byteOffset} (set by {@code withByteOffset}), readable only through the
 *       protected {@code getNativePointer()} / {@code getByteOffset()}. JCuda's own protected copy
 *       constructors ({@code Pointer(Pointer)}, {@code NativePointerObject(NativePointerObject)})
 *       copy both fields, so a private subclass that copies the caller's object can read them: no
 *       reflection, no {@code setAccessible}, no JCuda native library. The device address is
 *       nativePointer + byteOffset, exactly what JCuda passes to the driver.</li>
 *   <li>Only JCuda's plain Java classes are touched ({@code Pointer}, {@code CUdeviceptr},
 *       {@code CUstream}, …); {@code JCudaDriver} is never loaded, so the adapter links with the
 *       application's JCuda whatever its natives. Amalgam calls {@code libcuda.so.1} itself
 *       (Panama); it is the same driver instance in the process, so contexts and pointers are
 *       shared.</li>
 *   <li>The context: {@link #attachToCurrentContext()} runs in the context current on the calling
 *       thread and never destroys it; the pointers must belong to it (checked per call with
 *       cuPointerGetAttribute, so a wrong pointer is an exception, not a device fault).</li>
 * </ul>
 */
public final class JCudaAdapter implements AutoCloseable {

    private final CudaKernels kernels;

    /** Runs on {@code kernels} (e.g. one attached to a context, or one on the primary context that cudaMalloc uses). */
    public JCudaAdapter(CudaKernels kernels) {
        this.kernels = kernels;
    }

    /** Loads Amalgam's kernels into the context current on this thread (see {@link CudaKernels#attachToCurrentContext()}). */
    public static JCudaAdapter attachToCurrentContext() {
        return new JCudaAdapter(CudaKernels.attachToCurrentContext());
    }

    public CudaKernels kernels() {
        return kernels;
    }

    /** The device address a JCuda pointer stands for: its native pointer plus its byte offset. */
    public static long address(Pointer pointer) {
        if (pointer == null) throw new IllegalArgumentException("null JCuda pointer");
        return new PointerValue(pointer).value();
    }

    /** The raw handle of a JCuda object such as {@code CUstream}, {@code cudaStream_t} or {@code CUcontext}; 0 for null. */
    public static long handle(NativePointerObject object) {
        return object == null ? 0 : new HandleValue(object).value();
    }

    /** A device tensor over the memory of a JCuda pointer ({@code CUdeviceptr}, or a runtime-API device {@code Pointer}). */
    public static DeviceTensor tensor(String name, DType dtype, Pointer pointer, long... shape) {
        long address = address(pointer);
        if (address == 0 && shape.length > 0 && dev.amalgam.tensor.TensorInfo.elementCount(shape) > 0) {
            throw new IllegalArgumentException("device tensor " + name + ": the JCuda pointer is null (not allocated, or a"
                    + " host Pointer.to(...) array: Amalgam needs device memory from cuMemAlloc / cudaMalloc)");
        }
        return DeviceTensor.of(name, dtype, address, shape);
    }

    /** The fused GTA pass on device tensors, ordered after {@code stream} (a CUstream / cudaStream_t; null: the default stream). */
    public GtaResult gta(DeviceGtaPass pass, NativePointerObject stream) {
        return kernels.gtaOnDevice(pass, handle(stream));
    }

    public GtaResult gta(DeviceGtaPass pass) {
        return gta(pass, null);
    }

    /** Magnitude selection over device deltas, ordered after {@code stream}. */
    public MagnitudeThreshold selectLargest(List<DeviceDeltaSource> parts, long k, NativePointerObject stream) {
        return kernels.selectLargestOnDevice(parts, k, handle(stream));
    }

    public MagnitudeThreshold selectLargest(List<DeviceDeltaSource> parts, long k) {
        return selectLargest(parts, k, null);
    }

    /** {@code linear} on device tensors, ordered after {@code stream}. */
    public LinearResult linear(DeviceLinearPass pass, NativePointerObject stream) {
        return kernels.linearOnDevice(pass, handle(stream));
    }

    public LinearResult linear(DeviceLinearPass pass) {
        return linear(pass, null);
    }

    /** Frees Amalgam's module, streams and buffers (never the application's context or memory). */
    @Override
    public void close() {
        kernels.close();
    }

    /** Copies a Pointer with JCuda's protected copy constructor to read its value. */
    private static final class PointerValue extends Pointer {
        PointerValue(Pointer pointer) {
            super(pointer);
        }

        long value() {
            return getNativePointer() + getByteOffset();
        }
    }

    /** Copies a handle object with JCuda's protected copy constructor to read its value. */
    private static final class HandleValue extends NativePointerObject {
        HandleValue(NativePointerObject object) {
            super(object);
        }

        long value() {
            return getNativePointer();
        }
    }
}

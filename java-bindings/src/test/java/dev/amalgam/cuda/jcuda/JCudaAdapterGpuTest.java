package dev.amalgam.cuda.jcuda;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.cuda.CudaKernelProviderAccess;
import dev.amalgam.cuda.DeviceDeltaSource;
import dev.amalgam.cuda.DeviceGtaPass;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelTestData;
import dev.amalgam.kernel.KernelTestData.Style;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The adapter on a real GPU, the way an application uses it: JCuda creates its own context
 * (not the primary one), allocates and fills buffers asynchronously on its own stream, and
 * Amalgam runs selection and the fused pass on them; the result equals the reference. Skipped
 * with the reason without a GPU or without JCuda's native library (the GPU suite script stages
 * it); {@code -Damalgam.requireGpu=true} makes either a failure.
 */
class JCudaAdapterGpuTest {

    @BeforeEach
    void needsAGpuAndJCudaNatives() {
        CudaKernelProviderAccess.usableGpu("JCudaAdapterGpuTest");
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
        } catch (Throwable e) {  // UnsatisfiedLinkError or JCuda's wrapper of it
            String reason = "JCuda's native library does not load: " + e;
            if (Boolean.getBoolean("amalgam.requireGpu")) fail("-Damalgam.requireGpu=true but " + reason);
            Assumptions.abort(reason);
        }
    }

    @Test
    void mergesTheApplicationsBuffersInItsOwnContext() {
        long seed = 0x9C0DA;
        System.out.println("JCudaAdapterGpuTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        long n = 3_000_017;
        Tensor base = KernelTestData.randomBase("w", DType.BF16, n, Style.GRID, rnd);
        Tensor m1 = KernelTestData.randomModel("w", DType.BF16, base, Style.GRID, rnd);
        Tensor m2 = KernelTestData.randomModel("w", DType.F16, base, Style.WIDE, rnd);
        ReferenceKernels reference = new ReferenceKernels();

        CUdevice device = new CUdevice();
        cuDeviceGet(device, Integer.getInteger("amalgam.cuda.device", 0));
        CUcontext context = new CUcontext();
        cuCtxCreate(context, 0, device);  // the application's own context, current on this thread
        CUstream stream = new CUstream();
        cuStreamCreate(stream, 0);
        CUdeviceptr dBase = new CUdeviceptr(), dM1 = new CUdeviceptr(), dM2 = new CUdeviceptr(), dOut = new CUdeviceptr();
        try {
            for (CUdeviceptr p : new CUdeviceptr[] {dBase, dM1, dM2}) cuMemAlloc(p, n * 2);
            cuMemAlloc(dOut, n * 2);
            short[] hb = bits(base), h1 = bits(m1), h2 = bits(m2);
            cuMemcpyHtoDAsync(dBase, Pointer.to(hb), n * 2, stream);  // still in flight when Amalgam is called
            cuMemcpyHtoDAsync(dM1, Pointer.to(h1), n * 2, stream);
            cuMemcpyHtoDAsync(dM2, Pointer.to(h2), n * 2, stream);
            try (JCudaAdapter amalgam = JCudaAdapter.attachToCurrentContext()) {
                DeviceTensor b = JCudaAdapter.tensor("w", DType.BF16, dBase, n);
                DeviceTensor x1 = JCudaAdapter.tensor("w", DType.BF16, dM1, n), x2 = JCudaAdapter.tensor("w", DType.F16, dM2, n);
                MagnitudeThreshold th = amalgam.selectLargest(List.of(new DeviceDeltaSource(b, x1)), n / 5, stream);
                assertEquals(reference.selectLargest(List.of(new DeltaSource(base, m1)), n / 5), th);
                Sparsifier[] sp = {Sparsifier.MagnitudeBand.trim(th), new Sparsifier.Bernoulli(0.6)};
                Tensor expected = KernelTestData.allocate("w", DType.BF16, n);
                GtaResult want = reference.gta(new GtaPass("w", base, List.of(m1, m2), new int[] {1, 2},
                        new float[] {1f, 0.8f}, sp, RescaleMode.NONE, 11, ConsensusMethod.SUM, true, 1f, expected, false));
                GtaResult got = amalgam.gta(new DeviceGtaPass("w", b, List.of(x1, x2), new int[] {1, 2}, new float[] {1f, 0.8f},
                        sp, RescaleMode.NONE, 11, ConsensusMethod.SUM, true, 1f, JCudaAdapter.tensor("w", DType.BF16, dOut, n),
                        false), stream);
                short[] out = new short[(int) n];
                cuMemcpyDtoH(Pointer.to(out), dOut, n * 2);
                Tensor actual = KernelTestData.allocate("w", DType.BF16, n);
                for (int i = 0; i < n; i++) actual.data().setAtIndex(Tensor.I16_LE, i, out[i]);
                KernelTestData.assertSameBits(expected, actual, "JCuda buffers");
                assertArrayEquals(want.kept(), got.kept());
                assertEquals(want.signConflicts(), got.signConflicts());
            }
        } finally {
            for (CUdeviceptr p : new CUdeviceptr[] {dBase, dM1, dM2, dOut}) cuMemFree(p);
            cuStreamDestroy(stream);
            cuCtxDestroy(context);
        }
    }

    static short[] bits(Tensor t) {
        short[] s = new short[(int) t.elementCount()];
        for (int i = 0; i < s.length; i++) s[i] = t.data().getAtIndex(Tensor.I16_LE, i);
        return s;
    }
}

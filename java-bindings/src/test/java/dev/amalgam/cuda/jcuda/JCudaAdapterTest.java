package dev.amalgam.cuda.jcuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.CudaKernels;
import dev.amalgam.cuda.DeviceDeltaSource;
import dev.amalgam.cuda.DeviceGtaPass;
import dev.amalgam.cuda.DeviceLinearPass;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.EmulatedCudaDriver;
import dev.amalgam.cuda.internal.FakeCudaDriver.Op;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelTestData;
import dev.amalgam.kernel.KernelTestData.Style;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import org.junit.jupiter.api.Test;

/**
 * The JCuda adapter without a GPU and without JCuda's native library: how JCuda objects map to
 * raw addresses and handles, and the adapter end to end over the emulating driver, where
 * {@code CUdeviceptr}s point at the fake's "device" memory.
 */
class JCudaAdapterTest {

    /** A JCuda pointer with a native value, as JCuda's natives would set it (Pointer(long) is protected). */
    static final class NativeValuePointer extends Pointer {
        NativeValuePointer(long value) {
            super(value);
        }
    }

    /** A handle with a native value, standing in for a CUstream created by JCuda's natives. */
    static final class NativeHandle extends NativePointerObject {
        NativeHandle(long value) {
            super(value);
        }
    }

    /** A CUdeviceptr at {@code address}: a fresh one holds 0, and withByteOffset adds to what JCuda passes on. */
    static CUdeviceptr at(long address) {
        return new CUdeviceptr().withByteOffset(address);
    }

    @Test
    void addressIsTheNativePointerPlusTheByteOffset() {
        assertEquals(0, JCudaAdapter.address(new CUdeviceptr()));
        assertEquals(0x1000, JCudaAdapter.address(at(0x1000)));
        assertEquals(0x1000 + 24, JCudaAdapter.address(at(0x1000).withByteOffset(24)), "offsets accumulate");
        assertEquals(0x7F00_0000_0010L, JCudaAdapter.address(new NativeValuePointer(0x7F00_0000_0000L).withByteOffset(16)));
        assertEquals(0xFFFF_FFFF_0000L, JCudaAdapter.address(new NativeValuePointer(0xFFFF_FFFF_0000L)));
        assertThrows(IllegalArgumentException.class, () -> JCudaAdapter.address(null));
    }

    @Test
    void handlesAreTheNativeValue() {
        assertEquals(0, JCudaAdapter.handle(null), "null: the default stream");
        assertEquals(0, JCudaAdapter.handle(new CUstream()));
        assertEquals(0x5000_0001L, JCudaAdapter.handle(new NativeHandle(0x5000_0001L)));
    }

    @Test
    void tensorsCarryNameDtypeShapeAndAddress() {
        DeviceTensor t = JCudaAdapter.tensor("model.embed", DType.BF16, at(0x2000).withByteOffset(64), 32, 8);
        assertEquals("model.embed", t.name());
        assertEquals(DType.BF16, t.dtype());
        assertArrayEquals(new long[] {32, 8}, t.info().shape());
        assertEquals(256, t.elementCount());
        assertEquals(0x2040, t.address());
        IllegalArgumentException nul = assertThrows(IllegalArgumentException.class,
                () -> JCudaAdapter.tensor("w", DType.F32, new CUdeviceptr(), 4));
        assertTrue(nul.getMessage().startsWith("device tensor w: the JCuda pointer is null"), nul.getMessage());
        IllegalArgumentException host = assertThrows(IllegalArgumentException.class,
                () -> JCudaAdapter.tensor("h", DType.F32, Pointer.to(new float[4]), 4));
        assertTrue(host.getMessage().contains("host Pointer.to(...) array"), host.getMessage());
        assertThrows(IllegalArgumentException.class, () -> JCudaAdapter.tensor("odd", DType.F32, at(0x2002), 4));
        assertEquals(0, JCudaAdapter.tensor("empty", DType.F16, new CUdeviceptr(), 0).elementCount());
    }

    @Test
    void runsGtaSelectionAndLinearOnCUdeviceptrsInOrderAfterTheStream() {
        long seed = 0x7C0DA;
        System.out.println("JCudaAdapterTest seed " + seed);
        SplittableRandom rnd = new SplittableRandom(seed);
        EmulatedCudaDriver driver = new EmulatedCudaDriver();
        Cuda cuda = new Cuda(driver);
        ReferenceKernels reference = new ReferenceKernels();
        try (JCudaAdapter adapter = new JCudaAdapter(new CudaKernels(cuda, 0, new byte[16], Long.MAX_VALUE, 1 << 16))) {
            long n = 6000;
            Tensor base = KernelTestData.randomBase("w", DType.F16, n, Style.GRID, rnd);
            Tensor m1 = KernelTestData.randomModel("w", DType.BF16, base, Style.GRID, rnd);
            Tensor m2 = KernelTestData.randomModel("w", DType.F32, base, Style.GRID, rnd);
            // the application's buffers: allocated and filled as with cuMemAlloc / cuMemcpyHtoD
            CUdeviceptr dBase = upload(cuda, driver, base), dM1 = upload(cuda, driver, m1), dM2 = upload(cuda, driver, m2);
            CUdeviceptr dOut = at(cuda.memAlloc(n * 4));
            DeviceTensor b = JCudaAdapter.tensor("w", DType.F16, dBase, n);
            DeviceTensor x1 = JCudaAdapter.tensor("w", DType.BF16, dM1, n), x2 = JCudaAdapter.tensor("w", DType.F32, dM2, n);

            List<DeltaSource> hostParts = List.of(new DeltaSource(base, m1));
            MagnitudeThreshold th = adapter.selectLargest(List.of(new DeviceDeltaSource(b, x1)), n / 4);
            assertEquals(reference.selectLargest(hostParts, n / 4), th);

            Sparsifier[] sp = {Sparsifier.MagnitudeBand.trim(th), new Sparsifier.Bernoulli(0.7)};
            Tensor expected = KernelTestData.allocate("w", DType.F32, n);
            GtaResult want = reference.gta(new GtaPass("w", base, List.of(m1, m2), new int[] {1, 2}, new float[] {1f, 0.5f}, sp,
                    RescaleMode.NONE, 3, ConsensusMethod.COUNT, true, 1f, expected, false));
            NativePointerObject stream = new NativeHandle(31337);
            driver.trackDependencies = true;
            driver.tag = "application";
            cuda.memsetAsync(JCudaAdapter.address(dOut), 0, 8, 31337);
            driver.tag = "amalgam";
            GtaResult got = adapter.gta(new DeviceGtaPass("w", b, List.of(x1, x2), new int[] {1, 2}, new float[] {1f, 0.5f}, sp,
                    RescaleMode.NONE, 3, ConsensusMethod.COUNT, true, 1f, JCudaAdapter.tensor("w", DType.F32, dOut, n), false),
                    stream);
            Tensor out = new Tensor(expected.info(), driver.at(JCudaAdapter.address(dOut), n * 4));
            KernelTestData.assertSameBits(expected, out, "gta through JCuda pointers");
            assertArrayEquals(want.kept(), got.kept());
            assertEquals(want.signConflicts(), got.signConflicts());
            Op application = driver.ops.stream().filter(o -> o.tag().equals("application")).findFirst().orElseThrow();
            assertTrue(driver.ops.stream().filter(o -> o.tag().equals("amalgam")).allMatch(o -> o.after(application)),
                    "Amalgam's work is ordered after the application's stream");

            Tensor linearExpected = KernelTestData.allocate("w", DType.F32, n);
            reference.linear(new LinearPass("w", List.of(base, m2), new float[] {0.5f, 0.5f}, 1f, linearExpected, false));
            adapter.linear(new DeviceLinearPass("w", List.of(b, x2), new float[] {0.5f, 0.5f}, 1f,
                    JCudaAdapter.tensor("w", DType.F32, dOut, n), false));
            KernelTestData.assertSameBits(linearExpected, out, "linear through JCuda pointers");
        }
    }

    static CUdeviceptr upload(Cuda cuda, EmulatedCudaDriver driver, Tensor host) {
        long address = cuda.memAlloc(host.data().byteSize());
        driver.at(address, host.data().byteSize()).copyFrom(host.data());
        return at(address);
    }
}

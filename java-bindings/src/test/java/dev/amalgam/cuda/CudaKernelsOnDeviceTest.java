package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The device-memory entry points over the emulating driver: the caller allocates "device" memory,
 * Amalgam runs on it in place, and the results equal the reference on host copies of the same
 * bytes. Also the checks that turn a wrong pointer into an exception, and context handling.
 */
class CudaKernelsOnDeviceTest {

    static final long SEED = 0xDE71CE;
    final EmulatedCudaDriver driver = new EmulatedCudaDriver();
    final Cuda cuda = new Cuda(driver);
    final ReferenceKernels reference = new ReferenceKernels();
    final List<CudaKernels> opened = new ArrayList<>();

    @AfterEach
    void close() {
        opened.forEach(CudaKernels::close);
    }

    CudaKernels primary() {
        CudaKernels k = new CudaKernels(cuda, 0, new byte[16], Long.MAX_VALUE, 64 * 1024);
        opened.add(k);
        return k;
    }

    /** A caller's device copy of a host tensor (allocated in the current context). */
    DeviceTensor onDevice(Tensor host) {
        long address = cuda.memAlloc(host.data().byteSize());
        driver.at(address, host.data().byteSize()).copyFrom(host.data());
        return new DeviceTensor(host.info(), address);
    }

    DeviceTensor emptyOnDevice(String name, DType dtype, long n) {
        return new DeviceTensor(KernelTestData.allocate(name, dtype, n).info(), cuda.memAlloc(n * dtype.byteSize()));
    }

    /** What the caller would read back from device memory. */
    Tensor read(DeviceTensor t) {
        return new Tensor(t.info(), driver.at(t.address(), t.byteSize()));
    }

    @Test
    void gtaOnDeviceEqualsTheReferenceForTrimDareAndConsensus() {
        System.out.println("CudaKernelsOnDeviceTest seed " + SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        CudaKernels k = primary();
        long n = 3 * 4096 + 17;
        Tensor base = KernelTestData.randomBase("layer.w", DType.BF16, n, Style.GRID, rnd);
        List<Tensor> models = List.of(KernelTestData.randomModel("layer.w", DType.BF16, base, Style.GRID, rnd),
                KernelTestData.randomModel("layer.w", DType.F16, base, Style.GRID, rnd),
                KernelTestData.randomModel("layer.w", DType.F32, base, Style.GRID, rnd));
        MagnitudeThreshold trim = reference.selectLargest(List.of(new DeltaSource(base, models.get(0))), n / 3);
        Sparsifier[] sparsifiers = {Sparsifier.MagnitudeBand.trim(trim), new Sparsifier.Bernoulli(0.4), Sparsifier.NONE};
        float[] weights = {0.5f, 1.25f, -0.3f};
        int[] indices = {1, 2, 3};
        Tensor expected = KernelTestData.allocate("layer.w", DType.BF16, n);
        GtaResult want = reference.gta(new GtaPass("layer.w", base, models, indices, weights, sparsifiers,
                RescaleMode.NONE, 42, ConsensusMethod.SUM, true, 0.9f, expected, false));

        DeviceTensor out = emptyOnDevice("layer.w", DType.BF16, n);
        GtaResult got = k.gtaOnDevice(new DeviceGtaPass("layer.w", onDevice(base), models.stream().map(this::onDevice).toList(),
                indices, weights, sparsifiers, RescaleMode.NONE, 42, ConsensusMethod.SUM, true, 0.9f, out, false));
        KernelTestData.assertSameBits(expected, read(out), "gtaOnDevice");
        assertArrayEquals(want.kept(), got.kept());
        assertArrayEquals(want.keepTies(), got.keepTies(), "tie counts, with the cutoff read from device tiles");
        assertEquals(want.signConflicts(), got.signConflicts());
        assertTrue(want.keepTies()[0] > trim.tiesToKeep(), "GRID data ties at the threshold: the cutoff matters");
    }

    @Test
    void gtaOnDeviceMayWriteTheBaseInPlace() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        CudaKernels k = primary();
        Tensor base = KernelTestData.randomBase("b", DType.F32, 5000, Style.WIDE, rnd);
        Tensor model = KernelTestData.randomModel("b", DType.F32, base, Style.WIDE, rnd);
        Tensor expected = KernelTestData.allocate("b", DType.F32, 5000);
        Sparsifier[] dare = {new Sparsifier.Bernoulli(0.5)};
        reference.gta(new GtaPass("b", base, List.of(model), new int[] {1}, new float[] {1f}, dare,
                RescaleMode.INVERSE_DENSITY, 7, ConsensusMethod.NONE, false, 1f, expected, false));
        DeviceTensor b = onDevice(base);
        k.gtaOnDevice(new DeviceGtaPass("b", b, List.of(onDevice(model)), new int[] {1}, new float[] {1f}, dare,
                RescaleMode.INVERSE_DENSITY, 7, ConsensusMethod.NONE, false, 1f, b, false));
        KernelTestData.assertSameBits(expected, read(b), "in place");
    }

    @Test
    void selectionAndLinearOnDeviceEqualTheReference() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        CudaKernels k = primary();
        List<DeltaSource> host = new ArrayList<>();
        List<DeviceDeltaSource> device = new ArrayList<>();
        for (long size : new long[] {31, 4097, 1, 9000}) {
            Tensor b = KernelTestData.randomBase("s" + size, DType.F16, size, Style.GRID, rnd);
            Tensor m = KernelTestData.randomModel("s" + size, DType.BF16, b, Style.GRID, rnd);
            host.add(new DeltaSource(b, m));
            device.add(new DeviceDeltaSource(onDevice(b), onDevice(m)));
        }
        for (long kth : new long[] {0, 1, 77, 6000, 13128, 13129}) {
            assertEquals(reference.selectLargest(host, kth), k.selectLargestOnDevice(device, kth), "k " + kth);
        }

        Tensor x = KernelTestData.randomBase("x", DType.BF16, 10_000, Style.WIDE, rnd);
        Tensor y = KernelTestData.randomModel("x", DType.F32, x, Style.WIDE, rnd);
        Tensor expected = KernelTestData.allocate("x", DType.F16, 10_000);
        LinearResult want = reference.linear(new LinearPass("x", List.of(x, y), new float[] {0.25f, 0.75f}, 1f, expected, false));
        DeviceTensor out = emptyOnDevice("x", DType.F16, 10_000);
        LinearResult got = k.linearOnDevice(new DeviceLinearPass("x", List.of(onDevice(x), onDevice(y)),
                new float[] {0.25f, 0.75f}, 1f, out, false));
        assertEquals(want, got);
        KernelTestData.assertSameBits(expected, read(out), "linearOnDevice");
    }

    @Test
    void workIsOrderedAfterTheCallersStream() {
        SplittableRandom rnd = new SplittableRandom(SEED + 3);
        CudaKernels k = primary();
        Tensor x = KernelTestData.randomBase("x", DType.F32, 100, Style.WIDE, rnd);
        DeviceTensor dx = onDevice(x), out = emptyOnDevice("x", DType.F32, 100);
        long callerStream = 4242;
        driver.trackDependencies = true;
        driver.tag = "caller";
        cuda.memsetAsync(out.address(), 0, 4, callerStream);
        driver.tag = "amalgam";
        k.linearOnDevice(new DeviceLinearPass("x", List.of(dx), new float[] {2f}, 1f, out, false), callerStream);
        Op callers = driver.ops.stream().filter(o -> o.tag().equals("caller")).findFirst().orElseThrow();
        List<Op> ours = driver.ops.stream().filter(o -> o.tag().equals("amalgam")).toList();
        assertFalse(ours.isEmpty());
        for (Op o : ours) assertTrue(o.after(callers), o.kind() + " runs before the caller's queued work");
    }

    @Test
    void wrongPointersAreExceptionsNamingTheTensor() {
        CudaKernels k = primary();
        long a = cuda.memAlloc(400);
        DeviceTensor fits = DeviceTensor.of("fits", DType.F32, a, 100);
        DeviceTensor tooLong = DeviceTensor.of("too_long", DType.F32, a + 8, 100);
        DeviceTensor unknown = DeviceTensor.of("unknown", DType.F32, 0x10, 4);
        DeviceTensor out = emptyOnDevice("out", DType.F32, 100);
        IllegalArgumentException past = assertThrows(IllegalArgumentException.class,
                () -> k.linearOnDevice(new DeviceLinearPass("t", List.of(fits, tooLong), new float[] {1, 1}, 1f, out, false)));
        assertTrue(past.getMessage().startsWith("device tensor too_long: 400 bytes at 0x"), past.getMessage());
        assertTrue(past.getMessage().contains("run past the end of its allocation (400 bytes"), past.getMessage());
        CudaException notDevice = assertThrows(CudaException.class, () -> k.selectLargestOnDevice(
                List.of(new DeviceDeltaSource(unknown, DeviceTensor.of("m", DType.F32, a, 4))), 2));
        assertTrue(notDevice.getMessage().contains("CUDA_ERROR_INVALID_VALUE")
                && notDevice.getMessage().contains("checking device tensor unknown at 0x10"), notDevice.getMessage());
    }

    @Test
    void memoryOfAnotherContextIsRejected() {
        CudaKernels k = primary();
        long mine = cuda.memAlloc(64);
        cuda.setCurrent(9999);  // an application's own context
        long theirs = cuda.memAlloc(64);
        DeviceTensor out = DeviceTensor.of("out", DType.F32, mine, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> k.linearOnDevice(
                new DeviceLinearPass("t", List.of(DeviceTensor.of("x", DType.F32, theirs, 16)), new float[] {1}, 1f, out, false)));
        assertTrue(e.getMessage().startsWith("device tensor x belongs to CUDA context 0x270f but this backend runs in"),
                e.getMessage());
        assertEquals(9999, driver.currentContext(), "the caller's current context is put back");
    }

    @Test
    void attachingRunsInTheCurrentContextAndNeverReleasesIt() {
        assertThrows(IllegalStateException.class, () -> CudaKernels.attachToCurrentContext(cuda, new byte[16], 1 << 20, 4096),
                "no current context");
        cuda.setCurrent(777);
        SplittableRandom rnd = new SplittableRandom(SEED + 4);
        Tensor x = KernelTestData.randomBase("x", DType.F16, 300, Style.GRID, rnd);
        DeviceTensor dx = onDevice(x), out = emptyOnDevice("x", DType.F16, 300);
        try (CudaKernels k = CudaKernels.attachToCurrentContext(cuda, new byte[16], 1 << 20, 4096)) {
            assertEquals(777, k.context());
            k.linearOnDevice(new DeviceLinearPass("x", List.of(dx), new float[] {1f}, 1f, out, false));
            KernelTestData.assertSameBits(x, read(out), "copy through linear");
        }
        assertFalse(driver.calls.contains("cuDevicePrimaryCtxRetain"));
        assertFalse(driver.calls.contains("cuDevicePrimaryCtxRelease_v2"));
        assertEquals(777, driver.currentContext());
    }

    @Test
    void deviceTensorsRejectWhatTheKernelsCannotRead() {
        assertThrows(IllegalArgumentException.class, () -> DeviceTensor.of("w", DType.F64, 0x1000, 4));
        IllegalArgumentException misaligned = assertThrows(IllegalArgumentException.class,
                () -> DeviceTensor.of("w", DType.F32, 0x1002, 4));
        assertEquals("device tensor w: address 0x1002 is not aligned to its 4-byte elements", misaligned.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceTensor.of("w", DType.BF16, 0, 4));
        DeviceTensor.of("empty", DType.BF16, 0, 0);  // an empty tensor needs no memory
        DeviceTensor a = DeviceTensor.of("a", DType.F32, 0x1000, 8), overlapping = DeviceTensor.of("o", DType.F32, 0x101C, 8);
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class, () -> new DeviceLinearPass("t",
                List.of(a), new float[] {1}, 1f, overlapping, false));
        assertEquals("tensor t: the output overlaps input a without being it", overlap.getMessage());
        new DeviceLinearPass("t", List.of(a), new float[] {1}, 1f, a, false);  // in place is fine
    }
}

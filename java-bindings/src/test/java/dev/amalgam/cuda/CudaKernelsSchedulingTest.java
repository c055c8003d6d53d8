package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.EmulatedCudaDriver;
import dev.amalgam.cuda.internal.FakeCudaDriver.Op;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.KernelTestData;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * CudaKernels' real call sequence for a chunked tensor, over the emulating driver's stream model:
 * the merge pass of chunk i+1 uploads while kernel i may still run, chunk i's output drains while
 * kernel i+1 runs, and the output still equals the reference bit for bit.
 */
class CudaKernelsSchedulingTest {

    static final long SEED = 0xC0FFEE;
    /** 40 000 F32 elements × (base + 2 models + out) = 640 kB; 256 kB budget → 5 chunks of 8192. */
    static final long N = 40_000;

    final EmulatedCudaDriver driver = new EmulatedCudaDriver();

    CudaKernels backend() {
        return new CudaKernels(new Cuda(driver), 0, new byte[16], 256 * 1024, 16 * 1024);
    }

    @Test
    void chunkedMergeOverlapsUploadsKernelsAndDownloads() {
        System.out.println("CudaKernelsSchedulingTest seed " + SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        Tensor base = KernelTestData.randomBase("w", DType.F32, N, KernelTestData.Style.WIDE, rnd);
        List<Tensor> models = List.of(KernelTestData.randomModel("w", DType.F32, base, KernelTestData.Style.WIDE, rnd),
                KernelTestData.randomModel("w", DType.F32, base, KernelTestData.Style.WIDE, rnd));
        Tensor expected = KernelTestData.allocate("w", DType.F32, N), actual = KernelTestData.allocate("w", DType.F32, N);
        // allow_nonfinite and no band: no statistics pass, the merge pass is the only one
        GtaPass pass = new GtaPass("w", base, models, new int[] {1, 2}, new float[] {0.6f, 0.4f},
                new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, 0, ConsensusMethod.SUM, true, 1f,
                expected, true);
        new ReferenceKernels().gta(pass);
        try (CudaKernels cuda = backend()) {
            driver.trackDependencies = true;
            cuda.gta(new GtaPass("w", base, models, pass.modelIndices(), pass.weights(), pass.sparsifiers(), pass.rescale(),
                    0, pass.consensus(), true, 1f, actual, true));
        }
        KernelTestData.assertSameBits(expected, actual, "pipelined merge");

        List<Op> kernels = driver.ops("amalgam_gta_merge");
        assertEquals(5, kernels.size(), "5 chunks of 8192 elements");
        long compute = kernels.getFirst().stream();
        for (Op k : kernels) assertEquals(compute, k.stream(), "every merge kernel on the compute stream");
        for (Op c : driver.ops("H2D")) assertNotEquals(compute, c.stream(), "copies on the copy stream");

        for (int i = 0; i + 1 < kernels.size(); i++) {
            Op kernel = kernels.get(i), next = kernels.get(i + 1);
            List<Op> nextUploads = driver.ops.stream()
                    .filter(o -> o.kind().equals("H2D") && o.id() > kernel.id() && o.id() < next.id()).toList();
            assertEquals(3 * 2, nextUploads.size(), "chunk " + (i + 1) + ": base + 2 models of 32 kB in 16 kB pieces");
            for (Op up : nextUploads) {
                assertFalse(up.after(kernel), "upload of chunk " + (i + 1) + " waits for kernel " + i);
                assertFalse(up.issuedAfterHostWaitedFor(kernel), "host blocked on kernel " + i + " before uploading chunk " + (i + 1));
                assertTrue(next.after(up), "kernel " + (i + 1) + " starts before its inputs arrive");
            }
            Op download = driver.ops.stream().filter(o -> o.kind().equals("D2H") && o.id() > next.id()).findFirst().orElseThrow();
            assertTrue(download.after(kernel), "chunk " + i + "'s output downloaded before its kernel");
            assertFalse(download.after(next), "chunk " + i + "'s download waits for kernel " + (i + 1));
        }
    }

    @Test
    void chunkedLinearMatchesTheUnchunkedRunBitForBit() {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        Tensor a = KernelTestData.randomBase("l", DType.BF16, N, KernelTestData.Style.GRID, rnd);
        Tensor b = KernelTestData.randomModel("l", DType.F32, a, KernelTestData.Style.GRID, rnd);
        Tensor whole = KernelTestData.allocate("l", DType.BF16, N), chunked = KernelTestData.allocate("l", DType.BF16, N);
        try (CudaKernels one = new CudaKernels(new Cuda(new EmulatedCudaDriver()), 0, new byte[16], Long.MAX_VALUE, 1 << 20);
             CudaKernels many = backend()) {
            one.linear(new LinearPass("l", List.of(a, b), new float[] {0.3f, 0.7f}, 1f, whole, false));
            driver.trackDependencies = true;
            many.linear(new LinearPass("l", List.of(a, b), new float[] {0.3f, 0.7f}, 1f, chunked, false));
        }
        KernelTestData.assertSameBits(whole, chunked, "linear, 1 chunk vs pipelined chunks");
        assertEquals(3, driver.ops("amalgam_linear").size(), "8 bytes per element, 128 kB per slot: chunks of 16384");
        assertEquals(driver.ops("amalgam_linear").size(), driver.ops("amalgam_finite_scan").size());
    }

    @Test
    void profilingAddsEachLaunchesEventTimeAndStopsWhenTurnedOff() {
        SplittableRandom rnd = new SplittableRandom(SEED + 2);
        Tensor x = KernelTestData.randomBase("p", DType.F32, N, KernelTestData.Style.WIDE, rnd);
        Tensor out = KernelTestData.allocate("p", DType.F32, N);
        try (CudaKernels k = backend()) {
            k.profileKernels(true);
            k.linear(new LinearPass("p", List.of(x), new float[] {1f}, 1f, out, false));
            // the fake's cuEventElapsedTime says 1.5 ms; 40 000 F32 → F32 is 8 bytes per element: 3 chunks, plus 3 scans
            assertEquals(java.util.Map.of("amalgam_linear", 4.5, "amalgam_finite_scan", 4.5), k.kernelMillis());
            k.resetKernelMillis();
            k.profileKernels(false);
            k.linear(new LinearPass("p", List.of(x), new float[] {1f}, 1f, out, false));
            assertEquals(java.util.Map.of(), k.kernelMillis());
        }
        KernelTestData.assertSameBits(x, out, "linear with weight 1 copies");
    }
}

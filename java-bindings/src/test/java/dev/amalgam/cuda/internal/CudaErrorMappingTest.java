package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.CudaException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Every driver failure becomes a CudaException naming the call, the error name and its text. */
class CudaErrorMappingTest {

    @Test
    void failedAllocationNamesCallAndDriverError() {
        Cuda cuda = new Cuda(new FakeCudaDriver().failing("cuMemAlloc_v2", 2));
        CudaException e = assertThrows(CudaException.class, () -> cuda.memAlloc(1 << 20));
        assertEquals("cuMemAlloc_v2", e.call());
        assertEquals(2, e.result());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        assertEquals("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) while allocating 1048576 bytes",
                e.getMessage());
    }

    /**
     * -Damalgam.cuda.syncEachLaunch=true: a fault inside a kernel (reported at the next synchronize)
     * is reported under that kernel's name, not under whatever call synchronizes next.
     */
    @Test
    void syncEachLaunchNamesTheKernelThatFaulted() {
        Cuda cuda = new Cuda(new FakeCudaDriver().failing("cuStreamSynchronize", 719), true);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(16);
            CudaException e = assertThrows(CudaException.class,
                    () -> cuda.launch(7, "amalgam_gta_stats", 1, 256, 0, 5, args));
            assertTrue(e.getMessage().startsWith("cuStreamSynchronize failed: "), e.getMessage());
            assertTrue(e.getMessage().endsWith("while running kernel amalgam_gta_stats (-Damalgam.cuda.syncEachLaunch=true)"),
                    e.getMessage());
        }
        // without the option the launch itself succeeds; the fault would surface later
        Cuda lazy = new Cuda(new FakeCudaDriver().failing("cuStreamSynchronize", 719), false);
        try (Arena arena = Arena.ofConfined()) {
            lazy.launch(7, "amalgam_gta_stats", 1, 256, 0, 5, arena.allocate(16));
        }
    }

    @Test
    void failedLaunchNamesTheKernel() {
        Cuda cuda = new Cuda(new FakeCudaDriver().failing("cuLaunchKernel", 209));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment args = arena.allocate(16);
            CudaException e = assertThrows(CudaException.class,
                    () -> cuda.launch(7, "amalgam_gta_merge", 1, 256, 0, 0, args));
            assertEquals("cuLaunchKernel failed: CUDA_ERROR_NO_BINARY_FOR_GPU (no kernel image is available for execution"
                    + " on the device) while launching amalgam_gta_merge", e.getMessage());
        }
    }

    @Test
    void unknownCodeIsReportedRaw() {
        Cuda cuda = new Cuda(new FakeCudaDriver().failing("cuStreamSynchronize", 999));
        CudaException e = assertThrows(CudaException.class, () -> cuda.streamSynchronize(1));
        assertEquals("cuStreamSynchronize failed: CUresult 999 (unknown error code)", e.getMessage());
    }

    @Test
    void noDeviceAtInit() {
        Cuda cuda = new Cuda(new FakeCudaDriver().failing("cuInit", 100));
        CudaException e = assertThrows(CudaException.class, cuda::init);
        assertEquals("cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)", e.getMessage());
    }

    @Test
    void deviceBufferFreesOnceAndRefusesUseAfterClose() {
        FakeCudaDriver fake = new FakeCudaDriver();
        Cuda cuda = new Cuda(fake);
        DeviceBuffer b = new DeviceBuffer(cuda, 64);
        assertEquals(1, fake.liveAllocations());
        b.close();
        b.close();
        assertEquals(0, fake.liveAllocations());
        assertThrows(IllegalStateException.class, b::address);
    }

    @Test
    void transfersMoveBytesThroughSmallStagingPieces() {
        long seed = 20240611L;
        System.out.println("TransfersTest seed " + seed);
        FakeCudaDriver fake = new FakeCudaDriver();
        Cuda cuda = new Cuda(fake);
        byte[] data = new byte[1001];
        new Random(seed).nextBytes(data);
        try (Arena arena = Arena.ofConfined(); Transfers transfers = new Transfers(cuda, 1, 64);
             DeviceBuffer device = new DeviceBuffer(cuda, 2048)) {
            MemorySegment src = arena.allocate(data.length + 5);
            MemorySegment.copy(data, 0, src, ValueLayout.JAVA_BYTE, 5, data.length);
            transfers.upload(src, 5, device.address() + 100, data.length);
            assertArrayEquals(data, fake.at(device.address() + 100, data.length).toArray(ValueLayout.JAVA_BYTE));

            MemorySegment back = arena.allocate(data.length + 3);
            transfers.download(device.address() + 100, back, 3, data.length);
            assertArrayEquals(data, back.asSlice(3, data.length).toArray(ValueLayout.JAVA_BYTE));
            // 1001 bytes in 64-byte pieces = 16 copies each way
            assertEquals(16, fake.calls.stream().filter("cuMemcpyHtoDAsync_v2"::equals).count());
            assertEquals(16, fake.calls.stream().filter("cuMemcpyDtoHAsync_v2"::equals).count());
        }
    }

    @Test
    void deviceArenaAlignsAndGrows() {
        FakeCudaDriver fake = new FakeCudaDriver();
        try (DeviceArena arena = new DeviceArena(new Cuda(fake))) {
            arena.reset(1000);
            long a = arena.take(3);
            long b = arena.take(10);
            assertEquals(0, a % DeviceArena.ALIGNMENT);
            assertEquals(DeviceArena.ALIGNMENT, b - a);
            arena.reset(5L << 20);  // larger than the 1 MiB minimum: reallocates
            assertEquals(5L << 20, arena.capacity());
            assertEquals(1, fake.liveAllocations());
            assertThrows(IllegalStateException.class, () -> arena.take(6L << 20));
        }
        assertEquals(0, fake.liveAllocations());
    }
}

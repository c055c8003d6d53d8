package dev.amalgam.cuda;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.EmulatedCudaDriver;
import dev.amalgam.kernel.KernelBackend;

/**
 * The contract on the host: CudaKernels' orchestration (copies, chunking, tie cutoffs,
 * statistics, argument layouts, counters) over a fake driver that runs Java emulations of the
 * kernels. Runs everywhere; the device code itself is covered by {@link CudaKernelsGpuTest}.
 */
class CudaKernelsEmulatedTest extends CudaKernelsContract {

    /** Still several chunks at the 256 KiB chunk budget, but quick in a sequential emulation. */
    @Override
    long largeSize() {
        return 100_003;
    }

    @Override
    KernelBackend openBackend() {
        return new CudaKernels(new Cuda(new EmulatedCudaDriver()), 0, new byte[16], Long.MAX_VALUE, 1 << 20);
    }

    @Override
    KernelBackend openChunkedBackend(long maxChunkBytes) {
        return new CudaKernels(new Cuda(new EmulatedCudaDriver()), 0, new byte[16], maxChunkBytes, 4096);
    }
}

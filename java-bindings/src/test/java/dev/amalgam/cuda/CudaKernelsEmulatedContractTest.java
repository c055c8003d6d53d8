package dev.amalgam.cuda;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.EmulatedCudaDriver;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackendContract;

/**
 * Core's shared contract on the host: CudaKernels' orchestration over the emulating fake driver,
 * with a 1 MiB device budget so every case above ~100k elements runs as several pipelined chunks
 * on two streams. The l1 sums are emulated per tile like the kernels, hence the same tolerance as
 * on the GPU.
 */
class CudaKernelsEmulatedContractTest extends KernelBackendContract {

    @Override
    protected KernelBackend backend() {
        return new CudaKernels(new Cuda(new EmulatedCudaDriver()), 0, new byte[16], 1 << 20, 64 * 1024);
    }

    @Override
    protected ReductionTolerance reductionTolerance() {
        return CudaKernelsContractTest.CUDA_L1;
    }
}

package dev.amalgam.cuda;

import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.kernel.KernelBackend;

/**
 * The CUDA-specific contract (chunked execution, model-wide tie budgets, narrowing) on a real
 * GPU, bit for bit against ReferenceKernels. Skipped, with the reason, when no usable GPU is
 * present; {@code -Damalgam.requireGpu=true} turns that skip into a failure.
 */
class CudaKernelsGpuTest extends CudaKernelsContract {

    @Override
    KernelBackend openBackend() {
        return GpuRequirement.usableGpu("CudaKernelsGpuTest").open();
    }

    @Override
    KernelBackend openChunkedBackend(long maxChunkBytes) {
        CudaKernelProvider.Probe p = GpuRequirement.PROVIDER.probe();
        return new CudaKernels(p.cuda(), p.ordinal(), FatbinResource.read(), maxChunkBytes, 64 * 1024);
    }
}

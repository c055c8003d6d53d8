package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The CUDA-specific contract (chunked execution, model-wide tie budgets, narrowing) on a real
 * GPU, or without one over the host-compiled kernels (the libcuda stand-in), bit for bit
 * against ReferenceKernels. Skipped, with the reason, when neither is usable;
 * {@code -Damalgam.requireGpu=true} turns that skip into a failure.
 */
class CudaKernelsGpuTest extends CudaKernelsContract {

    @Override
    KernelBackend openBackend() {
        return GpuRequirement.usableGpu("CudaKernelsGpuTest").open();
    }

    /** Over the emulator (CPU) a third of the GPU's size keeps the suite to a minute; still 74 tiles. */
    @Override
    long largeSize() {
        return GpuRequirement.emulated() ? 300_007 : super.largeSize();
    }

    @Override
    KernelBackend openChunkedBackend(long maxChunkBytes) {
        CudaKernelProvider.Probe p = GpuRequirement.PROVIDER.probe();
        return new CudaKernels(p.cuda(), p.ordinal(), FatbinResource.read(), maxChunkBytes, 64 * 1024);
    }

    /**
     * Issue 16: close() released the primary context while it was current and never put back the
     * caller's, so the thread was left in a released context. Now the caller's (here: none) is
     * current after close(), for both backends.
     */
    @Test
    void closeRestoresTheCallersContext() {
        CudaKernelProvider.Probe p = GpuRequirement.PROVIDER.probe();
        Cuda cuda = p.cuda();
        cuda.setCurrent(0);
        Tensor b = base("w", DType.F32, 5000);
        try (CudaKernels k = CudaKernels.open(cuda, p.ordinal())) {
            k.selectLargest(List.of(new DeltaSource(b, model(b, DType.F32, false))), 10);
        }
        assertEquals(0L, cuda.currentContext(), "the context current after CudaKernels.close()");
        CudaSvdKernels svd = CudaSvdKernels.open(cuda, p.ordinal());
        svd.close();
        assertEquals(0L, cuda.currentContext(), "the context current after CudaSvdKernels.close()");
    }
}

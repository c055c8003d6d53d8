package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/**
 * The contract on a real GPU, bit for bit against ReferenceKernels. Skipped, with the reason,
 * when no usable GPU is present; {@code -Damalgam.requireGpu=true} turns that skip into a failure
 * (the GPU suite script sets it).
 */
class CudaKernelsGpuTest extends CudaKernelsContract {

    static final CudaKernelProvider PROVIDER = new CudaKernelProvider();

    @BeforeAll
    static void needsAGpu() {
        KernelProvider.Availability a = PROVIDER.availability();
        System.out.println("CudaKernelsGpuTest: " + a.reason());
        if (a.usable()) return;
        if (Boolean.getBoolean("amalgam.requireGpu")) fail("-Damalgam.requireGpu=true but the CUDA backend is unusable: " + a.reason());
        Assumptions.abort("no usable GPU: " + a.reason());
    }

    @Override
    KernelBackend openBackend() {
        return PROVIDER.open();
    }

    @Override
    KernelBackend openChunkedBackend(long maxChunkBytes) {
        CudaKernelProvider.Probe p = PROVIDER.probe();
        return new CudaKernels(p.cuda(), p.ordinal(), FatbinResource.read(), maxChunkBytes, 64 * 1024);
    }
}

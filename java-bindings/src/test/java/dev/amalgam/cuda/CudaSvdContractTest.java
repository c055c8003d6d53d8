package dev.amalgam.cuda;


import dev.amalgam.kernel.svd.SvdKernels;
import dev.amalgam.kernel.svd.SvdKernelsContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * The SVD contract on a real GPU through {@link CudaSvdKernels}. Skipped, with the reason, when no
 * usable GPU is present; {@code -Damalgam.requireGpu=true} turns that skip into a failure.
 *
 * <p>Tolerances stated for float32 storage with double dot products and rotations: relative
 * reconstruction 1e-5, orthogonality of U and V 1e-5 (the Jacobi tolerance √p·2⁻²³ plus
 * rounding), σ within 1e-5·σ₁ of the double reference — the contract's defaults.
 */
class CudaSvdContractTest extends SvdKernelsContract {

    static CudaSvdKernels kernels;

    /** Per test, so that each one is reported as skipped (with the reason) without a GPU; opened once. */
    @BeforeEach
    void needsAGpu() {
        CudaKernelProvider provider = GpuRequirement.usableGpu("CudaSvdContractTest");
        if (kernels != null) return;
        CudaKernelProvider.Probe p = provider.probe();
        kernels = CudaSvdKernels.open(p.cuda(), p.ordinal());
        System.out.println("CudaSvdContractTest: " + kernels);
    }

    @AfterAll
    static void close() {
        if (kernels != null) kernels.close();
    }

    @Override
    protected SvdKernels kernels() {
        return kernels;
    }
}

package dev.amalgam.cuda;

/** Lets GPU tests in other packages apply {@link GpuRequirement}'s rule. */
public final class CudaKernelProviderAccess {

    private CudaKernelProviderAccess() {
    }

    public static CudaKernelProvider usableGpu(String testClass) {
        return GpuRequirement.usableGpu(testClass);
    }
}

package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.kernel.KernelProvider;
import org.junit.jupiter.api.Assumptions;

/**
 * The one rule for tests that need a real GPU: skip with the provider's reason when the CUDA
 * backend is unusable, unless {@code -Damalgam.requireGpu=true} (the GPU suite script sets it),
 * which turns the skip into a failure. Called per test (from {@code @BeforeEach} or the backend
 * factory), so that reports count every GPU test as skipped, with the reason, rather than
 * dropping a class whose {@code @BeforeAll} aborted.
 */
final class GpuRequirement {

    /** Shared by every GPU test class: probing the driver once is enough. */
    static final CudaKernelProvider PROVIDER = new CudaKernelProvider();
    private static final java.util.Set<String> ANNOUNCED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private GpuRequirement() {
    }

    /** Returns the usable provider, or aborts (skips) / fails the calling test. */
    static CudaKernelProvider usableGpu(String testClass) {
        KernelProvider.Availability a = PROVIDER.availability();
        if (ANNOUNCED.add(testClass)) System.out.println(testClass + ": " + a.reason());
        if (!a.usable()) {
            if (Boolean.getBoolean("amalgam.requireGpu")) {
                fail("-Damalgam.requireGpu=true but the CUDA backend is unusable: " + a.reason());
            }
            Assumptions.abort("no usable GPU: " + a.reason());
        }
        return PROVIDER;
    }
}

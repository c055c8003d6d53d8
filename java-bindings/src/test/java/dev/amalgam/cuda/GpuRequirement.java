package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.cuda.internal.PanamaCudaDriver;
import dev.amalgam.kernel.KernelProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * The one rule for tests that need a CUDA device: a real GPU when the NVIDIA driver has one;
 * otherwise the CPU-backed libcuda stand-in that native-build compiles from the real kernel
 * sources ({@code -Damalgam.cuda.emulator=PATH}, set by the Maven build), so the suites run
 * everywhere; otherwise skip with the provider's reason. {@code -Damalgam.requireGpu=true} (the
 * GPU suite script sets it) never emulates and turns the skip into a failure. Called per test
 * (from {@code @BeforeEach} or the backend factory), so that reports count every skipped test.
 */
final class GpuRequirement {

    /** Shared by every CUDA test class: probing the driver once is enough. */
    static final CudaKernelProvider PROVIDER = choose();
    private static final java.util.Set<String> ANNOUNCED = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private GpuRequirement() {
    }

    private static CudaKernelProvider choose() {
        CudaKernelProvider real = new CudaKernelProvider();
        if (real.availability().usable() || Boolean.getBoolean("amalgam.requireGpu")) return real;
        Path emulator = emulatorLibrary();
        if (emulator == null) return real;
        // Loaded by path; its SONAME is libcuda.so.1, so later lookups of that name (KernelAttributes,
        // CudaKernels.attachToCurrentContext, JCuda's natives) bind to the same stand-in.
        return new CudaKernelProvider(() -> PanamaCudaDriver.load(emulator), FatbinResource::present);
    }

    /** The stand-in library named by {@code -Damalgam.cuda.emulator}, or null. */
    static Path emulatorLibrary() {
        String p = System.getProperty("amalgam.cuda.emulator", "");
        if (p.isBlank() || p.equals("none")) return null;
        Path path = Path.of(p).toAbsolutePath().normalize();
        return Files.isRegularFile(path) ? path : null;
    }

    /** Whether the CUDA tests run over the stand-in rather than a GPU. */
    static boolean emulated() {
        return PROVIDER.availability().usable() && PROVIDER.availability().reason().contains("emulator");
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

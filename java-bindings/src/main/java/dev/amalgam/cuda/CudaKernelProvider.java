package dev.amalgam.cuda;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.CudaDriver;
import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.cuda.internal.PanamaCudaDriver;
import dev.amalgam.kernel.BackendUnavailableException;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelProvider;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The CUDA backend for {@link java.util.ServiceLoader}: device CUDA, priority 100.
 *
 * <p>Implementation notes. {@link #availability()} is cheap after the first call (the probe is
 * cached) and never throws; its reason names what is missing, in the order a user would fix it:
 * the driver library, a device, a new enough device, then the fatbin (absent when nvcc was not
 * found at build time). The device is {@code -Damalgam.cuda.device=N} (default 0).
 */
public final class CudaKernelProvider implements KernelProvider {

    /** Outcome of probing the machine. */
    public record Probe(Availability availability, Cuda cuda, int ordinal) {
    }

    private final Supplier<PanamaCudaDriver.Loaded> driverLoader;
    private final BooleanSupplier fatbinPresent;
    private volatile Probe probe;

    public CudaKernelProvider() {
        this(PanamaCudaDriver::load, FatbinResource::present);
    }

    /** For tests: a given driver (or none, with a reason) and fatbin presence. */
    public CudaKernelProvider(Supplier<PanamaCudaDriver.Loaded> driverLoader, BooleanSupplier fatbinPresent) {
        this.driverLoader = driverLoader;
        this.fatbinPresent = fatbinPresent;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Availability availability() {
        return probe().availability();
    }

    public Probe probe() {
        Probe p = probe;
        if (p == null) {
            synchronized (this) {
                if (probe == null) probe = runProbe();
                p = probe;
            }
        }
        return p;
    }

    private Probe runProbe() {
        int ordinal = Integer.getInteger("amalgam.cuda.device", 0);
        try {
            PanamaCudaDriver.Loaded loaded = driverLoader.get();
            if (loaded.driver() == null) return unusable(loaded.reason());
            CudaDriver driver = loaded.driver();
            Cuda cuda = new Cuda(driver);
            cuda.init();
            int count = cuda.deviceCount();
            if (count == 0) return unusable("the NVIDIA driver reports no CUDA device");
            if (ordinal < 0 || ordinal >= count) {
                return unusable("-Damalgam.cuda.device=" + ordinal + " but there " + (count == 1 ? "is 1 device" : "are " + count + " devices"));
            }
            CudaDeviceInfo info = CudaDeviceInfo.query(cuda, ordinal);
            if (info.computeMajor() < CudaDeviceInfo.MIN_COMPUTE_MAJOR) {
                return unusable(info + " is older than sm_80, which Amalgam's kernels need");
            }
            if (!fatbinPresent.getAsBoolean()) {
                return unusable("the CUDA backend was not built: " + FatbinResource.PATH + " is not on the class path"
                        + " (nvcc was not on the PATH when amalgam-native-build was built)");
            }
            return new Probe(Availability.usable(info.toString()), cuda, ordinal);
        } catch (CudaException e) {
            return unusable(e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            return unusable("probing the CUDA driver failed: " + e);
        }
    }

    private static Probe unusable(String reason) {
        return new Probe(Availability.unusable(reason), null, -1);
    }

    @Override
    public KernelBackend open() {
        Probe p = probe();
        if (!p.availability().usable()) throw new BackendUnavailableException("cuda: " + p.availability().reason());
        return CudaKernels.open(p.cuda(), p.ordinal());
    }
}

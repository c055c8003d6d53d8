package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelProvider;

/**
 * Provides {@link FastCpuKernels} when the {@code jdk.incubator.vector} module is in the boot
 * layer (run with {@code --add-modules jdk.incubator.vector}) and the CPU has 4- or 8-lane double
 * vectors. No class of the vector API is touched before the module is known to be there.
 */
public final class FastCpuKernelProvider implements KernelProvider {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability availability() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return Availability.unusable("module jdk.incubator.vector is not present; run java with "
                    + "--add-modules jdk.incubator.vector for the fast CPU kernels");
        }
        try {
            String why = Lanes.unsupportedReason();
            if (why != null) return Availability.unusable(why);
            return Availability.usable("fast CPU kernels, vectorized with " + FastCpuKernels.describe());
        } catch (LinkageError | RuntimeException e) {
            return Availability.unusable("vector API unusable: " + e);
        }
    }

    @Override
    public KernelBackend open() {
        return new FastCpuKernels();
    }

    /** CPU kernel threads: {@code -Damalgam.threads=N} (mergekit's {@code -j}), else every core. */
    static int threads() {
        int n = Integer.getInteger("amalgam.threads", 0);
        return n > 0 ? n : Runtime.getRuntime().availableProcessors();
    }
}

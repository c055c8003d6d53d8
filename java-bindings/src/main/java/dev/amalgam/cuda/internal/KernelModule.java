package dev.amalgam.cuda.internal;


/** amalgam.fatbin loaded into the current context, with its kernels looked up by name. */
public final class KernelModule implements AutoCloseable {

    private final Cuda cuda;
    private final long module;
    private final boolean owned;  // loaded here (unloaded by close) or borrowed from a session
    public final long magnitudeHistogram;
    public final long gtaStats;
    public final long gtaMerge;
    public final long linear;
    public final long finiteScan;

    public KernelModule(Cuda cuda, byte[] fatbin) {
        this(cuda, cuda.loadModule(fatbin), true);
    }

    /** The kernels of a module loaded by someone else, who unloads it; {@link #close()} leaves it loaded. */
    public static KernelModule borrowing(Cuda cuda, long module) {
        return new KernelModule(cuda, module, false);
    }

    private KernelModule(Cuda cuda, long module, boolean owned) {
        this.cuda = cuda;
        this.module = module;
        this.owned = owned;
        try {
            magnitudeHistogram = cuda.function(module, "amalgam_magnitude_histogram");
            gtaStats = cuda.function(module, "amalgam_gta_stats");
            gtaMerge = cuda.function(module, "amalgam_gta_merge");
            linear = cuda.function(module, "amalgam_linear");
            finiteScan = cuda.function(module, "amalgam_finite_scan");
        } catch (RuntimeException e) {
            if (owned) cuda.unloadModule(module);
            throw e;
        }
    }

    @Override
    public void close() {
        if (owned) cuda.unloadModule(module);
    }
}

package dev.amalgam.cuda.internal;


/** amalgam.fatbin loaded into the current context, with its kernels looked up by name. */
public final class KernelModule implements AutoCloseable {

    private final Cuda cuda;
    private final long module;
    public final long magnitudeHistogram;
    public final long gtaStats;
    public final long gtaMerge;
    public final long linear;
    public final long finiteScan;

    public KernelModule(Cuda cuda, byte[] fatbin) {
        this.cuda = cuda;
        this.module = cuda.loadModule(fatbin);
        try {
            magnitudeHistogram = cuda.function(module, "amalgam_magnitude_histogram");
            gtaStats = cuda.function(module, "amalgam_gta_stats");
            gtaMerge = cuda.function(module, "amalgam_gta_merge");
            linear = cuda.function(module, "amalgam_linear");
            finiteScan = cuda.function(module, "amalgam_finite_scan");
        } catch (RuntimeException e) {
            cuda.unloadModule(module);
            throw e;
        }
    }

    @Override
    public void close() {
        cuda.unloadModule(module);
    }
}

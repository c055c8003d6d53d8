package dev.amalgam.cuda.internal;

import java.lang.foreign.MemorySegment;

/**
 * amalgam.fatbin loaded into the current context for the SVD kernels (svd.cu), with their
 * functions looked up by name, and the launches they take: grid.x × grid.y blocks of
 * {@link SvdLayouts#THREADS} threads, grid.y being the matrix (or batch entry) of a launch.
 */
public final class SvdModule implements AutoCloseable {

    private final Cuda cuda;
    private final long module;
    private final boolean owned;  // loaded here (unloaded by close) or borrowed from a session
    public final long scan, prepare, identity, jacobiShared, blockStep, sweepEnd, normalize, order, emit, sgemm;

    public SvdModule(Cuda cuda, byte[] fatbin) {
        this(cuda, cuda.loadModule(fatbin), true);
    }

    /** The kernels of a module loaded by someone else, who unloads it; {@link #close()} leaves it loaded. */
    public static SvdModule borrowing(Cuda cuda, long module) {
        return new SvdModule(cuda, module, false);
    }

    private SvdModule(Cuda cuda, long module, boolean owned) {
        this.cuda = cuda;
        this.module = module;
        this.owned = owned;
        try {
            scan = cuda.function(module, "amalgam_svd_scan");
            prepare = cuda.function(module, "amalgam_svd_prepare");
            identity = cuda.function(module, "amalgam_svd_identity");
            jacobiShared = cuda.function(module, "amalgam_svd_jacobi_shared");
            blockStep = cuda.function(module, "amalgam_svd_block_step");
            sweepEnd = cuda.function(module, "amalgam_svd_sweep_end");
            normalize = cuda.function(module, "amalgam_svd_normalize");
            order = cuda.function(module, "amalgam_svd_order");
            emit = cuda.function(module, "amalgam_svd_emit");
            sgemm = cuda.function(module, "amalgam_sgemm");
        } catch (RuntimeException e) {
            if (owned) cuda.unloadModule(module);
            throw e;
        }
    }

    /** Launches {@code function} on a gridX × gridY grid (the checked facade only knows 1-D grids). */
    public void launch(long function, String name, long gridX, long gridY, int sharedBytes, long stream, MemorySegment args) {
        if (gridX <= 0 || gridX > Integer.MAX_VALUE || gridY <= 0 || gridY > SvdLayouts.MAX_GRID_Y) {
            throw new IllegalArgumentException("kernel " + name + ": grid " + gridX + "×" + gridY);
        }
        cuda.checkLaunch(cuda.driver().cuLaunchKernel(function, (int) gridX, (int) gridY, 1, SvdLayouts.THREADS, 1, 1,
                sharedBytes, stream, args), name, stream);
    }

    @Override
    public void close() {
        if (owned) cuda.unloadModule(module);
    }
}

package dev.amalgam;

import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.cpu.CpuPools;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;
import java.util.List;
import java.util.concurrent.ForkJoinPool;

/** A backend whose CPU kernels run on the {@link Amalgam} instance's pool; closing it does nothing (the instance owns it). */
final class PooledBackend implements KernelBackend {

    private final KernelBackend backend;
    private final ForkJoinPool pool;

    PooledBackend(KernelBackend backend, ForkJoinPool pool) {
        this.backend = backend;
        this.pool = pool;
    }

    @Override
    public String name() {
        return backend.name();
    }

    @Override
    public MagnitudeThreshold selectLargest(List<DeltaSource> parts, long k) {
        return CpuPools.callWith(pool, () -> backend.selectLargest(parts, k));
    }

    @Override
    public GtaResult gta(GtaPass pass) {
        return CpuPools.callWith(pool, () -> backend.gta(pass));
    }

    @Override
    public LinearResult linear(LinearPass pass) {
        return CpuPools.callWith(pool, () -> backend.linear(pass));
    }

    @Override
    public SvdKernels svd() {
        SvdKernels svd = backend.svd();
        return new SvdKernels() {
            @Override
            public String name() {
                return svd.name();
            }

            @Override
            public Svd svd(FloatMatrix a) {
                return CpuPools.callWith(pool, () -> svd.svd(a));
            }

            @Override
            public Svd truncated(FloatMatrix a, int k) {
                return CpuPools.callWith(pool, () -> svd.truncated(a, k));
            }

            @Override
            public FloatMatrix polar(FloatMatrix a) {
                return CpuPools.callWith(pool, () -> svd.polar(a));
            }

            @Override
            public FloatMatrix multiply(FloatMatrix a, FloatMatrix b) {
                return CpuPools.callWith(pool, () -> svd.multiply(a, b));
            }

            @Override
            public FloatMatrix multiplyTransposed(FloatMatrix a, FloatMatrix b) {
                return CpuPools.callWith(pool, () -> svd.multiplyTransposed(a, b));
            }

            @Override
            public List<Svd> svdBatch(List<FloatMatrix> batch) {
                return CpuPools.callWith(pool, () -> svd.svdBatch(batch));
            }

            @Override
            public List<Svd> truncatedBatch(List<FloatMatrix> batch, int k) {
                return CpuPools.callWith(pool, () -> svd.truncatedBatch(batch, k));
            }

            @Override
            public List<FloatMatrix> polarBatch(List<FloatMatrix> batch) {
                return CpuPools.callWith(pool, () -> svd.polarBatch(batch));
            }
        };
    }

    @Override
    public void close() {
    }
}

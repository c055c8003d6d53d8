package dev.amalgam.cuda;

import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackendContract;

/**
 * Core's shared {@link KernelBackendContract} on a real GPU: the same cases, seeds and exactness
 * as the reference and fast CPU backends. Skipped with the reason without a usable GPU;
 * {@code -Damalgam.requireGpu=true} makes that a failure.
 */
class CudaKernelsContractTest extends KernelBackendContract {

    /**
     * CUDA's Σ|δ| and Σ|δ̂| are per-tile tree reductions added in tile order, not BlockedL1Sum's
     * order, so the l1 factor A/B may differ in its last bits (spec §1.10: relative 1e-6 per
     * element). One output ulp covers a float32 product rounding the other way.
     */
    static final ReductionTolerance CUDA_L1 = new ReductionTolerance(1e-6, 1);

    @Override
    protected KernelBackend backend() {
        return GpuRequirement.usableGpu("CudaKernelsContractTest").open();
    }

    @Override
    protected ReductionTolerance reductionTolerance() {
        return CUDA_L1;
    }
}

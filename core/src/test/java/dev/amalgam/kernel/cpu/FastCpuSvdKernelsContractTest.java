package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.svd.SvdKernels;
import dev.amalgam.kernel.svd.SvdKernelsContract;

/** The SVD contract for the fast CPU kernels (float32 GEMMs, double Gram eigensolver). */
class FastCpuSvdKernelsContractTest extends SvdKernelsContract {

    @Override
    protected SvdKernels kernels() {
        return FastCpuSvdKernels.INSTANCE;
    }
}

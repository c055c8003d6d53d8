package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.MethodKernelsContract;

/** The fast CPU reductions, combinations and element-wise method kernels against the reference, bit for bit. */
class FastCpuMethodKernelsContractTest extends MethodKernelsContract {
    @Override
    protected KernelBackend backend() {
        return new FastCpuKernels();
    }
}

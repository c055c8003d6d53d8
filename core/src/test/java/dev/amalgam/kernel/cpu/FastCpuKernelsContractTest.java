package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackendContract;

/** The fast CPU backend against the reference: the whole contract. */
class FastCpuKernelsContractTest extends KernelBackendContract {
    @Override
    protected KernelBackend backend() {
        return new FastCpuKernels();
    }
}

package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.ReductionsContract;

/** The fast CPU reductions against the reference, bit for bit. */
class FastCpuReductionsContractTest extends ReductionsContract {
    @Override
    protected KernelBackend backend() {
        return new FastCpuKernels();
    }
}

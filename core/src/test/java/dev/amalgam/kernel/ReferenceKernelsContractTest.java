package dev.amalgam.kernel;

/** The contract run against the reference itself: a sanity check of the suite (it must pass trivially). */
class ReferenceKernelsContractTest extends KernelBackendContract {
    @Override
    protected KernelBackend backend() {
        return new ReferenceKernels();
    }
}

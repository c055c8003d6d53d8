package dev.amalgam.kernel;

/**
 * The contract run against the reference, with the naive sort-based implementation of the tests
 * ({@link NaiveKernels}, its own Philox and L1) as the oracle: the reference is never compared with itself.
 */
class ReferenceKernelsContractTest extends KernelBackendContract {
    @Override
    protected KernelBackend backend() {
        return new ReferenceKernels();
    }

    @Override
    protected KernelBackend oracle() {
        return new NaiveKernels();
    }
}

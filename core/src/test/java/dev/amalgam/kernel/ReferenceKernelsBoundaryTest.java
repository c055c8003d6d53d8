package dev.amalgam.kernel;

/**
 * The hand-computed boundaries alone for the reference (they also run inside
 * {@link ReferenceKernelsContractTest}): a fast, oracle-free target for the mutation profile.
 */
class ReferenceKernelsBoundaryTest extends KernelBoundaryContract {
    @Override
    protected KernelBackend backend() {
        return new ReferenceKernels();
    }
}

package dev.amalgam.kernel.svd;

/** The SVD contract for the double-precision Jacobi reference. */
class ReferenceSvdKernelsContractTest extends SvdKernelsContract {

    @Override
    protected SvdKernels kernels() {
        return ReferenceSvdKernels.INSTANCE;
    }

    @Override
    protected double reconstructionTolerance() {
        return 2e-6;
    }

    @Override
    protected double orthogonalityTolerance() {
        return 1e-6;
    }
}

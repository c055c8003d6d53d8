package dev.amalgam.kernel.svd;

/**
 * The SVD contract for the double-precision Jacobi reference, against EJML and the invariants (never
 * against itself). Its float32 outputs come from double factors, so it is held well inside §1.10's
 * relative Frobenius 1e-4: 2e-6 reconstruction, 1e-6 orthogonality.
 */
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

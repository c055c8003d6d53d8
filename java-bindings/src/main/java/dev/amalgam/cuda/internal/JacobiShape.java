package dev.amalgam.cuda.internal;

/**
 * How the batched Jacobi SVD treats matrices of one shape: the tall working form p×q, the
 * variant (one block per matrix in shared memory, or blocked from global memory), the schedule
 * sizes and the float32 convergence tolerance.
 *
 * <p>Implementation notes. Tolerance: a pair is rotated while its cosine |b_i·b_j|/(‖b_i‖‖b_j‖)
 * exceeds √p·2⁻²³ (at least 2⁻²¹). Cosines are computed exactly (double sums of exact float
 * products), so what limits them is the float32 rounding of the rotated columns, a few ulps
 * relative to the column; √p covers the growth with the column length. The orthogonality of U
 * is then within the tolerance plus the normalization rounding, about 1.5e-6 for p = 150 and
 * 6.6e-6 for p = 3072.
 */
public record JacobiShape(int rows, int cols) {

    /** Dynamic shared memory every CUDA device grants without opting in. */
    public static final int DEFAULT_SHARED_LIMIT = 48 * 1024;
    /** Static shared memory of amalgam_svd_jacobi_shared plus a margin. */
    static final int SHARED_KERNEL_STATIC = 1024;

    public JacobiShape {
        if (rows < 1 || cols < 1) throw new IllegalArgumentException("an SVD needs at least one row and column, got " + rows + "×" + cols);
    }

    /** The tall working form has p ≥ q rows: max(rows, cols). */
    public int p() {
        return Math.max(rows, cols);
    }

    /** Columns of the tall form: min(rows, cols), the number of singular values. */
    public int q() {
        return Math.min(rows, cols);
    }

    /** Wide matrices are decomposed as their transpose (whose columns are the rows of A). */
    public boolean wide() {
        return rows < cols;
    }

    public long elements() {
        return (long) rows * cols;
    }

    /** Dynamic shared memory of the one-block-per-matrix variant: B and V in float32. */
    public long sharedBytes() {
        return 4L * ((long) p() * q() + (long) q() * q());
    }

    /** Whether the one-block-per-matrix variant runs under a per-block shared memory limit. */
    public boolean fitsShared(long sharedLimit) {
        return sharedBytes() + SHARED_KERNEL_STATIC <= sharedLimit;
    }

    public float tolerance() {
        return (float) Math.max(Math.sqrt(p()) * 0x1p-23, 0x1p-21);
    }

    /** Column blocks of the blocked variant. */
    public int blocks() {
        return (q() + SvdLayouts.BLOCK_WIDTH - 1) / SvdLayouts.BLOCK_WIDTH;
    }

    /** Round-robin steps per sweep of the blocked variant (one launch each). */
    public int blockSteps() {
        return RoundRobin.players(blocks()) - 1;
    }

    /** Block pairs per step of the blocked variant (grid.x of amalgam_svd_block_step). */
    public int blockPairs() {
        return RoundRobin.players(blocks()) / 2;
    }

    @Override
    public String toString() {
        return rows + "×" + cols;
    }
}

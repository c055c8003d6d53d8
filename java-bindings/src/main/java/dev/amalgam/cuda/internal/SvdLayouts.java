package dev.amalgam.cuda.internal;

/**
 * Byte layouts of the SVD kernels' argument structs and device tables, mirroring the
 * AMALGAM_FIELD / AMALGAM_SIZE lines and the constants of {@code kernels-cuda/src/svd.cuh} (a host
 * test checks every offset against the header). Little-endian, naturally aligned.
 *
 * <pre>
 *   SvdStatus (16 bytes per matrix): 0 sweeps  4 converged  8 off(float)  12 running(float bits)
 *   Jacobi working layout of A (m×n): B = A (m ≥ n) or Aᵀ (m &lt; n), p×q column-major, p ≥ q
 *   V: q×q column-major; σ: double[q]; perm: uint32[q] (rank → column)
 * </pre>
 */
public final class SvdLayouts {

    private SvdLayouts() {
    }

    public static final int THREADS = 256;
    public static final int BLOCK_WIDTH = 16;
    public static final int GRAM_ROWS = 64;
    public static final int INNER_SWEEPS = 12;
    public static final int GEMM_TILE = 64;
    public static final int GEMM_DEPTH = 16;
    /** Largest grid.y of a launch: the most matrices one launch covers. */
    public static final int MAX_GRID_Y = 65535;

    public static final class SvdStatus {
        public static final int SWEEPS = 0, CONVERGED = 4, OFF = 8, RUNNING = 12, SIZE = 16;
    }

    public static final class SvdScanArgs {
        public static final int INPUT = 0, MAX_KEYS = 8, ELEMENTS = 16, COUNT = 24, RESERVED = 28, SIZE = 32;
    }

    public static final class SvdPrepareArgs {
        public static final int INPUT = 0, OUTPUT = 8, MAX_KEYS = 16, EXPONENTS = 24, ROWS = 32, COLS = 36, COUNT = 40,
                TRANSPOSE = 44, SIZE = 48;
    }

    public static final class SvdJacobiArgs {
        public static final int WORK = 0, V = 8, STATUS = 16, P = 24, Q = 28, COUNT = 32, MAX_SWEEPS = 36,
                TOLERANCE = 40, STEP = 44, SIZE = 48;
    }

    public static final class SvdSweepArgs {
        public static final int STATUS = 0, ACTIVE = 8, COUNT = 16, MAX_SWEEPS = 20, TOLERANCE = 24, RESERVED = 28,
                SIZE = 32;
    }

    public static final class SvdIdentityArgs {
        public static final int V = 0, Q = 8, COUNT = 12, SIZE = 16;
    }

    public static final class SvdNormalizeArgs {
        public static final int WORK = 0, SIGMA = 8, P = 16, Q = 20, COUNT = 24, RESERVED = 28, SIZE = 32;
    }

    public static final class SvdOrderArgs {
        public static final int SIGMA = 0, EXPONENTS = 8, PERM = 16, S_OUT = 24, Q = 32, COUNT = 36, SIZE = 40;
    }

    public static final class SvdEmitArgs {
        public static final int WORK = 0, V = 8, PERM = 16, U_OUT = 24, VH_OUT = 32, P = 40, Q = 44, COUNT = 48,
                KEEP = 52, WIDE = 56, U_COL_MAJOR = 60, VH_COL_MAJOR = 64, RESERVED = 68, SIZE = 72;
    }

    public static final class SgemmArgs {
        public static final int A = 0, B = 8, C = 16, STRIDE_A = 24, STRIDE_B = 32, STRIDE_C = 40, M = 48, N = 52,
                K = 56, LDA = 60, LDB = 64, LDC = 68, TRANS_A = 72, TRANS_B = 76, BATCH = 80, ALPHA = 84, BETA = 88,
                RESERVED = 92, SIZE = 96;
    }
}

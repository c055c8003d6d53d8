// Argument blocks and constants of the batched SVD kernels (svd.cu).
//
// Implementation notes
// - Every kernel takes ONE by-value struct laid out with AMALGAM_FIELD / AMALGAM_SIZE; the Java
//   side (dev.amalgam.cuda.internal.SvdLayouts) writes the same offsets and a host test parses
//   these lines to check that both agree.
// - A batch is `count` matrices of one shape, stored back to back. blockIdx.y is the matrix of a
//   launch (so a launch covers at most 65535 matrices; the host chunks batches accordingly).
// - The Jacobi working layout of an m×n matrix A is its "tall" form B, p×q with p = max(m, n),
//   q = min(m, n), stored column-major (column j at work + j·p): B = A if m ≥ n, B = Aᵀ if m < n.
//   The rows of a row-major wide A are the columns of its B, so only tall inputs are transposed
//   (by amalgam_svd_prepare).
// - V is q×q column-major, accumulated so that B_in·V = B_out, whose columns are orthogonal at
//   convergence; then σ_j = ‖b_j‖ and u_j = b_j/σ_j, so B_in = U·diag(σ)·Vᵀ.
#pragma once
#include "amalgam.cuh"
#include "svd_schedule.cuh"

namespace amalgam {

constexpr uint32_t kSvdThreads = 256;     // block size of every SVD kernel
constexpr uint32_t kSvdBlockWidth = 16;   // columns per block of the blocked Jacobi variant
constexpr uint32_t kSvdGramRows = 64;     // rows staged per Gram chunk (blocked variant)
constexpr uint32_t kSvdInnerSweeps = 12;  // cap of the in-block eigen-Jacobi on the Gram matrix
constexpr uint32_t kGemmTile = 64;        // C tile of amalgam_sgemm (kGemmTile × kGemmTile)
constexpr uint32_t kGemmDepth = 16;       // k-slice staged per iteration of amalgam_sgemm

/** Per-matrix state of an iteration (16 bytes, device table, zeroed by the host before sweep 0). */
struct SvdStatus {
    uint32_t sweeps;     // sweeps completed
    uint32_t converged;  // 1 once a whole sweep found every pair cosine ≤ tolerance
    float off;           // largest pair cosine |b_i·b_j|/(‖b_i‖‖b_j‖) seen in the last completed sweep
    uint32_t running;    // float bits of the largest cosine of the sweep in progress (atomicMax)
};
AMALGAM_FIELD(SvdStatus, sweeps, 0);
AMALGAM_FIELD(SvdStatus, converged, 4);
AMALGAM_FIELD(SvdStatus, off, 8);
AMALGAM_FIELD(SvdStatus, running, 12);
AMALGAM_SIZE(SvdStatus, 16);

/** amalgam_svd_scan: max magnitude key per matrix (≥ 0x7F800000 means a NaN or an infinity). */
struct SvdScanArgs {
    uint64_t input;      // float[count][elements]
    uint64_t max_keys;   // uint32_t[count], zeroed by the host
    uint64_t elements;
    uint32_t count;
    uint32_t reserved;
};
AMALGAM_FIELD(SvdScanArgs, input, 0);
AMALGAM_FIELD(SvdScanArgs, max_keys, 8);
AMALGAM_FIELD(SvdScanArgs, elements, 16);
AMALGAM_FIELD(SvdScanArgs, count, 24);
AMALGAM_FIELD(SvdScanArgs, reserved, 28);
AMALGAM_SIZE(SvdScanArgs, 32);

/**
 * amalgam_svd_prepare: output = input · 2^−e with e the binary exponent of max|a| (exact
 * power-of-two scaling), row-major rows×cols in, and out either the same layout (transpose = 0)
 * or transposed (transpose = 1: column-major, the tall working layout of an m ≥ n matrix).
 */
struct SvdPrepareArgs {
    uint64_t input;
    uint64_t output;
    uint64_t max_keys;   // from amalgam_svd_scan
    uint64_t exponents;  // int32_t[count], written
    uint32_t rows;
    uint32_t cols;
    uint32_t count;
    uint32_t transpose;
};
AMALGAM_FIELD(SvdPrepareArgs, input, 0);
AMALGAM_FIELD(SvdPrepareArgs, output, 8);
AMALGAM_FIELD(SvdPrepareArgs, max_keys, 16);
AMALGAM_FIELD(SvdPrepareArgs, exponents, 24);
AMALGAM_FIELD(SvdPrepareArgs, rows, 32);
AMALGAM_FIELD(SvdPrepareArgs, cols, 36);
AMALGAM_FIELD(SvdPrepareArgs, count, 40);
AMALGAM_FIELD(SvdPrepareArgs, transpose, 44);
AMALGAM_SIZE(SvdPrepareArgs, 48);

/**
 * The Jacobi iteration. amalgam_svd_jacobi_shared: one block per matrix, B and V in shared
 * memory ((p·q + q·q)·4 bytes dynamic), all sweeps in one launch, V initialised by the kernel.
 * amalgam_svd_block_step: one block per block pair of round-robin step `step` (grid.x = pairs,
 * grid.y = matrices), B and V in global memory, V initialised by amalgam_svd_identity.
 */
struct SvdJacobiArgs {
    uint64_t work;       // float[count][p·q]
    uint64_t v;          // float[count][q·q]
    uint64_t status;     // SvdStatus[count]
    uint32_t p;
    uint32_t q;
    uint32_t count;
    uint32_t max_sweeps;
    float tolerance;     // a pair is rotated when its cosine exceeds this
    uint32_t step;       // block variant: round-robin step of this launch
};
AMALGAM_FIELD(SvdJacobiArgs, work, 0);
AMALGAM_FIELD(SvdJacobiArgs, v, 8);
AMALGAM_FIELD(SvdJacobiArgs, status, 16);
AMALGAM_FIELD(SvdJacobiArgs, p, 24);
AMALGAM_FIELD(SvdJacobiArgs, q, 28);
AMALGAM_FIELD(SvdJacobiArgs, count, 32);
AMALGAM_FIELD(SvdJacobiArgs, max_sweeps, 36);
AMALGAM_FIELD(SvdJacobiArgs, tolerance, 40);
AMALGAM_FIELD(SvdJacobiArgs, step, 44);
AMALGAM_SIZE(SvdJacobiArgs, 48);

/** amalgam_svd_sweep_end (blocked variant): closes a sweep for every matrix, counts the active ones. */
struct SvdSweepArgs {
    uint64_t status;
    uint64_t active;     // uint32_t[1], zeroed by the host: matrices that need another sweep
    uint32_t count;
    uint32_t max_sweeps;
    float tolerance;
    uint32_t reserved;
};
AMALGAM_FIELD(SvdSweepArgs, status, 0);
AMALGAM_FIELD(SvdSweepArgs, active, 8);
AMALGAM_FIELD(SvdSweepArgs, count, 16);
AMALGAM_FIELD(SvdSweepArgs, max_sweeps, 20);
AMALGAM_FIELD(SvdSweepArgs, tolerance, 24);
AMALGAM_FIELD(SvdSweepArgs, reserved, 28);
AMALGAM_SIZE(SvdSweepArgs, 32);

/** amalgam_svd_identity: V = I for every matrix. */
struct SvdIdentityArgs {
    uint64_t v;
    uint32_t q;
    uint32_t count;
};
AMALGAM_FIELD(SvdIdentityArgs, v, 0);
AMALGAM_FIELD(SvdIdentityArgs, q, 8);
AMALGAM_FIELD(SvdIdentityArgs, count, 12);
AMALGAM_SIZE(SvdIdentityArgs, 16);

/** amalgam_svd_normalize: σ_j = ‖b_j‖ (double, scaled units) and b_j ← b_j/σ_j (zero columns stay zero). */
struct SvdNormalizeArgs {
    uint64_t work;
    uint64_t sigma;      // double[count][q]
    uint32_t p;
    uint32_t q;
    uint32_t count;
    uint32_t reserved;
};
AMALGAM_FIELD(SvdNormalizeArgs, work, 0);
AMALGAM_FIELD(SvdNormalizeArgs, sigma, 8);
AMALGAM_FIELD(SvdNormalizeArgs, p, 16);
AMALGAM_FIELD(SvdNormalizeArgs, q, 20);
AMALGAM_FIELD(SvdNormalizeArgs, count, 24);
AMALGAM_FIELD(SvdNormalizeArgs, reserved, 28);
AMALGAM_SIZE(SvdNormalizeArgs, 32);

/**
 * amalgam_svd_order: the descending order of σ (ties: lower column first), perm[rank] = column,
 * and s_out[rank] = σ·2^e (double) with e from exponents (0 when exponents is 0).
 */
struct SvdOrderArgs {
    uint64_t sigma;
    uint64_t exponents;
    uint64_t perm;       // uint32_t[count][q]
    uint64_t s_out;      // double[count][q]
    uint32_t q;
    uint32_t count;
};
AMALGAM_FIELD(SvdOrderArgs, sigma, 0);
AMALGAM_FIELD(SvdOrderArgs, exponents, 8);
AMALGAM_FIELD(SvdOrderArgs, perm, 16);
AMALGAM_FIELD(SvdOrderArgs, s_out, 24);
AMALGAM_FIELD(SvdOrderArgs, q, 32);
AMALGAM_FIELD(SvdOrderArgs, count, 36);
AMALGAM_SIZE(SvdOrderArgs, 40);

/**
 * amalgam_svd_emit: the first `keep` triplets of A (m×n) in rank order. U_A (m×keep) and Vh_A
 * (keep×n), each row-major (col_major = 0) or column-major (1). Tall (wide = 0, m = p, n = q):
 * U_A = normalized B, Vh_A = Vᵀ. Wide (wide = 1, m = q, n = p): U_A = V, Vh_A = normalized Bᵀ.
 */
struct SvdEmitArgs {
    uint64_t work;
    uint64_t v;
    uint64_t perm;
    uint64_t u_out;      // float[count][m·keep]
    uint64_t vh_out;     // float[count][keep·n]
    uint32_t p;
    uint32_t q;
    uint32_t count;
    uint32_t keep;
    uint32_t wide;
    uint32_t u_col_major;
    uint32_t vh_col_major;
    uint32_t reserved;
};
AMALGAM_FIELD(SvdEmitArgs, work, 0);
AMALGAM_FIELD(SvdEmitArgs, v, 8);
AMALGAM_FIELD(SvdEmitArgs, perm, 16);
AMALGAM_FIELD(SvdEmitArgs, u_out, 24);
AMALGAM_FIELD(SvdEmitArgs, vh_out, 32);
AMALGAM_FIELD(SvdEmitArgs, p, 40);
AMALGAM_FIELD(SvdEmitArgs, q, 44);
AMALGAM_FIELD(SvdEmitArgs, count, 48);
AMALGAM_FIELD(SvdEmitArgs, keep, 52);
AMALGAM_FIELD(SvdEmitArgs, wide, 56);
AMALGAM_FIELD(SvdEmitArgs, u_col_major, 60);
AMALGAM_FIELD(SvdEmitArgs, vh_col_major, 64);
AMALGAM_FIELD(SvdEmitArgs, reserved, 68);
AMALGAM_SIZE(SvdEmitArgs, 72);

/**
 * amalgam_sgemm: C = alpha·op(A)·op(B) + beta·C, column-major (BLAS conventions, so cuBLAS's
 * cublasSgemmStridedBatched takes the same arguments), batch via grid.y with element strides.
 * op(A) is m×k (trans_a = 1: A is stored k×m), op(B) is k×n. beta = 0 never reads C.
 */
struct SgemmArgs {
    uint64_t a;
    uint64_t b;
    uint64_t c;
    uint64_t stride_a;
    uint64_t stride_b;
    uint64_t stride_c;
    uint32_t m;
    uint32_t n;
    uint32_t k;
    uint32_t lda;
    uint32_t ldb;
    uint32_t ldc;
    uint32_t trans_a;
    uint32_t trans_b;
    uint32_t batch;
    float alpha;
    float beta;
    uint32_t reserved;
};
AMALGAM_FIELD(SgemmArgs, a, 0);
AMALGAM_FIELD(SgemmArgs, b, 8);
AMALGAM_FIELD(SgemmArgs, c, 16);
AMALGAM_FIELD(SgemmArgs, stride_a, 24);
AMALGAM_FIELD(SgemmArgs, stride_b, 32);
AMALGAM_FIELD(SgemmArgs, stride_c, 40);
AMALGAM_FIELD(SgemmArgs, m, 48);
AMALGAM_FIELD(SgemmArgs, n, 52);
AMALGAM_FIELD(SgemmArgs, k, 56);
AMALGAM_FIELD(SgemmArgs, lda, 60);
AMALGAM_FIELD(SgemmArgs, ldb, 64);
AMALGAM_FIELD(SgemmArgs, ldc, 68);
AMALGAM_FIELD(SgemmArgs, trans_a, 72);
AMALGAM_FIELD(SgemmArgs, trans_b, 76);
AMALGAM_FIELD(SgemmArgs, batch, 80);
AMALGAM_FIELD(SgemmArgs, alpha, 84);
AMALGAM_FIELD(SgemmArgs, beta, 88);
AMALGAM_FIELD(SgemmArgs, reserved, 92);
AMALGAM_SIZE(SgemmArgs, 96);

}  // namespace amalgam

// Batched one-sided Jacobi (Hestenes) SVD, its pre- and post-processing, and the SGEMM of the
// truncated (randomized range finder) and polar paths. Argument blocks: svd.cuh.
//
// Implementation notes
// - Storage is float32; every dot product of two columns is accumulated in double (the product of
//   two floats is exact in double, so α = ‖b_i‖², β = ‖b_j‖², γ = b_i·b_j carry no float rounding),
//   and the rotation (ζ, t, c, s) is computed in double. This is what lets the iteration resolve
//   cosines far below float32 epsilon·√p and converge on the off-diagonal mass; only the rotated
//   columns themselves are rounded to float32.
// - Inputs are scaled by an exact power of two (amalgam_svd_prepare) so that max|a| is in
//   [0.5, 1): tiny and subnormal matrices are rotated with full float32 precision, and σ is
//   scaled back (exactly) in amalgam_svd_order.
// - A pair (i, j) is rotated when |γ|/√(αβ) > tolerance; pairs with a zero column are skipped.
//   A sweep in which no pair exceeds the tolerance ends the iteration for that matrix
//   (SvdStatus.converged); sweeps are capped at max_sweeps and counted per matrix. This is the
//   test of dev.amalgam.kernel.svd.JacobiSvd with the float32 tolerance chosen by the host.
// - Pair ordering: round-robin (svd_schedule.cuh). The pairs of one step are disjoint, so a step's
//   rotations run in parallel (one warp per pair in the shared variant, one block per block pair
//   in the blocked variant) and the result does not depend on thread timing: deterministic.
// - Blocked variant (matrices too large for shared memory): columns in blocks of kSvdBlockWidth;
//   for a block pair the 32×32 Gram matrix is formed in double, diagonalised by a parallel cyclic
//   two-sided Jacobi in double (the rotations accumulate into R), and [B_I B_J] ← [B_I B_J]·R,
//   [V_I V_J] ← [V_I V_J]·R are applied from global memory. Block pairs whose cosines are all
//   within the tolerance are left alone.
// - All arithmetic uses explicit intrinsics/fma: the fatbin is built with -fmad=false for the
//   bit-exact merge kernels, and the fused multiply-adds here are deliberate.
#include "svd.cuh"

using namespace amalgam;

namespace {

constexpr uint32_t kWarps = kSvdThreads / 32;
constexpr uint32_t kPair = 2 * kSvdBlockWidth;  // columns of a block pair

__device__ __forceinline__ double warp_sum_broadcast(double v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xFFFFFFFFu, v, offset);
    return __shfl_sync(0xFFFFFFFFu, v, 0);
}

/** Jacobi rotation that annihilates γ of the pair with norms² α, β (same formula as JacobiSvd). */
__device__ __forceinline__ void jacobi_rotation(double alpha, double beta, double gamma, double& c, double& s) {
    const double zeta = (beta - alpha) / (2.0 * gamma);
    double t = 1.0;
    if (zeta != 0.0) t = copysign(1.0, zeta) / (fabs(zeta) + sqrt(fma(zeta, zeta, 1.0)));
    c = rsqrt(fma(t, t, 1.0));
    s = c * t;
}

/** Largest value over the block (valid in every thread); `scratch` holds kWarps floats. */
__device__ __forceinline__ float block_max(float v, float* scratch) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_down_sync(0xFFFFFFFFu, v, offset));
    __syncthreads();
    if ((threadIdx.x & 31u) == 0) scratch[threadIdx.x >> 5] = v;
    __syncthreads();
    float m = 0.0f;
#pragma unroll
    for (uint32_t w = 0; w < kWarps; ++w) m = fmaxf(m, scratch[w]);
    return m;
}

/** Sum over the block in a fixed order (valid in every thread); `scratch` holds kWarps doubles. */
__device__ __forceinline__ double block_sum_all(double v, double* scratch) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xFFFFFFFFu, v, offset);
    __syncthreads();
    if ((threadIdx.x & 31u) == 0) scratch[threadIdx.x >> 5] = v;
    __syncthreads();
    double total = 0.0;
#pragma unroll
    for (uint32_t w = 0; w < kWarps; ++w) total += scratch[w];
    return total;
}

__device__ __forceinline__ float scaled(float x, double factor) {
    return __double2float_rn(static_cast<double>(x) * factor);
}

/**
 * Rows of the block pair's columns times R (rft = Rᵀ in float): m(r, col(t)) ← Σ_s m(r, col(s))·R(s, t).
 * Slot s < W is column first_i + s, slot s ≥ W is column first_j + s; absent slots (≥ q) read 0.
 */
__device__ __forceinline__ void apply_block_rotation(float* m, uint32_t rows, uint32_t q, uint32_t first_i,
                                                     uint32_t first_j, const float (*rft)[kPair]) {
    for (uint32_t r = threadIdx.x; r < rows; r += kSvdThreads) {
        // Keeps the compiler from hoisting all 32×32 loads of R out of the row loop into registers.
        asm volatile("" ::: "memory");
        float x[kPair];
#pragma unroll
        for (uint32_t s = 0; s < kPair; ++s) {
            const uint32_t col = (s < kSvdBlockWidth ? first_i : first_j) + s;
            x[s] = col < q ? m[static_cast<uint64_t>(col) * rows + r] : 0.0f;
        }
#pragma unroll
        for (uint32_t t = 0; t < kPair; ++t) {
            const float4* rt = reinterpret_cast<const float4*>(rft[t]);
            float y = 0.0f;
#pragma unroll
            for (uint32_t s4 = 0; s4 < kPair / 4; ++s4) {
                const float4 w = rt[s4];
                y = __fmaf_rn(x[4 * s4], w.x, y);
                y = __fmaf_rn(x[4 * s4 + 1], w.y, y);
                y = __fmaf_rn(x[4 * s4 + 2], w.z, y);
                y = __fmaf_rn(x[4 * s4 + 3], w.w, y);
            }
            const uint32_t col = (t < kSvdBlockWidth ? first_i : first_j) + t;
            if (col < q) m[static_cast<uint64_t>(col) * rows + r] = y;
        }
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pre-processing

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_scan(const SvdScanArgs args) {
    __shared__ float scratch[kWarps];
    const uint32_t mat = blockIdx.y;
    const float* a = reinterpret_cast<const float*>(args.input) + static_cast<uint64_t>(mat) * args.elements;
    uint32_t key = 0;
    for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * kSvdThreads + threadIdx.x; i < args.elements;
         i += static_cast<uint64_t>(gridDim.x) * kSvdThreads) {
        key = max(key, magnitude_key(__ldg(a + i)));
    }
    // Keys of non-negative floats order like the floats; NaN keys exceed every other key.
    const float m = block_max(__uint_as_float(min(key, 0x7F800000u)), scratch);
    const bool nan = __syncthreads_or(key > 0x7F800000u);
    if (threadIdx.x == 0) {
        uint32_t* out = reinterpret_cast<uint32_t*>(args.max_keys) + mat;
        atomicMax(out, nan ? 0x7FC00000u : __float_as_uint(m));
    }
}

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_prepare(const SvdPrepareArgs args) {
    __shared__ float tile[32][33];
    const uint32_t mat = blockIdx.y;
    const uint32_t rows = args.rows, cols = args.cols;
    const uint32_t tiles_c = (cols + 31) / 32;
    const uint32_t tr = blockIdx.x / tiles_c, tc = blockIdx.x % tiles_c;
    const uint32_t key = reinterpret_cast<const uint32_t*>(args.max_keys)[mat];
    int e = 0;
    if (key != 0u) frexpf(__uint_as_float(key), &e);
    const double factor = ldexp(1.0, -e);
    if (blockIdx.x == 0 && threadIdx.x == 0) reinterpret_cast<int32_t*>(args.exponents)[mat] = e;

    const uint64_t base = static_cast<uint64_t>(mat) * rows * cols;
    const float* in = reinterpret_cast<const float*>(args.input) + base;
    float* out = reinterpret_cast<float*>(args.output) + base;
    const uint32_t x = threadIdx.x & 31u, y0 = threadIdx.x >> 5;
    if (args.transpose == 0u) {
        for (uint32_t y = y0; y < 32; y += kWarps) {
            const uint32_t i = tr * 32 + y, j = tc * 32 + x;
            if (i < rows && j < cols) out[static_cast<uint64_t>(i) * cols + j] = scaled(__ldg(in + static_cast<uint64_t>(i) * cols + j), factor);
        }
        return;
    }
    // Transpose through shared memory: read rows of A coalesced, write columns of A coalesced.
    for (uint32_t y = y0; y < 32; y += kWarps) {
        const uint32_t i = tr * 32 + y, j = tc * 32 + x;
        tile[y][x] = (i < rows && j < cols) ? scaled(__ldg(in + static_cast<uint64_t>(i) * cols + j), factor) : 0.0f;
    }
    __syncthreads();
    for (uint32_t y = y0; y < 32; y += kWarps) {
        const uint32_t j = tc * 32 + y, i = tr * 32 + x;
        if (i < rows && j < cols) out[static_cast<uint64_t>(j) * rows + i] = tile[x][y];
    }
}

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_identity(const SvdIdentityArgs args) {
    const uint64_t qq = static_cast<uint64_t>(args.q) * args.q;
    float* v = reinterpret_cast<float*>(args.v) + static_cast<uint64_t>(blockIdx.y) * qq;
    for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * kSvdThreads + threadIdx.x; i < qq;
         i += static_cast<uint64_t>(gridDim.x) * kSvdThreads) {
        v[i] = (i / args.q == i % args.q) ? 1.0f : 0.0f;
    }
}

// ---------------------------------------------------------------------------------------------
// Jacobi, one block per matrix in shared memory

extern "C" __global__ void __launch_bounds__(kSvdThreads, 1) amalgam_svd_jacobi_shared(const SvdJacobiArgs args) {
    AMALGAM_DYNAMIC_SHARED(float, smem);
    __shared__ float scratch[kWarps];
    const uint32_t mat = blockIdx.y;
    const uint32_t p = args.p, q = args.q;
    const uint32_t pq = p * q, qq = q * q;  // fit in shared memory, so far below 2^32
    float* b = smem;
    float* v = smem + pq;
    float* gb = reinterpret_cast<float*>(args.work) + static_cast<uint64_t>(mat) * pq;
    float* gv = reinterpret_cast<float*>(args.v) + static_cast<uint64_t>(mat) * qq;
    for (uint32_t i = threadIdx.x; i < pq; i += kSvdThreads) b[i] = gb[i];
    for (uint32_t i = threadIdx.x; i < qq; i += kSvdThreads) v[i] = (i / q == i % q) ? 1.0f : 0.0f;
    __syncthreads();

    const uint32_t lane = threadIdx.x & 31u, warp = threadIdx.x >> 5;
    const uint32_t players = q + (q & 1u);
    const double tol = args.tolerance;
    uint32_t sweeps = 0;
    uint32_t converged = 0;
    float off = 0.0f;
    while (sweeps < args.max_sweeps) {
        float seen = 0.0f;
        bool rotated = false;
        for (uint32_t step = 0; step + 1 < players; ++step) {
            for (uint32_t k = warp; k < players / 2; k += kWarps) {
                uint32_t i, j;
                round_robin_pair(players, step, k, i, j);
                if (j >= q) continue;  // the dummy player of an odd q
                float* bi = b + i * p;
                float* bj = b + j * p;
                double alpha = 0.0, beta = 0.0, gamma = 0.0;
                for (uint32_t r = lane; r < p; r += 32) {
                    const double x = bi[r], y = bj[r];
                    alpha = fma(x, x, alpha);
                    beta = fma(y, y, beta);
                    gamma = fma(x, y, gamma);
                }
                alpha = warp_sum_broadcast(alpha);
                beta = warp_sum_broadcast(beta);
                gamma = warp_sum_broadcast(gamma);
                if (alpha == 0.0 || beta == 0.0 || gamma == 0.0) continue;
                const double cosine = fabs(gamma) / sqrt(alpha * beta);
                seen = fmaxf(seen, __double2float_ru(cosine));
                if (cosine <= tol) continue;
                rotated = true;
                double c, s;
                jacobi_rotation(alpha, beta, gamma, c, s);
                const float cf = __double2float_rn(c), sf = __double2float_rn(s);
                for (uint32_t r = lane; r < p; r += 32) {
                    const float x = bi[r], y = bj[r];
                    bi[r] = __fmaf_rn(cf, x, -__fmul_rn(sf, y));
                    bj[r] = __fmaf_rn(sf, x, __fmul_rn(cf, y));
                }
                float* vi = v + i * q;
                float* vj = v + j * q;
                for (uint32_t r = lane; r < q; r += 32) {
                    const float x = vi[r], y = vj[r];
                    vi[r] = __fmaf_rn(cf, x, -__fmul_rn(sf, y));
                    vj[r] = __fmaf_rn(sf, x, __fmul_rn(cf, y));
                }
            }
            __syncthreads();
        }
        ++sweeps;
        off = block_max(seen, scratch);
        if (!__syncthreads_or(rotated)) {
            converged = 1;
            break;
        }
    }

    for (uint32_t i = threadIdx.x; i < pq; i += kSvdThreads) gb[i] = b[i];
    for (uint32_t i = threadIdx.x; i < qq; i += kSvdThreads) gv[i] = v[i];
    if (threadIdx.x == 0) {
        SvdStatus* st = reinterpret_cast<SvdStatus*>(args.status) + mat;
        st->sweeps = sweeps;
        st->converged = converged;
        st->off = off;
        st->running = 0u;
    }
}

// ---------------------------------------------------------------------------------------------
// Jacobi, blocked, from global memory: one launch per round-robin step of block pairs

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_block_step(const SvdJacobiArgs args) {
    __shared__ double g[kPair][kPair + 1];
    __shared__ double rot[kPair][kPair + 1];
    __shared__ float stage[kSvdGramRows][kPair + 1];
    __shared__ __align__(16) float rft[kPair][kPair];
    __shared__ double cs[kSvdBlockWidth][2];
    __shared__ float scratch[kWarps];
    __shared__ uint32_t any_rotation;

    const uint32_t mat = blockIdx.y;
    SvdStatus* st = reinterpret_cast<SvdStatus*>(args.status) + mat;
    if (st->converged != 0u || st->sweeps >= args.max_sweeps) return;  // uniform over the block

    const uint32_t p = args.p, q = args.q;
    const uint32_t blocks = (q + kSvdBlockWidth - 1) / kSvdBlockWidth;
    uint32_t bi, bj;
    round_robin_pair(blocks + (blocks & 1u), args.step, blockIdx.x, bi, bj);
    // Slot s < W is column bi·W + s, slot s ≥ W is column bj·W + s − W; a slot past q is absent
    // (a zero column: the last partial block, or the dummy block of an odd block count).
    const uint32_t first_i = bi * kSvdBlockWidth, first_j = bj * kSvdBlockWidth - kSvdBlockWidth;
    float* work = reinterpret_cast<float*>(args.work) + static_cast<uint64_t>(mat) * p * q;
    float* vm = reinterpret_cast<float*>(args.v) + static_cast<uint64_t>(mat) * q * q;

    // 1. Gram matrix of the 2W columns in double; thread t owns entries (t/8, 4·(t%8) + 0..3).
    const uint32_t gi = threadIdx.x >> 3, gj = (threadIdx.x & 7u) * 4;
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    for (uint32_t row0 = 0; row0 < p; row0 += kSvdGramRows) {
        __syncthreads();
        for (uint32_t e = threadIdx.x; e < kSvdGramRows * kPair; e += kSvdThreads) {
            const uint32_t s = e / kSvdGramRows, r = e % kSvdGramRows;
            const uint32_t col = (s < kSvdBlockWidth ? first_i : first_j) + s;
            stage[r][s] = (col < q && row0 + r < p) ? work[static_cast<uint64_t>(col) * p + row0 + r] : 0.0f;
        }
        __syncthreads();
        const uint32_t rows = min(kSvdGramRows, p - row0);
        for (uint32_t r = 0; r < rows; ++r) {
            const double x = stage[r][gi];
#pragma unroll
            for (uint32_t c = 0; c < 4; ++c) acc[c] = fma(x, static_cast<double>(stage[r][gj + c]), acc[c]);
        }
    }
#pragma unroll
    for (uint32_t c = 0; c < 4; ++c) g[gi][gj + c] = acc[c];
    __syncthreads();

    // 2. Largest pair cosine of this block pair: the convergence measure of the sweep.
    float seen = 0.0f;
#pragma unroll
    for (uint32_t c = 0; c < 4; ++c) {
        const uint32_t j = gj + c;
        if (j <= gi) continue;
        const double a = g[gi][gi], bb = g[j][j], y = g[gi][j];
        if (a > 0.0 && bb > 0.0 && y != 0.0) seen = fmaxf(seen, __double2float_ru(fabs(y) / sqrt(a * bb)));
    }
    const float worst = block_max(seen, scratch);
    if (threadIdx.x == 0) atomicMax(&st->running, __float_as_uint(worst));
    if (!(worst > args.tolerance)) return;  // uniform: every thread holds the same maximum

    // 3. Eigenvectors of the Gram matrix: parallel cyclic Jacobi in double, rotations into R.
    for (uint32_t e = threadIdx.x; e < kPair * kPair; e += kSvdThreads) {
        rot[e / kPair][e % kPair] = (e / kPair == e % kPair) ? 1.0 : 0.0;
    }
    const double inner_tol = 1e-13;
    for (uint32_t sweep = 0; sweep < kSvdInnerSweeps; ++sweep) {
        __syncthreads();  // every thread has read the previous sweep's flag
        if (threadIdx.x == 0) any_rotation = 0u;
        __syncthreads();
        for (uint32_t step = 0; step + 1 < kPair; ++step) {
            if (threadIdx.x < kSvdBlockWidth) {
                uint32_t i, j;
                round_robin_pair(kPair, step, threadIdx.x, i, j);
                const double a = g[i][i], bb = g[j][j], y = g[i][j];
                double c = 1.0, s = 0.0;
                if (a > 0.0 && bb > 0.0 && fabs(y) > inner_tol * sqrt(a * bb)) {
                    jacobi_rotation(a, bb, y, c, s);
                    atomicOr(&any_rotation, 1u);  // several threads may set it: atomic, not a racing store
                }
                cs[threadIdx.x][0] = c;
                cs[threadIdx.x][1] = s;
            }
            __syncthreads();
            // Rows i, j of G ← Jᵀ·G (the pairs of a step are disjoint).
            for (uint32_t e = threadIdx.x; e < kSvdBlockWidth * kPair; e += kSvdThreads) {
                const uint32_t k = e / kPair, col = e % kPair;
                const double s = cs[k][1];
                if (s == 0.0) continue;
                const double c = cs[k][0];
                uint32_t i, j;
                round_robin_pair(kPair, step, k, i, j);
                const double x = g[i][col], y = g[j][col];
                g[i][col] = fma(c, x, -s * y);
                g[j][col] = fma(s, x, c * y);
            }
            __syncthreads();
            // Columns i, j of G ← G·J and of R ← R·J.
            for (uint32_t e = threadIdx.x; e < kSvdBlockWidth * kPair; e += kSvdThreads) {
                const uint32_t k = e / kPair, row = e % kPair;
                const double s = cs[k][1];
                if (s == 0.0) continue;
                const double c = cs[k][0];
                uint32_t i, j;
                round_robin_pair(kPair, step, k, i, j);
                const double x = g[row][i], y = g[row][j];
                g[row][i] = fma(c, x, -s * y);
                g[row][j] = fma(s, x, c * y);
                const double u = rot[row][i], w = rot[row][j];
                rot[row][i] = fma(c, u, -s * w);
                rot[row][j] = fma(s, u, c * w);
            }
            __syncthreads();
        }
        if (any_rotation == 0u) break;  // read after the step's barrier: uniform
    }
    // R transposed in float: output column t reads R(·, t) as contiguous float4s.
    for (uint32_t e = threadIdx.x; e < kPair * kPair; e += kSvdThreads) {
        rft[e / kPair][e % kPair] = __double2float_rn(rot[e % kPair][e / kPair]);
    }
    __syncthreads();

    // 4. [B_I B_J] ← [B_I B_J]·R and [V_I V_J] ← [V_I V_J]·R, one row per thread.
    apply_block_rotation(work, p, q, first_i, first_j, rft);
    apply_block_rotation(vm, q, q, first_i, first_j, rft);
}

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_sweep_end(const SvdSweepArgs args) {
    const uint32_t mat = blockIdx.x * kSvdThreads + threadIdx.x;
    if (mat >= args.count) return;
    SvdStatus* st = reinterpret_cast<SvdStatus*>(args.status) + mat;
    if (st->converged == 0u && st->sweeps < args.max_sweeps) {
        const float seen = __uint_as_float(st->running);
        st->sweeps += 1;
        st->off = seen;
        if (!(seen > args.tolerance)) st->converged = 1u;
        else if (st->sweeps < args.max_sweeps) atomicAdd(reinterpret_cast<uint32_t*>(args.active), 1u);
    }
    st->running = 0u;
}

// ---------------------------------------------------------------------------------------------
// Post-processing

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_normalize(const SvdNormalizeArgs args) {
    __shared__ double scratch[kWarps];
    const uint32_t j = blockIdx.x, mat = blockIdx.y;
    float* col = reinterpret_cast<float*>(args.work) + (static_cast<uint64_t>(mat) * args.q + j) * args.p;
    double sum = 0.0;
    for (uint32_t r = threadIdx.x; r < args.p; r += kSvdThreads) {
        const double x = col[r];
        sum = fma(x, x, sum);
    }
    const double sigma = sqrt(block_sum_all(sum, scratch));
    if (threadIdx.x == 0) reinterpret_cast<double*>(args.sigma)[static_cast<uint64_t>(mat) * args.q + j] = sigma;
    if (sigma == 0.0) return;
    const double inv = 1.0 / sigma;
    for (uint32_t r = threadIdx.x; r < args.p; r += kSvdThreads) col[r] = __double2float_rn(static_cast<double>(col[r]) * inv);
}

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_order(const SvdOrderArgs args) {
    const uint32_t mat = blockIdx.y, q = args.q;
    const double* sigma = reinterpret_cast<const double*>(args.sigma) + static_cast<uint64_t>(mat) * q;
    const int e = args.exponents != 0 ? reinterpret_cast<const int32_t*>(args.exponents)[mat] : 0;
    for (uint32_t j = blockIdx.x * kSvdThreads + threadIdx.x; j < q; j += gridDim.x * kSvdThreads) {
        const double sj = sigma[j];
        uint32_t rank = 0;
        for (uint32_t i = 0; i < q; ++i) {
            const double si = __ldg(sigma + i);
            rank += (si > sj || (si == sj && i < j)) ? 1u : 0u;
        }
        reinterpret_cast<uint32_t*>(args.perm)[static_cast<uint64_t>(mat) * q + rank] = j;
        reinterpret_cast<double*>(args.s_out)[static_cast<uint64_t>(mat) * q + rank] = ldexp(sj, e);
    }
}

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_svd_emit(const SvdEmitArgs args) {
    const uint32_t mat = blockIdx.y, p = args.p, q = args.q, keep = args.keep;
    const uint32_t m = args.wide != 0u ? q : p, n = args.wide != 0u ? p : q;
    const float* work = reinterpret_cast<const float*>(args.work) + static_cast<uint64_t>(mat) * p * q;
    const float* v = reinterpret_cast<const float*>(args.v) + static_cast<uint64_t>(mat) * q * q;
    const uint32_t* perm = reinterpret_cast<const uint32_t*>(args.perm) + static_cast<uint64_t>(mat) * q;
    float* u_out = reinterpret_cast<float*>(args.u_out) + static_cast<uint64_t>(mat) * m * keep;
    float* vh_out = reinterpret_cast<float*>(args.vh_out) + static_cast<uint64_t>(mat) * keep * n;
    const uint64_t u_elems = static_cast<uint64_t>(m) * keep, total = u_elems + static_cast<uint64_t>(keep) * n;
    for (uint64_t e = static_cast<uint64_t>(blockIdx.x) * kSvdThreads + threadIdx.x; e < total;
         e += static_cast<uint64_t>(gridDim.x) * kSvdThreads) {
        if (e < u_elems) {
            // U_A(i, rank): row-major walks rank fastest, column-major walks i fastest.
            const uint32_t i = args.u_col_major != 0u ? static_cast<uint32_t>(e % m) : static_cast<uint32_t>(e / keep);
            const uint32_t rank = args.u_col_major != 0u ? static_cast<uint32_t>(e / m) : static_cast<uint32_t>(e % keep);
            const uint64_t col = perm[rank];
            u_out[e] = args.wide != 0u ? v[col * q + i] : work[col * p + i];
        } else {
            const uint64_t f = e - u_elems;
            const uint32_t rank = args.vh_col_major != 0u ? static_cast<uint32_t>(f % keep) : static_cast<uint32_t>(f / n);
            const uint32_t c = args.vh_col_major != 0u ? static_cast<uint32_t>(f / keep) : static_cast<uint32_t>(f % n);
            const uint64_t col = perm[rank];
            vh_out[f] = args.wide != 0u ? work[col * p + c] : v[col * q + c];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// SGEMM (column-major, batched): the fallback when libcublas is absent

extern "C" __global__ void __launch_bounds__(kSvdThreads) amalgam_sgemm(const SgemmArgs args) {
    __shared__ float as[kGemmDepth][kGemmTile + 1];
    __shared__ float bs[kGemmDepth][kGemmTile + 1];
    const uint32_t tiles_m = (args.m + kGemmTile - 1) / kGemmTile;
    const uint32_t i0 = (blockIdx.x % tiles_m) * kGemmTile, j0 = (blockIdx.x / tiles_m) * kGemmTile;
    const uint32_t batch = blockIdx.y;
    const float* a = reinterpret_cast<const float*>(args.a) + batch * args.stride_a;
    const float* b = reinterpret_cast<const float*>(args.b) + batch * args.stride_b;
    float* c = reinterpret_cast<float*>(args.c) + batch * args.stride_c;
    const uint32_t tx = threadIdx.x & 15u, ty = threadIdx.x >> 4;  // C(i0 + tx + 16u, j0 + ty + 16v)
    float acc[4][4];
#pragma unroll
    for (uint32_t u = 0; u < 4; ++u) {
#pragma unroll
        for (uint32_t w = 0; w < 4; ++w) acc[u][w] = 0.0f;
    }
    for (uint32_t l0 = 0; l0 < args.k; l0 += kGemmDepth) {
        // Stage op(A)(i0.., l0..) and op(B)(l0.., j0..); the fast thread index follows memory.
#pragma unroll
        for (uint32_t e0 = 0; e0 < kGemmTile * kGemmDepth; e0 += kSvdThreads) {
            const uint32_t e = e0 + threadIdx.x;
            uint32_t i, l;
            if (args.trans_a == 0u) { i = e % kGemmTile; l = e / kGemmTile; } else { l = e % kGemmDepth; i = e / kGemmDepth; }
            const uint32_t gi = i0 + i, gl = l0 + l;
            float x = 0.0f;
            if (gi < args.m && gl < args.k) {
                x = args.trans_a == 0u ? __ldg(a + gi + static_cast<uint64_t>(gl) * args.lda)
                                       : __ldg(a + gl + static_cast<uint64_t>(gi) * args.lda);
            }
            as[l][i] = x;
            uint32_t j;
            if (args.trans_b == 0u) { l = e % kGemmDepth; j = e / kGemmDepth; } else { j = e % kGemmTile; l = e / kGemmTile; }
            const uint32_t gj = j0 + j;
            const uint32_t gl2 = l0 + l;
            float y = 0.0f;
            if (gj < args.n && gl2 < args.k) {
                y = args.trans_b == 0u ? __ldg(b + gl2 + static_cast<uint64_t>(gj) * args.ldb)
                                       : __ldg(b + gj + static_cast<uint64_t>(gl2) * args.ldb);
            }
            bs[l][j] = y;
        }
        __syncthreads();
#pragma unroll
        for (uint32_t l = 0; l < kGemmDepth; ++l) {
            float x[4], y[4];
#pragma unroll
            for (uint32_t u = 0; u < 4; ++u) x[u] = as[l][tx + 16 * u];
#pragma unroll
            for (uint32_t w = 0; w < 4; ++w) y[w] = bs[l][ty + 16 * w];
#pragma unroll
            for (uint32_t u = 0; u < 4; ++u) {
#pragma unroll
                for (uint32_t w = 0; w < 4; ++w) acc[u][w] = __fmaf_rn(x[u], y[w], acc[u][w]);
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (uint32_t w = 0; w < 4; ++w) {
        const uint32_t j = j0 + ty + 16 * w;
        if (j >= args.n) continue;
#pragma unroll
        for (uint32_t u = 0; u < 4; ++u) {
            const uint32_t i = i0 + tx + 16 * u;
            if (i >= args.m) continue;
            float* out = c + i + static_cast<uint64_t>(j) * args.ldc;
            const float r = __fmul_rn(args.alpha, acc[u][w]);
            *out = args.beta == 0.0f ? r : __fmaf_rn(args.beta, *out, r);
        }
    }
}

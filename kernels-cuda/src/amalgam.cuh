// Shared device math and the binary layouts of every kernel argument block.
//
// Implementation notes
// - Per-element arithmetic is float32 with explicit round-to-nearest intrinsics (__fadd_rn,
//   __fmul_rn, __fdiv_rn, __fsub_rn), which nvcc never contracts into FMAs; the build also passes
//   -fmad=false. This is what makes the results bit-identical to dev.amalgam.kernel.ReferenceKernels.
// - Storage dtypes are widened exactly (F16 via __half2float, BF16 by a 16-bit shift) and narrowed
//   round-to-nearest-even (__float2half_rn, __float2bfloat16_rn).
// - Every kernel takes ONE argument: a struct passed by value whose layout is fixed below with
//   AMALGAM_FIELD / AMALGAM_SIZE. The Java side (dev.amalgam.cuda.internal.KernelLayouts) writes
//   the same offsets, and a host test parses these lines to check that both agree.
// - NaN: GPU arithmetic returns the canonical NaN (0x7FFFFFFF) where Java keeps payloads
//   (Float.NaN is 0x7FC00000), so every NaN has ONE magnitude key, 0x7FC00000, on the device and on
//   the host side of the CUDA backend (KernelLayouts.deviceKey): tie counts, thresholds and the
//   host's tie rescan agree, and they equal the reference's for Java's canonical NaN. All NaNs rank
//   above +Inf; the relative order of NaNs with other payloads is by index only.
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include "philox.cuh"

#define AMALGAM_FIELD(S, f, off) static_assert(offsetof(S, f) == (off), "layout of " #S "." #f)
#define AMALGAM_SIZE(S, n) static_assert(sizeof(S) == (n), "size of " #S)
// Dynamic shared memory (the launch's sharedMemBytes). The host build (kernels-cuda/host/simt.hpp)
// defines it first, as a pointer to the block's buffer.
#ifndef AMALGAM_DYNAMIC_SHARED
#define AMALGAM_DYNAMIC_SHARED(T, name) extern __shared__ T name[]
#endif

namespace amalgam {

// Storage dtype codes (dev.amalgam.cuda.internal.KernelLayouts.DTYPE_*).
constexpr uint32_t DT_F32 = 0;
constexpr uint32_t DT_F16 = 1;
constexpr uint32_t DT_BF16 = 2;

// Elements per statistics tile; chunk boundaries are multiples of it, so per-tile results do
// not depend on how a tensor is chunked.
constexpr uint32_t kTile = 4096;
constexpr uint32_t kBlock = 256;

// Plain loads, not __ldg: the read-only path is undefined when the buffer is written during the
// kernel, and gtaOnDevice allows out == base (an in-place merge).
__device__ __forceinline__ float load_f32(const void* p, uint32_t dtype, uint64_t i) {
    if (dtype == DT_BF16) {
        uint16_t bits = static_cast<const unsigned short*>(p)[i];
        return __uint_as_float(static_cast<uint32_t>(bits) << 16);
    }
    if (dtype == DT_F16) {
        unsigned short bits = static_cast<const unsigned short*>(p)[i];
        return __half2float(__ushort_as_half(bits));
    }
    return static_cast<const float*>(p)[i];
}

/** Stores v rounded to the dtype and returns the stored value widened back (for the finiteness count). */
__device__ __forceinline__ float store_f32(void* p, uint32_t dtype, uint64_t i, float v) {
    if (dtype == DT_BF16) {
        __nv_bfloat16 h = __float2bfloat16_rn(v);
        static_cast<__nv_bfloat16*>(p)[i] = h;
        return __bfloat162float(h);
    }
    if (dtype == DT_F16) {
        __half h = __float2half_rn(v);
        static_cast<__half*>(p)[i] = h;
        return __half2float(h);
    }
    static_cast<float*>(p)[i] = v;
    return v;
}

/** §1.6: IEEE bits with the sign cleared; orders magnitudes exactly, −0 = +0, NaN above +Inf. */
__device__ __forceinline__ uint32_t magnitude_key(float x) {
    const uint32_t k = __float_as_uint(x) & 0x7FFFFFFFu;
    return k > 0x7F800000u ? 0x7FC00000u : k;  // one key for every NaN (see the notes above)
}

/** sgn(x) = (x>0) − (x<0): ±0 and NaN have sign 0 (never copysignf). */
__device__ __forceinline__ int sgn(float x) { return (x > 0.0f) - (x < 0.0f); }

__device__ __forceinline__ bool finite_f32(float x) { return (__float_as_uint(x) & 0x7F800000u) != 0x7F800000u; }

// ---------------------------------------------------------------------------------------------
// Magnitude selection (magnitude_select.cu)

/** One part of a selection: δ = model − base over count elements, each in its storage dtype. */
struct SelectSegment {
    uint64_t base_ptr;
    uint64_t model_ptr;
    uint64_t count;
    uint32_t base_dtype;
    uint32_t model_dtype;
};
AMALGAM_FIELD(SelectSegment, base_ptr, 0);
AMALGAM_FIELD(SelectSegment, model_ptr, 8);
AMALGAM_FIELD(SelectSegment, count, 16);
AMALGAM_FIELD(SelectSegment, base_dtype, 24);
AMALGAM_FIELD(SelectSegment, model_dtype, 28);
AMALGAM_SIZE(SelectSegment, 32);

/**
 * One histogram pass: counts keys whose bits above (shift + bits) equal prefix, binned by
 * bits [shift, shift + bits). tile_starts[s] = first tile of segment s (segment_count + 1 entries).
 */
struct SelectArgs {
    uint64_t segments;     // SelectSegment[segment_count]
    uint64_t tile_starts;  // uint64_t[segment_count + 1]
    uint64_t histogram;    // uint64_t[1 << bits], accumulated (zeroed by the caller)
    uint64_t total_tiles;
    uint32_t segment_count;
    uint32_t shift;
    uint32_t bits;
    uint32_t prefix;
};
AMALGAM_FIELD(SelectArgs, segments, 0);
AMALGAM_FIELD(SelectArgs, tile_starts, 8);
AMALGAM_FIELD(SelectArgs, histogram, 16);
AMALGAM_FIELD(SelectArgs, total_tiles, 24);
AMALGAM_FIELD(SelectArgs, segment_count, 32);
AMALGAM_FIELD(SelectArgs, shift, 36);
AMALGAM_FIELD(SelectArgs, bits, 40);
AMALGAM_FIELD(SelectArgs, prefix, 44);
AMALGAM_SIZE(SelectArgs, 48);

// ---------------------------------------------------------------------------------------------
// The fused GTA pass (gta.cu) and its statistics (reductions.cu)

constexpr uint32_t SPARSIFY_NONE = 0;
constexpr uint32_t SPARSIFY_BAND = 1;
constexpr uint32_t SPARSIFY_BERNOULLI = 2;

constexpr uint32_t RESCALE_NONE = 0;
constexpr uint32_t RESCALE_MULTIPLY = 1;  // l1: x·(A/B), factor in double
constexpr uint32_t RESCALE_DIVIDE = 2;    // inverse_density: x/p, p in double

constexpr uint32_t CONSENSUS_NONE = 0;
constexpr uint32_t CONSENSUS_SUM = 1;
constexpr uint32_t CONSENSUS_COUNT = 2;

/**
 * One model of a GTA pass. A band keeps element i iff
 *   (key > keep_key || (key == keep_key && i < keep_cutoff))
 *   && !(has_exclude && (key > exclude_key || (key == exclude_key && i < exclude_cutoff)))
 * where a cutoff is the global flat index of the first tie that is NOT kept (UINT64_MAX: all ties).
 */
struct GtaModel {
    uint64_t model_ptr;       // device address of element 0 of the current chunk
    uint64_t keep_cutoff;
    uint64_t exclude_cutoff;
    double rescale;           // factor (MULTIPLY) or density (DIVIDE)
    uint32_t dtype;
    uint32_t sparsifier;
    uint32_t keep_key;
    uint32_t exclude_key;
    uint32_t has_exclude;
    uint32_t rescale_mode;
    uint32_t model_index;     // position in models:, keys the Philox counter
    uint32_t keep_bound;      // Bernoulli: keep iff (word0 >> 8) < keep_bound
    float weight;
    uint32_t reserved;
};
AMALGAM_FIELD(GtaModel, model_ptr, 0);
AMALGAM_FIELD(GtaModel, keep_cutoff, 8);
AMALGAM_FIELD(GtaModel, exclude_cutoff, 16);
AMALGAM_FIELD(GtaModel, rescale, 24);
AMALGAM_FIELD(GtaModel, dtype, 32);
AMALGAM_FIELD(GtaModel, sparsifier, 36);
AMALGAM_FIELD(GtaModel, keep_key, 40);
AMALGAM_FIELD(GtaModel, exclude_key, 44);
AMALGAM_FIELD(GtaModel, has_exclude, 48);
AMALGAM_FIELD(GtaModel, rescale_mode, 52);
AMALGAM_FIELD(GtaModel, model_index, 56);
AMALGAM_FIELD(GtaModel, keep_bound, 60);
AMALGAM_FIELD(GtaModel, weight, 64);
AMALGAM_FIELD(GtaModel, reserved, 68);
AMALGAM_SIZE(GtaModel, 72);

/** Statistics before the merge, one block per tile of kTile elements. */
struct GtaStatsArgs {
    uint64_t base_ptr;
    uint64_t models;        // GtaModel[model_count]
    uint64_t chunk_start;   // global flat index of local element 0 (a multiple of kTile)
    uint64_t count;         // elements in this chunk
    uint64_t ties_keep;     // uint32_t[model_count][total_tiles]   (mode 0)
    uint64_t ties_exclude;  // uint32_t[model_count][total_tiles]   (mode 0)
    uint64_t l1;            // double[model_count][total_tiles]: Σ|δ| (mode 0) or Σ|δ̂| (mode 1)
    uint64_t nonfinite;     // uint32_t[model_count + 1], 0 = base; set to 1 on a NaN/Inf (mode 0)
    uint64_t total_tiles;
    uint32_t base_dtype;
    uint32_t model_count;
    uint32_t mode;          // 0: ties, Σ|δ|, non-finite inputs; 1: Σ|δ̂| with the full mask
    uint32_t name_hash;
    uint32_t seed_lo;
    uint32_t seed_hi;
};
AMALGAM_FIELD(GtaStatsArgs, base_ptr, 0);
AMALGAM_FIELD(GtaStatsArgs, models, 8);
AMALGAM_FIELD(GtaStatsArgs, chunk_start, 16);
AMALGAM_FIELD(GtaStatsArgs, count, 24);
AMALGAM_FIELD(GtaStatsArgs, ties_keep, 32);
AMALGAM_FIELD(GtaStatsArgs, ties_exclude, 40);
AMALGAM_FIELD(GtaStatsArgs, l1, 48);
AMALGAM_FIELD(GtaStatsArgs, nonfinite, 56);
AMALGAM_FIELD(GtaStatsArgs, total_tiles, 64);
AMALGAM_FIELD(GtaStatsArgs, base_dtype, 72);
AMALGAM_FIELD(GtaStatsArgs, model_count, 76);
AMALGAM_FIELD(GtaStatsArgs, mode, 80);
AMALGAM_FIELD(GtaStatsArgs, name_hash, 84);
AMALGAM_FIELD(GtaStatsArgs, seed_lo, 88);
AMALGAM_FIELD(GtaStatsArgs, seed_hi, 92);
AMALGAM_SIZE(GtaStatsArgs, 96);

/** The merge itself. Dynamic shared memory: model_count GtaModel records (staged from `models`),
 *  (model_count + 2) uint32 counters, then, with consensus, model_count × blockDim floats of
 *  contributions. */
struct GtaMergeArgs {
    uint64_t base_ptr;
    uint64_t out_ptr;
    uint64_t models;        // GtaModel[model_count]
    uint64_t chunk_start;
    uint64_t count;
    uint64_t counters;      // uint64_t[model_count + 2]: kept per model, sign conflicts, non-finite outputs
    uint32_t base_dtype;
    uint32_t out_dtype;
    uint32_t model_count;
    uint32_t consensus;
    uint32_t normalize;
    float divisor;          // without consensus: Σw (or 1 when |Σw| < 1e-8), host-computed
    float lambda;
    uint32_t name_hash;
    uint32_t seed_lo;
    uint32_t seed_hi;
};
AMALGAM_FIELD(GtaMergeArgs, base_ptr, 0);
AMALGAM_FIELD(GtaMergeArgs, out_ptr, 8);
AMALGAM_FIELD(GtaMergeArgs, models, 16);
AMALGAM_FIELD(GtaMergeArgs, chunk_start, 24);
AMALGAM_FIELD(GtaMergeArgs, count, 32);
AMALGAM_FIELD(GtaMergeArgs, counters, 40);
AMALGAM_FIELD(GtaMergeArgs, base_dtype, 48);
AMALGAM_FIELD(GtaMergeArgs, out_dtype, 52);
AMALGAM_FIELD(GtaMergeArgs, model_count, 56);
AMALGAM_FIELD(GtaMergeArgs, consensus, 60);
AMALGAM_FIELD(GtaMergeArgs, normalize, 64);
AMALGAM_FIELD(GtaMergeArgs, divisor, 68);
AMALGAM_FIELD(GtaMergeArgs, lambda, 72);
AMALGAM_FIELD(GtaMergeArgs, name_hash, 76);
AMALGAM_FIELD(GtaMergeArgs, seed_lo, 80);
AMALGAM_FIELD(GtaMergeArgs, seed_hi, 84);
AMALGAM_SIZE(GtaMergeArgs, 88);

// ---------------------------------------------------------------------------------------------
// linear (linear.cu) and the finiteness scan (reductions.cu)

struct LinearInput {
    uint64_t ptr;
    uint32_t dtype;
    float weight;
};
AMALGAM_FIELD(LinearInput, ptr, 0);
AMALGAM_FIELD(LinearInput, dtype, 8);
AMALGAM_FIELD(LinearInput, weight, 12);
AMALGAM_SIZE(LinearInput, 16);

struct LinearArgs {
    uint64_t inputs;        // LinearInput[input_count]
    uint64_t out_ptr;
    uint64_t count;
    uint64_t counters;      // uint64_t[1]: non-finite outputs
    uint32_t input_count;
    uint32_t out_dtype;
    float divisor;
    uint32_t reserved;
};
AMALGAM_FIELD(LinearArgs, inputs, 0);
AMALGAM_FIELD(LinearArgs, out_ptr, 8);
AMALGAM_FIELD(LinearArgs, count, 16);
AMALGAM_FIELD(LinearArgs, counters, 24);
AMALGAM_FIELD(LinearArgs, input_count, 32);
AMALGAM_FIELD(LinearArgs, out_dtype, 36);
AMALGAM_FIELD(LinearArgs, divisor, 40);
AMALGAM_FIELD(LinearArgs, reserved, 44);
AMALGAM_SIZE(LinearArgs, 48);

/** Sets flags[j] = 1 if input j (a LinearInput, weight ignored) has a NaN/Inf in [0, count). */
struct FiniteScanArgs {
    uint64_t inputs;
    uint64_t count;
    uint64_t flags;         // uint32_t[input_count]
    uint32_t input_count;
    uint32_t reserved;
};
AMALGAM_FIELD(FiniteScanArgs, inputs, 0);
AMALGAM_FIELD(FiniteScanArgs, count, 8);
AMALGAM_FIELD(FiniteScanArgs, flags, 16);
AMALGAM_FIELD(FiniteScanArgs, input_count, 24);
AMALGAM_FIELD(FiniteScanArgs, reserved, 28);
AMALGAM_SIZE(FiniteScanArgs, 32);

// ---------------------------------------------------------------------------------------------
// Per-element GTA steps shared by the statistics pass and the merge

/** Whether the sparsifier keeps element i (global flat index) whose delta has key `key`. */
__device__ __forceinline__ bool sparsify_keeps(const GtaModel& m, uint32_t key, uint64_t i, uint32_t name_hash,
                                               uint32_t seed_lo, uint32_t seed_hi) {
    if (m.sparsifier == SPARSIFY_BAND) {
        bool in_keep = key > m.keep_key || (key == m.keep_key && i < m.keep_cutoff);
        bool in_exclude = m.has_exclude != 0u
                && (key > m.exclude_key || (key == m.exclude_key && i < m.exclude_cutoff));
        return in_keep && !in_exclude;
    }
    if (m.sparsifier == SPARSIFY_BERNOULLI) {
        return bernoulli_keep(i, m.model_index, name_hash, seed_lo, seed_hi, m.keep_bound);
    }
    return true;
}

/** Rescale of a sparsified delta, in double then rounded once to float32 (§1.9). */
__device__ __forceinline__ float rescale(const GtaModel& m, float x) {
    if (m.rescale_mode == RESCALE_MULTIPLY) return __double2float_rn(__dmul_rn(static_cast<double>(x), m.rescale));
    if (m.rescale_mode == RESCALE_DIVIDE) return __double2float_rn(__ddiv_rn(static_cast<double>(x), m.rescale));
    return x;
}

// ---------------------------------------------------------------------------------------------
// Deterministic block reductions (fixed tree: warp shuffles, then warps in order)

__device__ __forceinline__ double warp_sum(double v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v = __dadd_rn(v, __shfl_down_sync(0xFFFFFFFFu, v, offset));
    return v;
}

__device__ __forceinline__ uint32_t warp_sum(uint32_t v) {
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xFFFFFFFFu, v, offset);
    return v;
}

/** Sum over a block of kBlock threads; the result is valid in thread 0. `scratch` holds kBlock/32 values. */
template <typename T>
__device__ __forceinline__ T block_sum(T v, T* scratch) {
    v = warp_sum(v);
    const uint32_t lane = threadIdx.x & 31u;
    const uint32_t warp = threadIdx.x >> 5;
    __syncthreads();  // scratch may still be read from the previous call
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    T total = 0;
    if (threadIdx.x == 0) {
        for (uint32_t w = 0; w < kBlock / 32; ++w) total = total + scratch[w];
    }
    return total;
}

}  // namespace amalgam

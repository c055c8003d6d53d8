// The fused generalized task-arithmetic pass (§1.4): one read of base + T models in their storage
// dtypes, δ, sparsify (band with tie cutoffs, or the Philox Bernoulli drop), rescale, weight, sign
// election, disjoint sum, divisor, λ, + base, one store in the output dtype.
//
// Implementation notes
// - Bit-identical to ReferenceKernels.gta: the same float32 operations in the same order, each an
//   explicit _rn intrinsic; the election sum is double in model order; rescale is double then
//   rounded once.
// - The T 72-byte model records are staged in shared memory once per block (not re-read from
//   global memory for every element). With consensus a thread keeps its T contributions in shared
//   memory after them (model m of thread t at m·blockDim + t: conflict-free, no barrier needed
//   since a thread reads only its own column).
// - Counters (kept per model, sign conflicts, non-finite outputs) are integer sums: warp ballots,
//   shared atomics, one global atomic per block and counter, so they are exact and deterministic.
// - The loop is warp-uniform (inactive tail lanes run with active = false) so ballots are legal.
#include "amalgam.cuh"

using namespace amalgam;

extern "C" __global__ void __launch_bounds__(kBlock) amalgam_gta_merge(const GtaMergeArgs args) {
    AMALGAM_DYNAMIC_SHARED(uint32_t, shared);
    const uint32_t t = args.model_count;
    GtaModel* models = reinterpret_cast<GtaModel*>(shared);       // the t records, staged once per block
    uint32_t* counts = shared + t * (sizeof(GtaModel) / 4);       // t kept, conflicts, non-finite
    float* contributions = reinterpret_cast<float*>(counts + t + 2);
    for (uint32_t c = threadIdx.x; c < t + 2; c += blockDim.x) counts[c] = 0;
    const GtaModel* global_models = reinterpret_cast<const GtaModel*>(args.models);
    for (uint32_t m = threadIdx.x; m < t; m += blockDim.x) models[m] = global_models[m];
    __syncthreads();

    const void* base_ptr = reinterpret_cast<const void*>(args.base_ptr);
    void* out_ptr = reinterpret_cast<void*>(args.out_ptr);
    const bool consensus = args.consensus != CONSENSUS_NONE;
    const uint32_t lane = threadIdx.x & 31u;
    const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;

    for (uint64_t start = static_cast<uint64_t>(blockIdx.x) * blockDim.x; start < args.count; start += stride) {
        const uint64_t j = start + threadIdx.x;
        const bool active = j < args.count;
        const uint64_t i = args.chunk_start + j;  // global flat index: Philox counter and tie cutoffs
        const float base = active ? load_f32(base_ptr, args.base_dtype, j) : 0.0f;

        float mixed = 0.0f;
        double sum = 0.0;
        int count = 0;
        for (uint32_t m = 0; m < t; ++m) {
            const GtaModel& md = models[m];
            float v = 0.0f;
            bool kept = false;
            if (active) {
                float d = __fsub_rn(load_f32(reinterpret_cast<const void*>(md.model_ptr), md.dtype, j), base);
                kept = sparsify_keeps(md, magnitude_key(d), i, args.name_hash, args.seed_lo, args.seed_hi);
                if (!kept) d = 0.0f;
                v = __fmul_rn(md.weight, rescale(md, d));
            }
            const uint32_t kept_lanes = __ballot_sync(0xFFFFFFFFu, kept);
            if (lane == 0 && kept_lanes != 0u) atomicAdd(&counts[m], static_cast<uint32_t>(__popc(kept_lanes)));
            if (consensus) {
                contributions[m * blockDim.x + threadIdx.x] = v;
                sum = __dadd_rn(sum, static_cast<double>(v));
                count += sgn(v);
            } else {
                mixed = __fadd_rn(mixed, v);
            }
        }

        bool conflict = false;
        if (consensus) {
            const int elected = args.consensus == CONSENSUS_SUM ? (sum >= 0.0 ? 1 : -1) : (count >= 0 ? 1 : -1);
            float divisor = 0.0f;
            for (uint32_t m = 0; m < t; ++m) {
                const float x = contributions[m * blockDim.x + threadIdx.x];
                if (sgn(x) == elected) {
                    mixed = __fadd_rn(mixed, x);
                    divisor = __fadd_rn(divisor, models[m].weight);
                } else if (x != 0.0f) {
                    conflict = true;
                }
            }
            if (args.normalize != 0u) mixed = __fdiv_rn(mixed, divisor == 0.0f ? 1.0f : divisor);
        } else if (args.normalize != 0u) {
            mixed = __fdiv_rn(mixed, args.divisor);
        }
        mixed = __fmul_rn(mixed, args.lambda);

        bool nonfinite = false;
        if (active) nonfinite = !finite_f32(store_f32(out_ptr, args.out_dtype, j, __fadd_rn(base, mixed)));
        const uint32_t conflict_lanes = __ballot_sync(0xFFFFFFFFu, active && conflict);
        const uint32_t nonfinite_lanes = __ballot_sync(0xFFFFFFFFu, nonfinite);
        if (lane == 0) {
            if (conflict_lanes != 0u) atomicAdd(&counts[t], static_cast<uint32_t>(__popc(conflict_lanes)));
            if (nonfinite_lanes != 0u) atomicAdd(&counts[t + 1], static_cast<uint32_t>(__popc(nonfinite_lanes)));
        }
    }

    __syncthreads();
    unsigned long long* counters = reinterpret_cast<unsigned long long*>(args.counters);
    for (uint32_t c = threadIdx.x; c < t + 2; c += blockDim.x) {
        if (counts[c] != 0u) atomicAdd(&counters[c], static_cast<unsigned long long>(counts[c]));
    }
}

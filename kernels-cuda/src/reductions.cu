// Reductions: the statistics a GTA pass needs before it can merge, and the finiteness scan.
//
// Implementation notes. amalgam_gta_stats runs one block per tile of kTile elements (global tile
// index = chunk_start / kTile + blockIdx.x) and writes, per model and tile, the number of deltas
// whose key equals the keep / exclude key (the host turns these into the flat index of the first
// tie that is not kept) and Σ|δ| or Σ|δ̂| in double. The sums use a fixed tree (each thread in
// index order, then warp shuffles, then warps in order), and the host adds the tiles in order, so
// the L1 norms are deterministic and independent of chunking; they may differ from Java's
// sequential sum in the last bits, which the spec allows downstream of a reduction (§1.10).
#include "amalgam.cuh"

using namespace amalgam;

extern "C" __global__ void __launch_bounds__(kBlock) amalgam_gta_stats(const GtaStatsArgs args) {
    __shared__ double scratch_d[kBlock / 32];
    __shared__ uint32_t scratch_u[kBlock / 32];

    const uint64_t tile = args.chunk_start / kTile + blockIdx.x;
    const uint64_t first = static_cast<uint64_t>(blockIdx.x) * kTile;
    const uint64_t end = min(first + kTile, args.count);
    const void* base = reinterpret_cast<const void*>(args.base_ptr);
    const GtaModel* models = reinterpret_cast<const GtaModel*>(args.models);
    uint32_t* nonfinite = reinterpret_cast<uint32_t*>(args.nonfinite);

    if (args.mode == 0u) {
        bool bad = false;
        for (uint64_t j = first + threadIdx.x; j < end; j += kBlock) bad |= !finite_f32(load_f32(base, args.base_dtype, j));
        if (__syncthreads_or(bad) && threadIdx.x == 0) atomicOr(&nonfinite[0], 1u);  // blocks may race: atomic
    }

    for (uint32_t m = 0; m < args.model_count; ++m) {
        const GtaModel md = models[m];
        const void* model = reinterpret_cast<const void*>(md.model_ptr);
        double l1 = 0.0;
        uint32_t ties_keep = 0, ties_exclude = 0;
        bool bad = false;
        for (uint64_t j = first + threadIdx.x; j < end; j += kBlock) {
            const float x = load_f32(model, md.dtype, j);
            const float d = __fsub_rn(x, load_f32(base, args.base_dtype, j));
            const uint32_t key = magnitude_key(d);
            if (args.mode == 0u) {
                bad |= !finite_f32(x);
                ties_keep += key == md.keep_key ? 1u : 0u;
                ties_exclude += key == md.exclude_key ? 1u : 0u;
                l1 = __dadd_rn(l1, static_cast<double>(fabsf(d)));
            } else if (sparsify_keeps(md, key, args.chunk_start + j, args.name_hash, args.seed_lo, args.seed_hi)) {
                l1 = __dadd_rn(l1, static_cast<double>(fabsf(d)));
            }
        }
        const double l1_total = block_sum(l1, scratch_d);
        if (threadIdx.x == 0) reinterpret_cast<double*>(args.l1)[m * args.total_tiles + tile] = l1_total;
        if (args.mode == 0u) {
            const uint32_t keep_total = block_sum(ties_keep, scratch_u);
            const uint32_t exclude_total = block_sum(ties_exclude, scratch_u);
            if (threadIdx.x == 0) {
                reinterpret_cast<uint32_t*>(args.ties_keep)[m * args.total_tiles + tile] = keep_total;
                reinterpret_cast<uint32_t*>(args.ties_exclude)[m * args.total_tiles + tile] = exclude_total;
            }
            if (__syncthreads_or(bad) && threadIdx.x == 0) atomicOr(&nonfinite[m + 1], 1u);
        }
    }
}

extern "C" __global__ void __launch_bounds__(kBlock) amalgam_finite_scan(const FiniteScanArgs args) {
    const LinearInput* inputs = reinterpret_cast<const LinearInput*>(args.inputs);
    uint32_t* flags = reinterpret_cast<uint32_t*>(args.flags);
    const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
    for (uint32_t k = 0; k < args.input_count; ++k) {
        const LinearInput in = inputs[k];
        const void* p = reinterpret_cast<const void*>(in.ptr);
        bool bad = false;
        for (uint64_t j = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < args.count; j += stride) {
            bad |= !finite_f32(load_f32(p, in.dtype, j));
        }
        if (bad) atomicOr(&flags[k], 1u);  // many threads may set it: atomic, not racing stores (rare path)
    }
}

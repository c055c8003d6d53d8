// Magnitude selection: radix select over the 31-bit magnitude keys of δ = model − base (§1.6).
//
// Implementation notes. The host runs three histogram passes (bits 30..20, 19..10, 9..0); each
// pass counts, for the keys that match the prefix chosen so far, how many fall in each bin. From
// the counts (largest bin first) the host finds the bin holding the k-th largest key, exactly as
// MagnitudeThreshold/ReferenceKernels.selectLargest do, and finally tiesToKeep = k − #above. No
// sort, no per-element output. Many segments (tensors of one model) are processed by one launch:
// a block walks tiles of kTile elements and finds its segment by binary search in tile_starts.
#include "amalgam.cuh"

namespace amalgam {

__device__ __forceinline__ uint32_t find_segment(const uint64_t* tile_starts, uint32_t segment_count, uint64_t tile) {
    uint32_t lo = 0, hi = segment_count - 1;  // the last segment whose first tile is <= tile
    while (lo < hi) {
        uint32_t mid = (lo + hi + 1) >> 1;
        if (tile_starts[mid] <= tile) lo = mid; else hi = mid - 1;
    }
    return lo;
}

}  // namespace amalgam

using namespace amalgam;

extern "C" __global__ void __launch_bounds__(kBlock) amalgam_magnitude_histogram(const SelectArgs args) {
    __shared__ uint32_t bins[2048];
    const uint32_t bin_count = 1u << args.bits;
    for (uint32_t b = threadIdx.x; b < bin_count; b += blockDim.x) bins[b] = 0;
    __syncthreads();

    const SelectSegment* segments = reinterpret_cast<const SelectSegment*>(args.segments);
    const uint64_t* tile_starts = reinterpret_cast<const uint64_t*>(args.tile_starts);
    const uint32_t prefix_shift = args.shift + args.bits;  // <= 31
    const uint32_t mask = bin_count - 1u;

    for (uint64_t tile = blockIdx.x; tile < args.total_tiles; tile += gridDim.x) {
        const uint32_t s = find_segment(tile_starts, args.segment_count, tile);
        const SelectSegment seg = segments[s];
        const uint64_t first = (tile - tile_starts[s]) * kTile;
        const uint64_t end = min(first + kTile, seg.count);
        const void* base = reinterpret_cast<const void*>(seg.base_ptr);
        const void* model = reinterpret_cast<const void*>(seg.model_ptr);
        if (prefix_shift == 31u) {
            // Pass 0 bins by the exponent and 3 mantissa bits, so real deltas crowd a few bins:
            // lanes of a warp with the same bin add once (their leader adds the count). The loop
            // is warp-uniform (tail lanes run with no key) so the match is over the full warp.
            const uint32_t lane = threadIdx.x & 31u;
            for (uint64_t start = first; start < end; start += blockDim.x) {
                const uint64_t i = start + threadIdx.x;
                uint32_t bin = 0xFFFFFFFFu;
                if (i < end) {
                    const float d = __fsub_rn(load_f32(model, seg.model_dtype, i), load_f32(base, seg.base_dtype, i));
                    bin = (magnitude_key(d) >> args.shift) & mask;
                }
                const uint32_t peers = __match_any_sync(0xFFFFFFFFu, bin);
                if (bin != 0xFFFFFFFFu && lane == static_cast<uint32_t>(__ffs(static_cast<int>(peers)) - 1)) {
                    atomicAdd(&bins[bin], static_cast<uint32_t>(__popc(peers)));
                }
            }
        } else {
            for (uint64_t i = first + threadIdx.x; i < end; i += blockDim.x) {
                const float d = __fsub_rn(load_f32(model, seg.model_dtype, i), load_f32(base, seg.base_dtype, i));
                const uint32_t key = magnitude_key(d);
                if ((key >> prefix_shift) == args.prefix) atomicAdd(&bins[(key >> args.shift) & mask], 1u);
            }
        }
    }
    __syncthreads();

    unsigned long long* histogram = reinterpret_cast<unsigned long long*>(args.histogram);
    for (uint32_t b = threadIdx.x; b < bin_count; b += blockDim.x) {
        if (bins[b] != 0u) atomicAdd(&histogram[b], static_cast<unsigned long long>(bins[b]));
    }
}

// linear (§3): out = (Σ_j w_j·x_j) / divisor, products and sum in float32 in input order, then
// one float32 division; the divisor (1 when not normalizing) comes from the host.
// The 16-byte input records are staged in shared memory once per block (the first kLinearStaged;
// any beyond are read from global memory), not re-read for every element.
#include "amalgam.cuh"

using namespace amalgam;

constexpr uint32_t kLinearStaged = 1024;  // 16 KiB of static shared memory

extern "C" __global__ void __launch_bounds__(kBlock) amalgam_linear(const LinearArgs args) {
    __shared__ LinearInput staged[kLinearStaged];
    const LinearInput* inputs = reinterpret_cast<const LinearInput*>(args.inputs);
    const uint32_t staged_count = min(args.input_count, kLinearStaged);
    for (uint32_t k = threadIdx.x; k < staged_count; k += blockDim.x) staged[k] = inputs[k];
    __syncthreads();
    void* out = reinterpret_cast<void*>(args.out_ptr);
    const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
    uint32_t nonfinite = 0;
    for (uint64_t j = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; j < args.count; j += stride) {
        float acc = 0.0f;
        for (uint32_t k = 0; k < args.input_count; ++k) {
            const LinearInput in = k < kLinearStaged ? staged[k] : inputs[k];
            acc = __fadd_rn(acc, __fmul_rn(in.weight, load_f32(reinterpret_cast<const void*>(in.ptr), in.dtype, j)));
        }
        const float stored = store_f32(out, args.out_dtype, j, __fdiv_rn(acc, args.divisor));
        nonfinite += finite_f32(stored) ? 0u : 1u;
    }
    nonfinite = warp_sum(nonfinite);
    if ((threadIdx.x & 31u) == 0 && nonfinite != 0u) {
        atomicAdd(reinterpret_cast<unsigned long long*>(args.counters), static_cast<unsigned long long>(nonfinite));
    }
}

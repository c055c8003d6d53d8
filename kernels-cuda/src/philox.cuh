// Philox4x32-10 and FNV-1a-32 exactly as dev.amalgam.random.Philox4x32 / Fnv1a32 (spec §1.9).
//
// Implementation notes: pure functions of (counter, key), so the DARE mask of element i is the
// same on every device, chunking and order. Usable from device code (nvcc) and from plain host
// C++ (g++), which is how the known-answer test in kernels-cuda/test runs without a GPU.
#pragma once
#include <stdint.h>

#if defined(__CUDACC__)
#define AMALGAM_HD __host__ __device__ __forceinline__
#else
#define AMALGAM_HD inline
#endif

namespace amalgam {

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;

AMALGAM_HD void mul_hi_lo(uint32_t a, uint32_t b, uint32_t& hi, uint32_t& lo) {
#if defined(__CUDA_ARCH__)
    lo = a * b;
    hi = __umulhi(a, b);
#else
    uint64_t p = static_cast<uint64_t>(a) * b;
    hi = static_cast<uint32_t>(p >> 32);
    lo = static_cast<uint32_t>(p);
#endif
}

/** Ten rounds in place on c[0..3] with key (k0, k1). */
AMALGAM_HD void philox4x32_10(uint32_t c[4], uint32_t k0, uint32_t k1) {
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int round = 0; round < 10; ++round) {
        uint32_t hi0, lo0, hi1, lo1;
        mul_hi_lo(kPhiloxM0, c[0], hi0, lo0);
        mul_hi_lo(kPhiloxM1, c[2], hi1, lo1);
        uint32_t n0 = hi1 ^ c[1] ^ k0;
        uint32_t n2 = hi0 ^ c[3] ^ k1;
        c[0] = n0;
        c[1] = lo1;
        c[2] = n2;
        c[3] = lo0;
        k0 += kPhiloxW0;
        k1 += kPhiloxW1;
    }
}

/** Word 0 of the block: what the Bernoulli draws use. */
AMALGAM_HD uint32_t philox_word0(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
    uint32_t c[4] = {c0, c1, c2, c3};
    philox4x32_10(c, k0, k1);
    return c[0];
}

/**
 * DARE keep test of §1.9: counter (i lo, i hi, model index, name hash), key (seed lo, seed hi);
 * keep iff (word0 >> 8) < bound, bound = ceil(p·2^24) computed on the host in double.
 */
AMALGAM_HD bool bernoulli_keep(uint64_t i, uint32_t model_index, uint32_t name_hash, uint32_t seed_lo,
                               uint32_t seed_hi, uint32_t bound) {
    uint32_t w = philox_word0(static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32), model_index, name_hash,
                              seed_lo, seed_hi);
    return (w >> 8) < bound;
}

/** FNV-1a-32 over bytes (the UTF-8 of a tensor name). */
AMALGAM_HD uint32_t fnv1a32(const unsigned char* bytes, uint64_t length) {
    uint32_t h = 0x811C9DC5u;
    for (uint64_t i = 0; i < length; ++i) h = (h ^ bytes[i]) * 0x01000193u;
    return h;
}

}  // namespace amalgam

// The parallel pair ordering of the batched Jacobi SVD (svd.cu), usable from device code and from
// plain host C++ (kernels-cuda/test/svd_schedule_dump.cpp, run by a Java host test that compares it
// with dev.amalgam.cuda.internal.RoundRobin).
//
// Implementation notes. Round-robin ("circle method") over n players, n even: player n−1 stays
// put, the others rotate by one position per step. n−1 steps of n/2 disjoint pairs visit every
// unordered pair exactly once; pair 0 of step s is (s, n−1). Pairs are returned with first < second,
// so a caller that padded an odd count with one dummy player (the last) recognises it as `second`.
#pragma once
#include <stdint.h>

#if defined(__CUDACC__)
#define AMALGAM_SVD_HD __host__ __device__ __forceinline__
#else
#define AMALGAM_SVD_HD inline
#endif

namespace amalgam {

/** Pair k (0 ≤ k < n/2) of step s (0 ≤ s < n−1) for n (even) players: first < second. */
AMALGAM_SVD_HD void round_robin_pair(uint32_t n, uint32_t s, uint32_t k, uint32_t& first, uint32_t& second) {
    const uint32_t m = n - 1;  // players that rotate
    uint32_t a, b;
    if (k == 0) {
        a = s;
        b = m;
    } else {
        a = (s + k) % m;
        b = (s + m - k) % m;
    }
    first = a < b ? a : b;
    second = a < b ? b : a;
}

}  // namespace amalgam

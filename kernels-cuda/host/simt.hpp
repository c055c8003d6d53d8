// A SIMT shim that compiles the kernels of kernels-cuda/src as plain host C++20 (g++ -std=c++20
// -ffp-contract=off), so that they run without a GPU: in the host tests (test/host_kernel_tests.cpp)
// and behind the CPU-backed libcuda stand-in (cuda_emu.cpp).
//
// Implementation notes
// - Every CUDA thread is a "lane" running the kernel function to completion. Two back ends:
//   * fibers (default): the lanes of a block are fibers on one OS thread (a hand-rolled x86-64
//     context switch, ucontext elsewhere), switched only at barriers and warp collectives; blocks
//     run in parallel on a pool of OS threads. __shared__ is `static thread_local`: one copy per
//     OS thread, i.e. per running block.
//   * threads (-DAMALGAM_SIMT_THREADS): one OS thread per CUDA thread, one block at a time, so
//     ThreadSanitizer sees every access between two barriers as concurrent. __shared__ is `static`.
// - __syncthreads is a block barrier that checks what CUDA leaves undefined: every live thread
//   must reach the same barrier (call site); a thread that exits while others wait, a barrier
//   reached after some thread exited, or a wait longer than AMALGAM_SIMT_TIMEOUT_S (default 30 s)
//   aborts the block with a report naming the sites and threads ("divergent __syncthreads").
// - Warp collectives (__shfl*_sync, __ballot_sync) check their mask against the live lanes: each
//   lane in the mask must exist, be live, and call the same collective with the same mask.
// - Atomics go through std::atomic_ref (relaxed, as CUDA's are).
// - Float arithmetic: the _rn intrinsics are the IEEE operations (the build uses -ffp-contract=off
//   so nothing is fused); a NaN result is the GPU's canonical NaN 0x7FFFFFFF, as PTX add/sub/
//   mul/div/fma.f32 return. half/bf16 narrowing is round-to-nearest-even with CUDA's canonical
//   NaN 0x7FFF.
// - What this cannot show: the GPU memory model (only the happens-before that barriers give),
//   warp-synchronous timing, occupancy, registers and performance.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <math.h>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <source_location>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#if !defined(AMALGAM_SIMT_THREADS)
#include <sys/mman.h>
#if !defined(__x86_64__)
#include <ucontext.h>
#endif
#endif

// ---------------------------------------------------------------------------------------------
// Declaration specifiers

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
#if defined(AMALGAM_SIMT_THREADS)
#define __shared__ static
#else
#define __shared__ static thread_local
#endif
/** The one change the sources need: `extern __shared__ T name[]` is spelled through this macro. */
#define AMALGAM_DYNAMIC_SHARED(T, name) T* const name = reinterpret_cast<T*>(::simt::dynamic_shared())

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

struct __attribute__((aligned(16))) float4 {
    float x, y, z, w;
};

namespace simt {

/** A block was aborted: divergence, a bad mask, a timeout (the message says which). */
struct Fault : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Block;

/** One CUDA thread. */
struct Lane {
    dim3 idx;
    unsigned linear = 0;  // x + y·dim.x + z·dim.x·dim.y
    Block* block = nullptr;
    bool done = false;
    const char* waiting = nullptr;  // what it waits at, for reports
#if !defined(AMALGAM_SIMT_THREADS)
    void* sp = nullptr;  // saved stack pointer while switched out
#if !defined(__x86_64__)
    ucontext_t ctx;
#endif
#endif
};

inline std::string site_text(const std::source_location& s) {
    return std::string(s.file_name()) + ":" + std::to_string(s.line());
}

/** Per-warp state of the collective in progress (two value buffers by generation parity). */
struct Warp {
    uint32_t arrived = 0;
    uint32_t mask = 0;
    uint64_t generation = 0;
    const char* site_file = nullptr;
    unsigned site_line = 0;
    uint64_t values[2][32] = {};
#if defined(AMALGAM_SIMT_THREADS)
    std::condition_variable changed;  // per warp: a collective wakes its own lanes only
#endif
};

/** One running block: indices, dynamic shared memory, barrier and warp state. */
struct Block {
    dim3 idx, dim, grid;
    unsigned threads = 0;
    unsigned exited = 0;
    unsigned char* dynamic_shared = nullptr;
    // barrier
    unsigned arrived = 0;
    uint64_t generation = 0;
    const char* site_file = nullptr;
    unsigned site_line = 0;
    int accumulate_or = 0, accumulate_and = 1, accumulate_count = 0;
    int result_or[2] = {}, result_and[2] = {}, result_count[2] = {};
    std::unique_ptr<Warp[]> warps;
    unsigned warp_count = 0;
    std::vector<Lane> lanes;
    std::string fault;  // non-empty once aborted
    uint64_t progress = 0;  // bumped by every arrival, completion and exit (fiber deadlock check)
#if defined(AMALGAM_SIMT_THREADS)
    std::mutex mutex;
    std::condition_variable changed;
#endif
};

// initial-exec (a fast access) only in executables: a dlopen'ed library with an initial-exec
// variable needs its whole TLS segment (the __shared__ arrays) in the static TLS surplus, which
// is far too small ("cannot allocate memory in static TLS block").
#if defined(__GNUC__) && !(defined(__PIC__) && !defined(__PIE__))
#define AMALGAM_SIMT_TLS __attribute__((tls_model("initial-exec")))
#else
#define AMALGAM_SIMT_TLS
#endif
inline thread_local Lane* current_lane AMALGAM_SIMT_TLS = nullptr;

inline Lane& lane_here() {
    Lane* l = current_lane;
    if (l == nullptr) {
        std::fprintf(stderr, "simt: a device function was called outside a kernel launch\n");
        std::abort();
    }
    return *l;
}

inline unsigned char* dynamic_shared() { return lane_here().block->dynamic_shared; }

inline double timeout_seconds() {
    static const double t = [] {
        const char* s = std::getenv("AMALGAM_SIMT_TIMEOUT_S");
        return s != nullptr ? std::atof(s) : 30.0;
    }();
    return t;
}

// ---- waiting: a yield loop (fibers) or a condition variable with a timeout (threads) ----

#if defined(AMALGAM_SIMT_THREADS)
struct Guard {
    std::unique_lock<std::mutex> lock;
    explicit Guard(Block& b) : lock(b.mutex) {}
};

inline void wake_all(Block& b) {
    b.changed.notify_all();
    for (unsigned w = 0; w < b.warp_count; ++w) b.warps[w].changed.notify_all();
}

[[noreturn]] inline void abort_block(Block& b, const std::string& why) {
    if (b.fault.empty()) b.fault = why;
    wake_all(b);
    throw Fault(b.fault);
}

template <class Done>
inline void wait_for(Block& b, std::condition_variable& cv, Guard& g, Lane& me, const char* what, Done done) {
    me.waiting = what;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds());
    while (!done()) {
        if (!b.fault.empty()) throw Fault(b.fault);
        if (cv.wait_until(g.lock, deadline) == std::cv_status::timeout && !done()) {
            std::string who;
            for (const Lane& l : b.lanes) {
                if (!l.done && l.waiting == nullptr) who += " " + std::to_string(l.linear);
            }
            abort_block(b, std::string("divergent ") + what + ": timed out after " + std::to_string(timeout_seconds())
                    + " s; threads not waiting:" + (who.empty() ? " (none: a deadlock)" : who));
        }
    }
    me.waiting = nullptr;
}
#else
struct Guard {
    explicit Guard(Block&) {}
};

[[noreturn]] inline void abort_block(Block& b, const std::string& why) {
    if (b.fault.empty()) b.fault = why;
    throw Fault(b.fault);
}

void yield_to_scheduler(Lane& me);

template <class Done>
inline void wait_for(Block& b, int, Guard&, Lane& me, const char* what, Done done) {
    me.waiting = what;
    while (!done()) {
        yield_to_scheduler(me);
        if (!b.fault.empty()) throw Fault(b.fault);
    }
    me.waiting = nullptr;
}
#endif

// ---- the block barrier ----

/** __syncthreads and its _or/_and/_count forms; returns {or, and, count} of pred over the block. */
inline void barrier(int pred, int* out_or, int* out_and, int* out_count, const std::source_location& site) {
    Lane& me = lane_here();
    Block& b = *me.block;
    Guard g(b);
    if (!b.fault.empty()) throw Fault(b.fault);
    if (b.exited != 0) {
        abort_block(b, "divergent __syncthreads at " + site_text(site) + ": thread " + std::to_string(me.linear)
                + " reached it after " + std::to_string(b.exited) + " thread(s) of the block exited");
    }
    if (b.arrived == 0) {
        b.site_file = site.file_name();
        b.site_line = site.line();
        b.accumulate_or = 0;
        b.accumulate_and = 1;
        b.accumulate_count = 0;
    } else if (b.site_line != site.line() || std::strcmp(b.site_file, site.file_name()) != 0) {
        abort_block(b, "divergent __syncthreads: thread " + std::to_string(me.linear) + " at " + site_text(site)
                + " while " + std::to_string(b.arrived) + " thread(s) wait at " + b.site_file + ":"
                + std::to_string(b.site_line));
    }
    b.accumulate_or |= pred != 0;
    b.accumulate_and &= pred != 0;
    b.accumulate_count += pred != 0;
    const uint64_t gen = b.generation;
    ++b.progress;
    if (++b.arrived == b.threads) {
        b.result_or[gen & 1] = b.accumulate_or;
        b.result_and[gen & 1] = b.accumulate_and;
        b.result_count[gen & 1] = b.accumulate_count;
        b.arrived = 0;
        ++b.generation;
#if defined(AMALGAM_SIMT_THREADS)
        b.changed.notify_all();
#endif
    } else {
#if defined(AMALGAM_SIMT_THREADS)
        wait_for(b, b.changed, g, me, "__syncthreads", [&] { return b.generation != gen; });
#else
        wait_for(b, 0, g, me, "__syncthreads", [&] { return b.generation != gen; });
#endif
    }
    if (out_or) *out_or = b.result_or[gen & 1];
    if (out_and) *out_and = b.result_and[gen & 1];
    if (out_count) *out_count = b.result_count[gen & 1];
}

/** A lane finished the kernel; others waiting at a barrier or collective would never be released. */
inline void lane_exit(Lane& me) {
    Block& b = *me.block;
    Guard g(b);
    me.done = true;
    ++b.exited;
    ++b.progress;
    if (!b.fault.empty()) return;
    if (b.arrived != 0) {
        b.fault = "divergent __syncthreads at " + std::string(b.site_file) + ":" + std::to_string(b.site_line)
                + ": thread " + std::to_string(me.linear) + " exited while " + std::to_string(b.arrived)
                + " thread(s) wait there";
    }
    const Warp& w = b.warps[me.linear / 32];
    if (b.fault.empty() && w.arrived != 0 && (w.mask >> (me.linear % 32) & 1u)) {
        b.fault = "warp collective at " + std::string(w.site_file) + ":" + std::to_string(w.site_line) + ": lane "
                + std::to_string(me.linear % 32) + " of warp " + std::to_string(me.linear / 32)
                + " is in the mask but exited";
    }
#if defined(AMALGAM_SIMT_THREADS)
    if (!b.fault.empty()) wake_all(b);
#endif
}

// ---- warp collectives ----

/** Deposits `value` for the collective at `site` and returns all lanes' values once the mask has arrived. */
inline const uint64_t* warp_exchange(uint32_t mask, uint64_t value, const char* what, const std::source_location& site) {
    Lane& me = lane_here();
    Block& b = *me.block;
    Guard g(b);
    if (!b.fault.empty()) throw Fault(b.fault);
    const unsigned lane = me.linear % 32, warp = me.linear / 32;
    Warp& w = b.warps[warp];
    const unsigned first = warp * 32;
    const unsigned in_warp = std::min(32u, b.threads - first);
    const uint32_t existing = in_warp == 32 ? 0xFFFFFFFFu : ((1u << in_warp) - 1u);
    auto where = [&] { return std::string(what) + " at " + site_text(site) + " (warp " + std::to_string(warp) + ")"; };
    if (!(mask >> lane & 1u)) abort_block(b, where() + ": calling lane " + std::to_string(lane) + " is not in mask");
    if ((mask & ~existing) != 0u) {
        abort_block(b, where() + ": mask names lanes that do not exist (block of " + std::to_string(b.threads) + " threads)");
    }
    for (unsigned l = 0; l < 32; ++l) {
        if ((mask >> l & 1u) && b.lanes[first + l].done) {
            abort_block(b, where() + ": mask names lane " + std::to_string(l) + ", which exited");
        }
    }
    if (w.arrived == 0) {
        w.mask = mask;
        w.site_file = site.file_name();
        w.site_line = site.line();
    } else if (w.mask != mask || w.site_line != site.line() || std::strcmp(w.site_file, site.file_name()) != 0) {
        abort_block(b, where() + ": lane " + std::to_string(lane) + " does not match the collective at "
                + w.site_file + ":" + std::to_string(w.site_line) + " that other lanes wait in (mask "
                + std::to_string(w.mask) + " vs " + std::to_string(mask) + ")");
    }
    const uint64_t gen = w.generation;
    w.values[gen & 1][lane] = value;
    w.arrived |= 1u << lane;
    ++b.progress;
    if (w.arrived == mask) {
        w.arrived = 0;
        ++w.generation;
#if defined(AMALGAM_SIMT_THREADS)
        w.changed.notify_all();
#endif
    } else {
#if defined(AMALGAM_SIMT_THREADS)
        wait_for(b, w.changed, g, me, what, [&] { return w.generation != gen; });
#else
        wait_for(b, 0, g, me, what, [&] { return w.generation != gen; });
#endif
    }
    return w.values[gen & 1];
}

template <class T>
inline uint64_t to_bits(T v) {
    static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>);
    uint64_t u = 0;
    std::memcpy(&u, &v, sizeof(T));
    return u;
}

template <class T>
inline T from_bits(uint64_t u) {
    T v;
    std::memcpy(&v, &u, sizeof(T));
    return v;
}

// ---- running a grid ----

/** A kernel entry: copies the argument struct and calls the kernel (one call per CUDA thread). */
using Entry = void (*)(const void* arguments);

struct LaunchShape {
    dim3 grid, block;
    size_t dynamic_shared_bytes = 0;
};

void run_grid(Entry entry, const void* arguments, const LaunchShape& shape);

}  // namespace simt

#define threadIdx (::simt::lane_here().idx)
#define blockIdx (::simt::lane_here().block->idx)
#define blockDim (::simt::lane_here().block->dim)
#define gridDim (::simt::lane_here().block->grid)

// ---------------------------------------------------------------------------------------------
// Barriers and warp intrinsics

inline void __syncthreads(const std::source_location site = std::source_location::current()) {
    simt::barrier(0, nullptr, nullptr, nullptr, site);
}

inline int __syncthreads_or(int pred, const std::source_location site = std::source_location::current()) {
    int r = 0;
    simt::barrier(pred, &r, nullptr, nullptr, site);
    return r;
}

inline int __syncthreads_and(int pred, const std::source_location site = std::source_location::current()) {
    int r = 0;
    simt::barrier(pred, nullptr, &r, nullptr, site);
    return r;
}

inline int __syncthreads_count(int pred, const std::source_location site = std::source_location::current()) {
    int r = 0;
    simt::barrier(pred, nullptr, nullptr, &r, site);
    return r;
}

inline unsigned __ballot_sync(unsigned mask, int pred, const std::source_location site = std::source_location::current()) {
    const uint64_t* v = simt::warp_exchange(mask, pred != 0 ? 1u : 0u, "__ballot_sync", site);
    unsigned bits = 0;
    for (unsigned l = 0; l < 32; ++l) {
        if ((mask >> l & 1u) && v[l] != 0) bits |= 1u << l;
    }
    return bits;
}

template <class T>
inline T __shfl_sync(unsigned mask, T var, int src, int width = 32,
                     const std::source_location site = std::source_location::current()) {
    const unsigned lane = ::simt::lane_here().linear % 32;
    const uint64_t* v = simt::warp_exchange(mask, simt::to_bits(var), "__shfl_sync", site);
    const unsigned from = (lane / width) * width + (static_cast<unsigned>(src) % width);
    if (!(mask >> from & 1u)) {
        simt::abort_block(*::simt::lane_here().block, "__shfl_sync at " + simt::site_text(site) + ": source lane "
                + std::to_string(from) + " is not in the mask");
    }
    return simt::from_bits<T>(v[from]);
}

template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = 32,
                          const std::source_location site = std::source_location::current()) {
    const unsigned lane = ::simt::lane_here().linear % 32;
    const uint64_t* v = simt::warp_exchange(mask, simt::to_bits(var), "__shfl_down_sync", site);
    const unsigned from = lane + delta;
    if ((from % 32) / width != (lane % 32) / width || from >= 32) return var;  // out of the segment: own value
    if (!(mask >> from & 1u)) {
        simt::abort_block(*::simt::lane_here().block, "__shfl_down_sync at " + simt::site_text(site)
                + ": source lane " + std::to_string(from) + " is not in the mask");
    }
    return simt::from_bits<T>(v[from]);
}

template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = 32,
                         const std::source_location site = std::source_location::current()) {
    const unsigned lane = ::simt::lane_here().linear % 32;
    const uint64_t* v = simt::warp_exchange(mask, simt::to_bits(var), "__shfl_xor_sync", site);
    const unsigned from = lane ^ static_cast<unsigned>(lane_mask);
    if (from >= 32 || from / width != lane / width) return var;
    if (!(mask >> from & 1u)) {
        simt::abort_block(*::simt::lane_here().block, "__shfl_xor_sync at " + simt::site_text(site)
                + ": source lane " + std::to_string(from) + " is not in the mask");
    }
    return simt::from_bits<T>(v[from]);
}

template <class T>
inline unsigned __match_any_sync(unsigned mask, T value, const std::source_location site = std::source_location::current()) {
    const unsigned lane = ::simt::lane_here().linear % 32;
    const uint64_t* v = simt::warp_exchange(mask, simt::to_bits(value), "__match_any_sync", site);
    unsigned peers = 0;
    for (unsigned l = 0; l < 32; ++l) {
        if ((mask >> l & 1u) && v[l] == v[lane]) peers |= 1u << l;
    }
    return peers;
}

inline int __ffs(int x) { return x == 0 ? 0 : std::countr_zero(static_cast<unsigned>(x)) + 1; }

inline int __popc(unsigned x) { return std::popcount(x); }
inline int __popcll(unsigned long long x) { return std::popcount(x); }

// ---------------------------------------------------------------------------------------------
// Atomics (device scope, relaxed)

template <class T, class U>
inline T atomicAdd(T* p, U v) {
    return std::atomic_ref<T>(*p).fetch_add(static_cast<T>(v), std::memory_order_relaxed);
}

template <class T, class U>
inline T atomicMax(T* p, U v) {
    std::atomic_ref<T> a(*p);
    T old = a.load(std::memory_order_relaxed);
    const T x = static_cast<T>(v);
    while (old < x && !a.compare_exchange_weak(old, x, std::memory_order_relaxed)) {
    }
    return old;
}

template <class T, class U>
inline T atomicMin(T* p, U v) {
    std::atomic_ref<T> a(*p);
    T old = a.load(std::memory_order_relaxed);
    const T x = static_cast<T>(v);
    while (old > x && !a.compare_exchange_weak(old, x, std::memory_order_relaxed)) {
    }
    return old;
}

template <class T, class U>
inline T atomicOr(T* p, U v) {
    return std::atomic_ref<T>(*p).fetch_or(static_cast<T>(v), std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------------
// Loads, bit casts, math

template <class T>
inline T __ldg(const T* p) {
    return *p;
}

inline unsigned __float_as_uint(float x) { return std::bit_cast<unsigned>(x); }
inline float __uint_as_float(unsigned x) { return std::bit_cast<float>(x); }
inline int __float_as_int(float x) { return std::bit_cast<int>(x); }
inline float __int_as_float(int x) { return std::bit_cast<float>(x); }

namespace simt {
/** The GPU's float32 NaN (PTX arithmetic does not propagate payloads). */
inline float canonical(float x) { return std::isnan(x) ? std::bit_cast<float>(0x7FFFFFFFu) : x; }
}  // namespace simt

inline float __fadd_rn(float a, float b) { return simt::canonical(a + b); }
inline float __fsub_rn(float a, float b) { return simt::canonical(a - b); }
inline float __fmul_rn(float a, float b) { return simt::canonical(a * b); }
inline float __fdiv_rn(float a, float b) { return simt::canonical(a / b); }
inline float __fmaf_rn(float a, float b, float c) { return simt::canonical(std::fma(a, b, c)); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __double2float_rn(double x) { return simt::canonical(static_cast<float>(x)); }
/** Rounds up (toward +∞): the nearest float, moved up one ulp when it lies below x. */
inline float __double2float_ru(double x) {
    float f = static_cast<float>(x);
    if (std::isnan(x)) return simt::canonical(f);
    if (static_cast<double>(f) < x) f = std::nextafter(f, INFINITY);
    return f;
}
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }

using std::copysign;
using std::fabs;
using std::fma;
using std::fmaxf;
using std::fminf;
using std::ldexp;
using std::sqrt;

// CUDA's min/max overloads for integers of one type (the sources mix a constexpr and a variable).
template <class A, class B, class = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> min(A a, B b) {
    using C = std::common_type_t<A, B>;
    return static_cast<C>(a) < static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}
template <class A, class B, class = std::enable_if_t<std::is_arithmetic_v<A> && std::is_arithmetic_v<B>>>
inline std::common_type_t<A, B> max(A a, B b) {
    using C = std::common_type_t<A, B>;
    return static_cast<C>(a) > static_cast<C>(b) ? static_cast<C>(a) : static_cast<C>(b);
}

// ---------------------------------------------------------------------------------------------
// half and bfloat16 (cuda_fp16.h / cuda_bf16.h): storage types with exact widening and
// round-to-nearest-even narrowing

struct __half {
    unsigned short bits;
};
struct __nv_bfloat16 {
    unsigned short bits;
};

inline __half __ushort_as_half(unsigned short b) { return __half{b}; }
inline unsigned short __half_as_ushort(__half h) { return h.bits; }

inline float __half2float(__half h) {
    const uint32_t sign = static_cast<uint32_t>(h.bits & 0x8000u) << 16;
    const uint32_t exp = (h.bits >> 10) & 0x1Fu;
    uint32_t mant = h.bits & 0x3FFu;
    if (exp == 0x1Fu) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13) | (mant != 0 ? 0x400000u : 0u));
    if (exp == 0) {
        if (mant == 0) return std::bit_cast<float>(sign);
        const float v = static_cast<float>(mant) * 0x1p-24f;  // exact
        return sign != 0 ? -v : v;
    }
    return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
}

inline __half __float2half_rn(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t a = x & 0x7FFFFFFFu;
    if (a > 0x7F800000u) return __half{0x7FFFu};                            // NaN: CUDA's canonical
    if (a >= 0x477FF000u) return __half{static_cast<unsigned short>(sign | 0x7C00u)};  // ≥ 65520 → ∞
    if (a < 0x38800000u) {                                                  // half subnormal or zero
        const double scaled = static_cast<double>(std::bit_cast<float>(a)) * 16777216.0;  // exact
        return __half{static_cast<unsigned short>(sign | static_cast<uint16_t>(std::nearbyint(scaled)))};
    }
    const uint32_t r = a - 0x38000000u;  // rebias 127 → 15
    return __half{static_cast<unsigned short>(sign | ((r + 0xFFFu + ((r >> 13) & 1u)) >> 13))};
}

inline float __bfloat162float(__nv_bfloat16 h) { return std::bit_cast<float>(static_cast<uint32_t>(h.bits) << 16); }

inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    const uint32_t x = std::bit_cast<uint32_t>(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) return __nv_bfloat16{0x7FFFu};  // NaN: CUDA's canonical
    return __nv_bfloat16{static_cast<unsigned short>((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16)};
}

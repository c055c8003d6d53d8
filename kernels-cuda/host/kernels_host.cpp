// The kernels of kernels-cuda/src compiled for the host through the SIMT shim, and the table
// that finds them by name (what cuModuleGetFunction resolves against in the libcuda stand-in).
#include "kernels_host.hpp"

#include "simt_runtime.hpp"
#include "../src/amalgam_kernels.cu"

namespace {

template <class Args, void (*Kernel)(Args)>
void entry(const void* arguments) {
    Args a;
    std::memcpy(static_cast<void*>(&a), arguments, sizeof(Args));
    Kernel(a);
}

template <class Args>
constexpr size_t argument_bytes(void (*)(Args)) {
    return sizeof(Args);
}

template <class Args>
constexpr simt::Entry entry_of(void (*)(Args));

#define AMALGAM_KERNEL(name) \
    simt::HostKernel{#name, &entry<std::remove_cv_t<decltype(argument_type(&name))>, &name>, argument_bytes(&name)}

template <class Args>
Args argument_type(void (*)(Args));

const simt::HostKernel kKernels[] = {
    AMALGAM_KERNEL(amalgam_magnitude_histogram),
    AMALGAM_KERNEL(amalgam_gta_stats),
    AMALGAM_KERNEL(amalgam_finite_scan),
    AMALGAM_KERNEL(amalgam_gta_merge),
    AMALGAM_KERNEL(amalgam_linear),
    AMALGAM_KERNEL(amalgam_svd_scan),
    AMALGAM_KERNEL(amalgam_svd_prepare),
    AMALGAM_KERNEL(amalgam_svd_identity),
    AMALGAM_KERNEL(amalgam_svd_jacobi_shared),
    AMALGAM_KERNEL(amalgam_svd_block_step),
    AMALGAM_KERNEL(amalgam_svd_sweep_end),
    AMALGAM_KERNEL(amalgam_svd_normalize),
    AMALGAM_KERNEL(amalgam_svd_order),
    AMALGAM_KERNEL(amalgam_svd_emit),
    AMALGAM_KERNEL(amalgam_sgemm),
};

}  // namespace

namespace simt {

const HostKernel* find_kernel(const char* name) {
    for (const HostKernel& k : kKernels) {
        if (std::strcmp(k.name, name) == 0) return &k;
    }
    return nullptr;
}

size_t kernel_count() { return sizeof(kKernels) / sizeof(kKernels[0]); }

const HostKernel& kernel_at(size_t i) { return kKernels[i]; }

void launch(const HostKernel& k, dim3 grid, dim3 block, size_t dynamic_shared_bytes, const void* arguments) {
    run_grid(k.entry, arguments, LaunchShape{grid, block, dynamic_shared_bytes});
}

}  // namespace simt

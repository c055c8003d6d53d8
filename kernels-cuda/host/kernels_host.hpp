// The host-compiled kernels by name (kernels_host.cpp): what the libcuda stand-in and the host
// tests launch. Launches throw simt::Fault on a divergent barrier or a bad warp mask.
#pragma once
#include <cstddef>

namespace simt {

using Entry = void (*)(const void* arguments);

struct HostKernel {
    const char* name;
    Entry entry;            // one CUDA thread: copies the argument struct and runs the kernel
    size_t argument_bytes;  // sizeof the kernel's one by-value struct
};

const HostKernel* find_kernel(const char* name);
size_t kernel_count();
const HostKernel& kernel_at(size_t i);

}  // namespace simt

struct dim3;
namespace simt {
void launch(const HostKernel& k, dim3 grid, dim3 block, size_t dynamic_shared_bytes, const void* arguments);
}

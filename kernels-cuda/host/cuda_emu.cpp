// A CPU-backed stand-in for libcuda.so.1: the driver entry points Amalgam's Panama bindings
// (dev.amalgam.cuda.internal.PanamaCudaDriver, KernelAttributes) and JCuda's driver binding call,
// over host memory, with the kernels of kernels-cuda/src compiled for the host (kernels_host.cpp).
// Built as libamalgam-cuda-emu.so with SONAME libcuda.so.1, loaded by PanamaCudaDriver.load(Path).
//
// Implementation notes
// - One device ("Amalgam CUDA emulator"), compute capability 9.0, AMALGAM_CUDA_EMU_MEMORY bytes
//   (default 4 GiB) of "device" memory, which is host memory (malloc). Device pointers are host
//   addresses; allocations are tracked for cuPointerGetAttribute and the memory budget.
// - Streams: each stream (and the default stream 0) has a worker thread that runs its queued work
//   in order: copies, memsets, event records, event waits, kernel launches. Async copies between
//   pinned host memory (cuMemAllocHost) and the device are deferred like on a GPU, so a host that
//   reuses a staging buffer before its copy ran sees the same corruption it would on a GPU; copies
//   from or to pageable host memory finish before the call returns, as CUDA's do.
// - cuModuleLoadData accepts a fatbin (magic 0xBA55ED50) and resolves cuModuleGetFunction against
//   the host-compiled kernels by name. cuLaunchKernel copies the one by-value argument struct
//   (params[0]) at launch time, checks block and dynamic shared memory limits (48 KiB unless
//   raised with cuFuncSetAttribute), and runs the grid through the SIMT shim on the stream's turn.
// - A kernel fault (divergent barrier, bad warp mask) makes the context's error sticky:
//   CUDA_ERROR_LAUNCH_FAILED from the next synchronizing call, and cuGetErrorString describes the
//   fault (kernel name and the shim's report) — released when the primary context's last
//   reference goes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kernels_host.hpp"
#include "simt.hpp"

namespace {

enum : int {
    SUCCESS = 0,
    INVALID_VALUE = 1,
    OUT_OF_MEMORY = 2,
    NOT_INITIALIZED = 3,
    INVALID_DEVICE = 101,
    INVALID_IMAGE = 200,
    INVALID_CONTEXT = 201,
    INVALID_HANDLE = 400,
    NOT_FOUND = 500,
    NOT_READY = 600,
    LAUNCH_OUT_OF_RESOURCES = 701,
    LAUNCH_FAILED = 719,
    NOT_SUPPORTED = 801,
};

constexpr size_t kDefaultShared = 48 * 1024;
constexpr size_t kOptinShared = 227 * 1024;

struct Emulator;
Emulator& emu();

struct Event {
    unsigned flags = 0;
    std::mutex m;
    std::condition_variable cv;
    uint64_t recorded = 0;   // records issued
    uint64_t completed = 0;  // records executed
    std::chrono::steady_clock::time_point when;
};

/** An in-order work queue with its own thread. */
struct Stream {
    std::mutex m;
    std::condition_variable cv, idle;
    std::deque<std::function<void()>> queue;
    bool running = false, stop = false;
    std::thread worker;

    Stream() : worker([this] { loop(); }) {}

    ~Stream() {
        {
            std::lock_guard<std::mutex> g(m);
            stop = true;
        }
        cv.notify_all();
        worker.join();
    }

    void push(std::function<void()> work) {
        {
            std::lock_guard<std::mutex> g(m);
            queue.push_back(std::move(work));
        }
        cv.notify_all();
    }

    void drain() {
        std::unique_lock<std::mutex> g(m);
        idle.wait(g, [&] { return queue.empty() && !running; });
    }

    void loop() {
        for (;;) {
            std::function<void()> work;
            {
                std::unique_lock<std::mutex> g(m);
                cv.wait(g, [&] { return stop || !queue.empty(); });
                if (queue.empty()) return;
                work = std::move(queue.front());
                queue.pop_front();
                running = true;
            }
            work();
            {
                std::lock_guard<std::mutex> g(m);
                running = false;
            }
            idle.notify_all();
        }
    }
};

struct Function {
    const simt::HostKernel* kernel;
    size_t max_dynamic_shared = kDefaultShared;
};

struct Module {
    std::map<std::string, std::unique_ptr<Function>> functions;
};

struct Context {
    int refs = 0;
};

struct Emulator {
    std::mutex m;
    bool initialized = false;
    Context primary;
    size_t total = 0, used = 0;
    std::map<uintptr_t, size_t> device;  // allocation start → bytes
    std::map<uintptr_t, size_t> pinned;
    std::set<Stream*> streams;
    std::set<Event*> events;
    std::set<Module*> modules;
    Stream* legacy = nullptr;  // stream 0
    std::string fault;         // sticky launch failure
    int fault_code = SUCCESS;

    Emulator() {
        const char* mem = std::getenv("AMALGAM_CUDA_EMU_MEMORY");
        total = mem != nullptr ? std::strtoull(mem, nullptr, 10) : (size_t{4} << 30);
    }

    Stream* stream(void* handle) {
        if (handle == nullptr) {
            std::lock_guard<std::mutex> g(m);
            if (legacy == nullptr) legacy = new Stream();  // never destroyed: may be busy at exit
            return legacy;
        }
        return static_cast<Stream*>(handle);
    }

    bool is_pinned(const void* p) {
        std::lock_guard<std::mutex> g(m);
        auto it = pinned.upper_bound(reinterpret_cast<uintptr_t>(p));
        if (it == pinned.begin()) return false;
        --it;
        return reinterpret_cast<uintptr_t>(p) < it->first + it->second;
    }

    int sticky() {
        std::lock_guard<std::mutex> g(m);
        return fault_code;
    }

    void fail(const std::string& what) {
        std::fprintf(stderr, "[amalgam cuda-emu] %s\n", what.c_str());
        std::lock_guard<std::mutex> g(m);
        if (fault_code == SUCCESS) {
            fault_code = LAUNCH_FAILED;
            fault = what;
        }
    }
};

Emulator& emu() {
    static Emulator* e = new Emulator();  // never destroyed: stream threads may outlive main's statics
    return *e;
}

thread_local Context* current_context = nullptr;

int attribute_value(int attribute, int* value) {
    switch (attribute) {
        case 1: *value = 1024; return SUCCESS;                     // MAX_THREADS_PER_BLOCK
        case 2: case 3: *value = 1024; return SUCCESS;             // MAX_BLOCK_DIM_X, Y
        case 4: *value = 64; return SUCCESS;                       // MAX_BLOCK_DIM_Z
        case 5: *value = 0x7FFFFFFF; return SUCCESS;               // MAX_GRID_DIM_X
        case 6: case 7: *value = 65535; return SUCCESS;            // MAX_GRID_DIM_Y, Z
        case 8: *value = static_cast<int>(kDefaultShared); return SUCCESS;  // MAX_SHARED_MEMORY_PER_BLOCK
        case 10: *value = 32; return SUCCESS;                      // WARP_SIZE
        case 16: *value = static_cast<int>(std::max(2u, std::thread::hardware_concurrency())); return SUCCESS;
        case 75: *value = 9; return SUCCESS;                       // COMPUTE_CAPABILITY_MAJOR
        case 76: *value = 0; return SUCCESS;                       // COMPUTE_CAPABILITY_MINOR
        case 97: *value = static_cast<int>(kOptinShared); return SUCCESS;  // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
        default: *value = 0; return SUCCESS;
    }
}

bool valid_stream(void* s) {
    if (s == nullptr) return true;
    std::lock_guard<std::mutex> g(emu().m);
    return emu().streams.count(static_cast<Stream*>(s)) != 0;
}

/** Runs work on the stream in order; pageable host memory makes the call wait for it. */
int enqueue(void* stream, std::function<void()> work, bool wait) {
    if (!valid_stream(stream)) return INVALID_HANDLE;
    Stream* s = emu().stream(stream);
    s->push(std::move(work));
    if (wait) s->drain();
    return SUCCESS;
}

const char* error_name(int r) {
    switch (r) {
        case SUCCESS: return "CUDA_SUCCESS";
        case INVALID_VALUE: return "CUDA_ERROR_INVALID_VALUE";
        case OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
        case NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
        case INVALID_DEVICE: return "CUDA_ERROR_INVALID_DEVICE";
        case INVALID_IMAGE: return "CUDA_ERROR_INVALID_IMAGE";
        case INVALID_CONTEXT: return "CUDA_ERROR_INVALID_CONTEXT";
        case INVALID_HANDLE: return "CUDA_ERROR_INVALID_HANDLE";
        case NOT_FOUND: return "CUDA_ERROR_NOT_FOUND";
        case NOT_READY: return "CUDA_ERROR_NOT_READY";
        case LAUNCH_OUT_OF_RESOURCES: return "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
        case LAUNCH_FAILED: return "CUDA_ERROR_LAUNCH_FAILED";
        case NOT_SUPPORTED: return "CUDA_ERROR_NOT_SUPPORTED";
        default: return nullptr;
    }
}

const char* error_text(int r) {
    switch (r) {
        case SUCCESS: return "no error";
        case INVALID_VALUE: return "invalid argument";
        case OUT_OF_MEMORY: return "out of memory";
        case NOT_INITIALIZED: return "initialization error";
        case INVALID_DEVICE: return "invalid device ordinal";
        case INVALID_IMAGE: return "device kernel image is invalid";
        case INVALID_CONTEXT: return "invalid device context";
        case INVALID_HANDLE: return "invalid resource handle";
        case NOT_FOUND: return "named symbol not found";
        case NOT_READY: return "device not ready";
        case LAUNCH_OUT_OF_RESOURCES: return "too many resources requested for launch";
        case LAUNCH_FAILED: {
            // the fault text lives until the context is released; a copy per thread keeps it stable
            thread_local std::string text;
            std::lock_guard<std::mutex> g(emu().m);
            text = "unspecified launch failure (emulator: " + (emu().fault.empty() ? std::string("no detail") : emu().fault) + ")";
            return text.c_str();
        }
        case NOT_SUPPORTED: return "operation not supported";
        default: return nullptr;
    }
}

}  // namespace

#define API extern "C" __attribute__((visibility("default"))) int
#define NEEDS_INIT \
    do {                                                       \
        if (!emu().initialized) return NOT_INITIALIZED;        \
    } while (0)

using CUdeviceptr = unsigned long long;

API cuInit(unsigned flags) {
    if (flags != 0) return INVALID_VALUE;
    emu().initialized = true;
    return SUCCESS;
}

API cuDriverGetVersion(int* v) {
    if (v == nullptr) return INVALID_VALUE;
    *v = 13000;
    return SUCCESS;
}

API cuDeviceGetCount(int* n) {
    NEEDS_INIT;
    if (n == nullptr) return INVALID_VALUE;
    *n = 1;
    return SUCCESS;
}

API cuDeviceGet(int* d, int ordinal) {
    NEEDS_INIT;
    if (d == nullptr) return INVALID_VALUE;
    if (ordinal != 0) return INVALID_DEVICE;
    *d = 0;
    return SUCCESS;
}

API cuDeviceGetName(char* name, int len, int dev) {
    NEEDS_INIT;
    if (dev != 0) return INVALID_DEVICE;
    if (name == nullptr || len <= 0) return INVALID_VALUE;
    std::snprintf(name, static_cast<size_t>(len), "Amalgam CUDA emulator (host CPU)");
    return SUCCESS;
}

API cuDeviceGetAttribute(int* v, int attribute, int dev) {
    NEEDS_INIT;
    if (dev != 0) return INVALID_DEVICE;
    if (v == nullptr) return INVALID_VALUE;
    return attribute_value(attribute, v);
}

API cuDeviceTotalMem_v2(size_t* bytes, int dev) {
    NEEDS_INIT;
    if (dev != 0) return INVALID_DEVICE;
    *bytes = emu().total;
    return SUCCESS;
}

API cuDevicePrimaryCtxRetain(void** c, int dev) {
    NEEDS_INIT;
    if (dev != 0) return INVALID_DEVICE;
    std::lock_guard<std::mutex> g(emu().m);
    ++emu().primary.refs;
    *c = &emu().primary;
    return SUCCESS;
}

API cuDevicePrimaryCtxRelease_v2(int dev) {
    NEEDS_INIT;
    if (dev != 0) return INVALID_DEVICE;
    std::lock_guard<std::mutex> g(emu().m);
    if (emu().primary.refs == 0) return INVALID_CONTEXT;
    if (--emu().primary.refs == 0) {
        emu().fault.clear();
        emu().fault_code = SUCCESS;
    }
    return SUCCESS;
}

API cuCtxCreate_v2(void** c, unsigned /*flags*/, int dev) {
    NEEDS_INIT;
    if (dev != 0) return INVALID_DEVICE;
    Context* ctx = new Context();
    ctx->refs = 1;
    *c = ctx;
    current_context = ctx;
    return SUCCESS;
}

API cuCtxDestroy_v2(void* c) {
    if (c == nullptr || c == &emu().primary) return INVALID_CONTEXT;
    if (current_context == c) current_context = nullptr;
    delete static_cast<Context*>(c);
    return SUCCESS;
}

API cuCtxSetCurrent(void* c) {
    NEEDS_INIT;
    current_context = static_cast<Context*>(c);
    return SUCCESS;
}

API cuCtxGetCurrent(void** c) {
    NEEDS_INIT;
    *c = current_context;
    return SUCCESS;
}

API cuCtxGetDevice(int* d) {
    NEEDS_INIT;
    if (current_context == nullptr) return INVALID_CONTEXT;
    *d = 0;
    return SUCCESS;
}

API cuCtxSynchronize() {
    NEEDS_INIT;
    std::vector<Stream*> all;
    {
        std::lock_guard<std::mutex> g(emu().m);
        all.assign(emu().streams.begin(), emu().streams.end());
    }
    emu().stream(nullptr)->drain();
    for (Stream* s : all) s->drain();
    return emu().sticky();
}

API cuModuleLoadData(void** module, const void* image) {
    NEEDS_INIT;
    if (current_context == nullptr) return INVALID_CONTEXT;
    if (module == nullptr || image == nullptr) return INVALID_VALUE;
    uint32_t magic;
    std::memcpy(&magic, image, 4);
    if (magic != 0xBA55ED50u) return INVALID_IMAGE;  // not a fatbin
    Module* m = new Module();
    for (size_t i = 0; i < simt::kernel_count(); ++i) {
        const simt::HostKernel& k = simt::kernel_at(i);
        m->functions[k.name] = std::make_unique<Function>(Function{&k});
    }
    std::lock_guard<std::mutex> g(emu().m);
    emu().modules.insert(m);
    *module = m;
    return SUCCESS;
}

API cuModuleGetFunction(void** function, void* module, const char* name) {
    NEEDS_INIT;
    Module* m = static_cast<Module*>(module);
    {
        std::lock_guard<std::mutex> g(emu().m);
        if (emu().modules.count(m) == 0) return INVALID_HANDLE;
    }
    auto it = m->functions.find(name);
    if (it == m->functions.end()) return NOT_FOUND;
    *function = it->second.get();
    return SUCCESS;
}

API cuModuleUnload(void* module) {
    NEEDS_INIT;
    Module* m = static_cast<Module*>(module);
    {
        std::lock_guard<std::mutex> g(emu().m);
        if (emu().modules.erase(m) == 0) return INVALID_HANDLE;
    }
    delete m;
    return SUCCESS;
}

API cuFuncSetAttribute(void* function, int attribute, int value) {
    NEEDS_INIT;
    Function* f = static_cast<Function*>(function);
    if (f == nullptr) return INVALID_HANDLE;
    if (attribute != 8) return NOT_SUPPORTED;  // only MAX_DYNAMIC_SHARED_SIZE_BYTES
    if (value < 0 || static_cast<size_t>(value) > kOptinShared) return INVALID_VALUE;
    f->max_dynamic_shared = static_cast<size_t>(value);
    return SUCCESS;
}

API cuFuncGetAttribute(int* value, int attribute, void* function) {
    NEEDS_INIT;
    Function* f = static_cast<Function*>(function);
    if (f == nullptr || value == nullptr) return INVALID_VALUE;
    switch (attribute) {
        case 0: *value = 1024; return SUCCESS;  // MAX_THREADS_PER_BLOCK
        case 8: *value = static_cast<int>(f->max_dynamic_shared); return SUCCESS;
        default: *value = 0; return SUCCESS;
    }
}

API cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) {
    NEEDS_INIT;
    if (current_context == nullptr) return INVALID_CONTEXT;
    if (p == nullptr || bytes == 0) return INVALID_VALUE;
    Emulator& e = emu();
    std::lock_guard<std::mutex> g(e.m);
    if (bytes > e.total - e.used) return OUT_OF_MEMORY;
    void* mem = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (mem == nullptr) return OUT_OF_MEMORY;
    e.used += bytes;
    e.device[reinterpret_cast<uintptr_t>(mem)] = bytes;
    *p = reinterpret_cast<CUdeviceptr>(mem);
    return SUCCESS;
}

API cuMemFree_v2(CUdeviceptr p) {
    NEEDS_INIT;
    if (p == 0) return SUCCESS;
    Emulator& e = emu();
    std::lock_guard<std::mutex> g(e.m);
    auto it = e.device.find(static_cast<uintptr_t>(p));
    if (it == e.device.end()) return INVALID_VALUE;
    e.used -= it->second;
    e.device.erase(it);
    std::free(reinterpret_cast<void*>(p));
    return SUCCESS;
}

API cuMemAllocHost_v2(void** p, size_t bytes) {
    NEEDS_INIT;
    if (current_context == nullptr) return INVALID_CONTEXT;
    if (p == nullptr || bytes == 0) return INVALID_VALUE;
    void* mem = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    if (mem == nullptr) return OUT_OF_MEMORY;
    std::lock_guard<std::mutex> g(emu().m);
    emu().pinned[reinterpret_cast<uintptr_t>(mem)] = bytes;
    *p = mem;
    return SUCCESS;
}

API cuMemFreeHost(void* p) {
    NEEDS_INIT;
    std::lock_guard<std::mutex> g(emu().m);
    auto it = emu().pinned.find(reinterpret_cast<uintptr_t>(p));
    if (it == emu().pinned.end()) return INVALID_VALUE;
    emu().pinned.erase(it);
    std::free(p);
    return SUCCESS;
}

namespace {
/** The allocation holding p: {start, bytes}, or {0, 0}. */
std::pair<uintptr_t, size_t> allocation(uintptr_t p) {
    std::lock_guard<std::mutex> g(emu().m);
    auto it = emu().device.upper_bound(p);
    if (it == emu().device.begin()) return {0, 0};
    --it;
    if (p >= it->first + it->second) return {0, 0};
    return *it;
}

bool in_device(uintptr_t p, size_t n) {
    auto [start, bytes] = allocation(p);
    return start != 0 && p + n <= start + bytes;
}
}  // namespace

API cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void* stream) {
    NEEDS_INIT;
    if (n == 0) return SUCCESS;
    if (!in_device(dst, n) || src == nullptr) return INVALID_VALUE;
    return enqueue(stream, [=] { std::memcpy(reinterpret_cast<void*>(dst), src, n); }, !emu().is_pinned(src));
}

API cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void* stream) {
    NEEDS_INIT;
    if (n == 0) return SUCCESS;
    if (!in_device(src, n) || dst == nullptr) return INVALID_VALUE;
    return enqueue(stream, [=] { std::memcpy(dst, reinterpret_cast<const void*>(src), n); }, !emu().is_pinned(dst));
}

API cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void* stream) {
    NEEDS_INIT;
    if (n == 0) return SUCCESS;
    if (!in_device(dst, n) || !in_device(src, n)) return INVALID_VALUE;
    return enqueue(stream, [=] { std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), n); }, false);
}

API cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
    int r = cuMemcpyHtoDAsync_v2(dst, src, n, nullptr);
    if (r == SUCCESS) emu().stream(nullptr)->drain();
    return r;
}

API cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
    int r = cuMemcpyDtoHAsync_v2(dst, src, n, nullptr);
    if (r == SUCCESS) emu().stream(nullptr)->drain();
    return r;
}

API cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, void* stream) {
    NEEDS_INIT;
    if (n == 0) return SUCCESS;
    if (!in_device(dst, n)) return INVALID_VALUE;
    return enqueue(stream, [=] { std::memset(reinterpret_cast<void*>(dst), v, n); }, false);
}

API cuPointerGetAttribute(void* data, int attribute, CUdeviceptr p) {
    NEEDS_INIT;
    if (data == nullptr) return INVALID_VALUE;
    auto [start, bytes] = allocation(static_cast<uintptr_t>(p));
    if (start == 0) return INVALID_VALUE;  // not device memory of this "driver"
    switch (attribute) {
        case 1: *static_cast<void**>(data) = &emu().primary; return SUCCESS;          // CONTEXT
        case 2: *static_cast<unsigned*>(data) = 2; return SUCCESS;                    // MEMORY_TYPE: device
        case 3: *static_cast<CUdeviceptr*>(data) = p; return SUCCESS;                 // DEVICE_POINTER
        case 9: *static_cast<unsigned*>(data) = 0; return SUCCESS;                    // DEVICE_ORDINAL... (9 = DEVICE_ORDINAL)
        case 11: *static_cast<CUdeviceptr*>(data) = start; return SUCCESS;            // RANGE_START
        case 12: *static_cast<size_t*>(data) = bytes; return SUCCESS;                 // RANGE_SIZE
        default: return INVALID_VALUE;
    }
}

API cuStreamCreate(void** s, unsigned /*flags*/) {
    NEEDS_INIT;
    if (current_context == nullptr) return INVALID_CONTEXT;
    Stream* stream = new Stream();
    std::lock_guard<std::mutex> g(emu().m);
    emu().streams.insert(stream);
    *s = stream;
    return SUCCESS;
}

API cuStreamDestroy_v2(void* s) {
    NEEDS_INIT;
    Stream* stream = static_cast<Stream*>(s);
    {
        std::lock_guard<std::mutex> g(emu().m);
        if (emu().streams.erase(stream) == 0) return INVALID_HANDLE;
    }
    stream->drain();  // CUDA lets pending work finish
    delete stream;
    return SUCCESS;
}

API cuStreamSynchronize(void* s) {
    NEEDS_INIT;
    if (!valid_stream(s)) return INVALID_HANDLE;
    emu().stream(s)->drain();
    return emu().sticky();
}

API cuStreamQuery(void* s) {
    NEEDS_INIT;
    if (!valid_stream(s)) return INVALID_HANDLE;
    Stream* st = emu().stream(s);
    std::lock_guard<std::mutex> g(st->m);
    return st->queue.empty() && !st->running ? emu().sticky() : NOT_READY;
}

API cuEventCreate(void** e, unsigned flags) {
    NEEDS_INIT;
    if (current_context == nullptr) return INVALID_CONTEXT;
    Event* ev = new Event();
    ev->flags = flags;
    std::lock_guard<std::mutex> g(emu().m);
    emu().events.insert(ev);
    *e = ev;
    return SUCCESS;
}

namespace {
Event* event(void* e) {
    std::lock_guard<std::mutex> g(emu().m);
    return emu().events.count(static_cast<Event*>(e)) != 0 ? static_cast<Event*>(e) : nullptr;
}
}  // namespace

API cuEventRecord(void* e, void* s) {
    NEEDS_INIT;
    Event* ev = event(e);
    if (ev == nullptr) return INVALID_HANDLE;
    uint64_t n;
    {
        std::lock_guard<std::mutex> g(ev->m);
        n = ++ev->recorded;
    }
    return enqueue(s, [ev, n] {
        std::lock_guard<std::mutex> g(ev->m);
        ev->completed = std::max(ev->completed, n);
        ev->when = std::chrono::steady_clock::now();
        ev->cv.notify_all();
    }, false);
}

API cuEventSynchronize(void* e) {
    NEEDS_INIT;
    Event* ev = event(e);
    if (ev == nullptr) return INVALID_HANDLE;
    std::unique_lock<std::mutex> g(ev->m);
    const uint64_t target = ev->recorded;
    ev->cv.wait(g, [&] { return ev->completed >= target; });
    return emu().sticky();
}

API cuEventQuery(void* e) {
    NEEDS_INIT;
    Event* ev = event(e);
    if (ev == nullptr) return INVALID_HANDLE;
    std::lock_guard<std::mutex> g(ev->m);
    return ev->completed >= ev->recorded ? SUCCESS : NOT_READY;
}

API cuStreamWaitEvent(void* s, void* e, unsigned flags) {
    NEEDS_INIT;
    if (flags != 0) return INVALID_VALUE;
    Event* ev = event(e);
    if (ev == nullptr) return INVALID_HANDLE;
    uint64_t target;
    {
        std::lock_guard<std::mutex> g(ev->m);
        target = ev->recorded;
    }
    return enqueue(s, [ev, target] {
        std::unique_lock<std::mutex> g(ev->m);
        ev->cv.wait(g, [&] { return ev->completed >= target; });
    }, false);
}

API cuEventElapsedTime(float* ms, void* a, void* b) {
    NEEDS_INIT;
    Event* start = event(a);
    Event* end = event(b);
    if (start == nullptr || end == nullptr || ms == nullptr) return INVALID_HANDLE;
    if ((start->flags & 0x2u) || (end->flags & 0x2u)) return INVALID_HANDLE;  // CU_EVENT_DISABLE_TIMING
    std::scoped_lock g(start->m, end->m);
    if (start->completed == 0 || end->completed == 0) return INVALID_HANDLE;
    if (start->completed < start->recorded || end->completed < end->recorded) return NOT_READY;
    *ms = std::chrono::duration<float, std::milli>(end->when - start->when).count();
    return SUCCESS;
}

API cuEventDestroy_v2(void* e) {
    NEEDS_INIT;
    Event* ev = static_cast<Event*>(e);
    {
        std::lock_guard<std::mutex> g(emu().m);
        if (emu().events.erase(ev) == 0) return INVALID_HANDLE;
    }
    // CUDA defers the release until the recorded work completes.
    std::unique_lock<std::mutex> g(ev->m);
    ev->cv.wait(g, [&] { return ev->completed >= ev->recorded; });
    g.unlock();
    delete ev;
    return SUCCESS;
}

API cuLaunchKernel(void* function, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                   unsigned shared, void* stream, void** params, void** extra) {
    NEEDS_INIT;
    Function* f = static_cast<Function*>(function);
    if (f == nullptr) return INVALID_HANDLE;
    if (extra != nullptr || params == nullptr || params[0] == nullptr) return INVALID_VALUE;
    if (gx == 0 || gy == 0 || gz == 0 || gy > 65535 || gz > 65535) return INVALID_VALUE;
    if (bx == 0 || by == 0 || bz == 0 || bx > 1024 || by > 1024 || bz > 64 ||
        static_cast<uint64_t>(bx) * by * bz > 1024) {
        return INVALID_VALUE;
    }
    if (shared > f->max_dynamic_shared) return INVALID_VALUE;
    if (int r = emu().sticky(); r != SUCCESS) return r;
    auto args = std::make_shared<std::vector<unsigned char>>(f->kernel->argument_bytes);
    std::memcpy(args->data(), params[0], f->kernel->argument_bytes);
    const simt::HostKernel* k = f->kernel;
    dim3 grid{gx, gy, gz}, block{bx, by, bz};
    return enqueue(stream, [k, args, grid, block, shared] {
        if (emu().sticky() != SUCCESS) return;  // a faulted context runs nothing more
        try {
            simt::launch(*k, grid, block, shared, args->data());
        } catch (const std::exception& e) {
            emu().fail(std::string(k->name) + ": " + e.what());
        }
    }, false);
}

API cuMemGetInfo_v2(size_t* free, size_t* total) {
    NEEDS_INIT;
    if (current_context == nullptr) return INVALID_CONTEXT;
    std::lock_guard<std::mutex> g(emu().m);
    *free = emu().total - emu().used;
    *total = emu().total;
    return SUCCESS;
}

API cuGetErrorName(int r, const char** s) {
    const char* n = error_name(r);
    if (n == nullptr) {
        *s = nullptr;
        return INVALID_VALUE;
    }
    *s = n;
    return SUCCESS;
}

API cuGetErrorString(int r, const char** s) {
    const char* t = error_text(r);
    if (t == nullptr) {
        *s = nullptr;
        return INVALID_VALUE;
    }
    *s = t;
    return SUCCESS;
}

/** Identifies the stand-in (tests check that they run over it, not over an NVIDIA driver). */
extern "C" __attribute__((visibility("default"))) const char* amalgam_cuda_emulator() {
    return "Amalgam CUDA emulator: host-compiled kernels-cuda over the SIMT shim (fibers)";
}

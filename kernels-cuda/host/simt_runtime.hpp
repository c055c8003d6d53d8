// The part of the SIMT shim that runs a grid (see simt.hpp). Include it in exactly one
// translation unit of a program.
//
// Implementation notes
// - Fibers: each OS thread that runs blocks keeps a set of fiber stacks (mmap'd, with a guard
//   page, reused across launches). The scheduler resumes the unfinished lanes round robin; a lane
//   runs until it waits (barrier, collective) or exits. A full round without progress while lanes
//   remain is a deadlock, reported like a divergent barrier.
// - Blocks are spread over a pool of OS threads (AMALGAM_SIMT_WORKERS, default: the hardware
//   threads); launches from different host threads take turns.
// - Threads (AMALGAM_SIMT_THREADS): one block at a time, one std::thread per CUDA thread.
#pragma once
#include "simt.hpp"

namespace simt {

inline unsigned worker_count() {
    static const unsigned n = [] {
        const char* s = std::getenv("AMALGAM_SIMT_WORKERS");
        unsigned w = s != nullptr ? static_cast<unsigned>(std::atoi(s)) : std::thread::hardware_concurrency();
        return std::max(1u, w);
    }();
    return n;
}

inline void init_block(Block& b, const LaunchShape& shape, unsigned linear_block) {
    const unsigned gx = shape.grid.x, gy = shape.grid.y;
    b.idx = dim3{linear_block % gx, (linear_block / gx) % gy, linear_block / (gx * gy)};
    b.dim = shape.block;
    b.grid = shape.grid;
    b.threads = shape.block.x * shape.block.y * shape.block.z;
    b.exited = 0;
    b.arrived = 0;
    b.generation = 0;
    b.fault.clear();
    b.progress = 0;
    const unsigned warps = (b.threads + 31) / 32;
    if (b.warp_count != warps) {
        b.warps.reset(new Warp[warps]);
        b.warp_count = warps;
    } else {
        for (unsigned w = 0; w < warps; ++w) {
            b.warps[w].arrived = 0;
            b.warps[w].generation = 0;
        }
    }
    b.lanes.resize(b.threads);
    for (unsigned t = 0; t < b.threads; ++t) {
        Lane& l = b.lanes[t];
        l.idx = dim3{t % shape.block.x, (t / shape.block.x) % shape.block.y, t / (shape.block.x * shape.block.y)};
        l.linear = t;
        l.block = &b;
        l.done = false;
        l.waiting = nullptr;
    }
}

#if defined(AMALGAM_SIMT_THREADS)

/** Lane threads, created once and reused for every block (thread creation dominates otherwise). */
class LanePool {
public:
    static LanePool& instance() {
        static LanePool* pool = new LanePool();  // never destroyed: its threads wait forever
        return *pool;
    }

    void run_block(Entry entry, const void* arguments, Block& b) {
        std::unique_lock<std::mutex> g(m_);
        while (threads_ < b.threads) {
            std::thread([this, i = threads_] { loop(i); }).detach();
            ++threads_;
        }
        block_ = &b;
        entry_ = entry;
        arguments_ = arguments;
        needed_ = b.threads;
        remaining_ = b.threads;
        ++epoch_;
        go_.notify_all();
        finished_.wait(g, [&] { return remaining_ == 0; });
        block_ = nullptr;
    }

private:
    void loop(unsigned i) {
        uint64_t seen = 0;
        for (;;) {
            Block* b;
            Entry entry;
            const void* arguments;
            {
                std::unique_lock<std::mutex> g(m_);
                go_.wait(g, [&] { return epoch_ != seen && block_ != nullptr; });
                seen = epoch_;
                if (i >= needed_) continue;
                b = block_;
                entry = entry_;
                arguments = arguments_;
            }
            Lane& me = b->lanes[i];
            current_lane = &me;
            try {
                entry(arguments);
            } catch (const Fault&) {
                // recorded in b->fault
            }
            lane_exit(me);
            current_lane = nullptr;
            std::lock_guard<std::mutex> g(m_);
            if (--remaining_ == 0) finished_.notify_all();
        }
    }

    std::mutex m_;
    std::condition_variable go_, finished_;
    unsigned threads_ = 0, needed_ = 0, remaining_ = 0;
    uint64_t epoch_ = 0;
    Block* block_ = nullptr;
    Entry entry_ = nullptr;
    const void* arguments_ = nullptr;
};

inline void run_grid(Entry entry, const void* arguments, const LaunchShape& shape) {
    static std::mutex one_launch;
    std::lock_guard<std::mutex> lock(one_launch);
    const unsigned blocks = shape.grid.x * shape.grid.y * shape.grid.z;
    std::vector<unsigned char> dyn(shape.dynamic_shared_bytes + 16, 0xFF);  // never zero: CUDA does not clear it
    for (unsigned k = 0; k < blocks; ++k) {
        Block b;
        init_block(b, shape, k);
        b.dynamic_shared = dyn.data();
        LanePool::instance().run_block(entry, arguments, b);
        if (!b.fault.empty()) throw Fault(b.fault + " [block " + std::to_string(k) + "]");
    }
}

#else  // fibers

#if defined(__x86_64__)
// simt_switch(save, load): saves the callee-saved registers, MXCSR and the x87 control word on
// the current stack, stores rsp in *save, switches to load and restores the same from there.
asm(R"(
    .text
    .weak simt_switch
    .type simt_switch, @function
simt_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size simt_switch, .-simt_switch

    .weak simt_fiber_start
    .type simt_fiber_start, @function
simt_fiber_start:
    movq %r12, %rdi
    callq *%r13
    ud2
    .size simt_fiber_start, .-simt_fiber_start
)");
extern "C" void simt_switch(void** save, void* load);
extern "C" void simt_fiber_start();
#endif

/** What one OS thread needs to run blocks as fibers. */
struct FiberHost {
    static constexpr size_t kStack = 256 * 1024;
    std::vector<unsigned char*> stacks;
    std::vector<unsigned char> dyn;
    void* scheduler_sp = nullptr;
#if !defined(__x86_64__)
    ucontext_t scheduler_ctx;
#endif
    Entry entry = nullptr;
    const void* arguments = nullptr;
    Block block;

    ~FiberHost() {
        for (unsigned char* s : stacks) munmap(s, kStack);
    }

    unsigned char* stack(unsigned i) {
        while (stacks.size() <= i) {
            void* p = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
            if (p == MAP_FAILED) throw std::runtime_error("simt: cannot map a fiber stack");
            mprotect(p, 4096, PROT_NONE);  // guard page: an overflow faults instead of corrupting
            stacks.push_back(static_cast<unsigned char*>(p));
        }
        return stacks[i];
    }
};

inline thread_local FiberHost* fiber_host = nullptr;

inline FiberHost& host_here() {
    if (fiber_host == nullptr) fiber_host = new FiberHost();  // lives as long as the thread (pool threads: the process)
    return *fiber_host;
}

inline void fiber_main(Lane* me) {
    FiberHost& h = *fiber_host;
    try {
        h.entry(h.arguments);
    } catch (const Fault&) {
        // recorded in the block's fault
    } catch (const std::exception& e) {
        if (me->block->fault.empty()) me->block->fault = std::string("exception in a kernel: ") + e.what();
    }
    lane_exit(*me);
#if defined(__x86_64__)
    simt_switch(&me->sp, h.scheduler_sp);
#else
    swapcontext(&me->ctx, &h.scheduler_ctx);
#endif
    std::abort();  // a finished lane is never resumed
}

#if !defined(__x86_64__)
inline void fiber_main_ucontext(unsigned hi, unsigned lo) {
    fiber_main(reinterpret_cast<Lane*>((static_cast<uintptr_t>(hi) << 32) | lo));
}
#endif

inline void yield_to_scheduler(Lane& me) {
#if defined(__x86_64__)
    simt_switch(&me.sp, fiber_host->scheduler_sp);
#else
    swapcontext(&me.ctx, &fiber_host->scheduler_ctx);
#endif
}

inline void start_lane(FiberHost& h, Lane& l, unsigned i) {
    unsigned char* base = h.stack(i);
#if defined(__x86_64__)
    uint64_t* top = reinterpret_cast<uint64_t*>(base + FiberHost::kStack);  // 16-aligned
    // After simt_switch's ret into simt_fiber_start, rsp = top − 16 (16-aligned) for its call.
    uint64_t* sp = top - 2;
    *--sp = reinterpret_cast<uint64_t>(&simt_fiber_start);  // ret address
    *--sp = 0;                                              // rbp
    *--sp = 0;                                              // rbx
    *--sp = reinterpret_cast<uint64_t>(&l);                 // r12: the argument
    *--sp = reinterpret_cast<uint64_t>(&fiber_main);        // r13: the function
    *--sp = 0;                                              // r14
    *--sp = 0;                                              // r15
    uint32_t mxcsr;
    uint16_t fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    *--sp = static_cast<uint64_t>(mxcsr) | (static_cast<uint64_t>(fpucw) << 32);
    l.sp = sp;
#else
    getcontext(&l.ctx);
    l.ctx.uc_stack.ss_sp = base + 4096;
    l.ctx.uc_stack.ss_size = FiberHost::kStack - 4096;
    l.ctx.uc_link = nullptr;
    const uintptr_t p = reinterpret_cast<uintptr_t>(&l);
    makecontext(&l.ctx, reinterpret_cast<void (*)()>(&fiber_main_ucontext), 2, static_cast<unsigned>(p >> 32),
                static_cast<unsigned>(p));
#endif
}

inline void resume(FiberHost& h, Lane& l) {
    current_lane = &l;
#if defined(__x86_64__)
    simt_switch(&h.scheduler_sp, l.sp);
#else
    swapcontext(&h.scheduler_ctx, &l.ctx);
#endif
    current_lane = nullptr;
}

/** Runs one block to completion on this thread; returns its fault ("" if none). */
inline std::string run_block(Entry entry, const void* arguments, const LaunchShape& shape, unsigned linear_block) {
    FiberHost& h = host_here();
    h.entry = entry;
    h.arguments = arguments;
    Block& b = h.block;
    init_block(b, shape, linear_block);
    if (h.dyn.size() < shape.dynamic_shared_bytes + 16) h.dyn.resize(shape.dynamic_shared_bytes + 16);
    std::memset(h.dyn.data(), 0xFF, shape.dynamic_shared_bytes);  // never zero: CUDA does not clear it
    b.dynamic_shared = h.dyn.data();
    for (unsigned t = 0; t < b.threads; ++t) start_lane(h, b.lanes[t], t);
    unsigned remaining = b.threads;
    while (remaining > 0) {
        const uint64_t before = b.progress;
        for (unsigned t = 0; t < b.threads; ++t) {
            Lane& l = b.lanes[t];
            if (l.done) continue;
            resume(h, l);
            if (l.done) --remaining;
            if (!b.fault.empty()) return b.fault;
        }
        if (remaining > 0 && b.progress == before) {
            std::string where;
            for (const Lane& l : b.lanes) {
                if (!l.done && where.size() < 200) where += " " + std::to_string(l.linear) + ":" + (l.waiting ? l.waiting : "?");
            }
            return "divergent barrier or collective: deadlock, no thread can proceed; waiting:" + where;
        }
    }
    return {};
}

/** A small pool: the launching thread and the workers take blocks from a shared counter. */
class Pool {
public:
    static Pool& instance() {
        static Pool* pool = new Pool(worker_count() - 1);  // never destroyed: workers may outlive main's statics
        return *pool;
    }

    void run(unsigned blocks, const std::function<std::string(unsigned)>& body) {
        std::lock_guard<std::mutex> one(launch_);
        {
            std::lock_guard<std::mutex> g(m_);
            body_ = &body;
            next_ = 0;
            total_ = blocks;
            active_ = 0;
            fault_.clear();
            ++epoch_;
        }
        cv_.notify_all();
        work();
        std::unique_lock<std::mutex> g(m_);
        done_.wait(g, [&] { return active_ == 0; });
        body_ = nullptr;
        if (!fault_.empty()) throw Fault(fault_);
    }

private:
    explicit Pool(unsigned workers) {
        for (unsigned i = 0; i < workers; ++i) {
            std::thread([this] { loop(); }).detach();
        }
    }

    void loop() {
        uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> g(m_);
                cv_.wait(g, [&] { return epoch_ != seen && body_ != nullptr; });
                seen = epoch_;
            }
            work();
        }
    }

    void work() {
        const std::function<std::string(unsigned)>* body;
        {
            std::lock_guard<std::mutex> g(m_);
            if (body_ == nullptr) return;
            body = body_;
            ++active_;
        }
        for (;;) {
            unsigned k;
            {
                std::lock_guard<std::mutex> g(m_);
                if (next_ >= total_ || !fault_.empty()) break;
                k = next_++;
            }
            std::string f = (*body)(k);
            if (!f.empty()) {
                std::lock_guard<std::mutex> g(m_);
                if (fault_.empty()) fault_ = f + " [block " + std::to_string(k) + "]";
            }
        }
        std::lock_guard<std::mutex> g(m_);
        if (--active_ == 0) done_.notify_all();
    }

    std::mutex launch_, m_;
    std::condition_variable cv_, done_;
    const std::function<std::string(unsigned)>* body_ = nullptr;
    unsigned next_ = 0, total_ = 0, active_ = 0;
    uint64_t epoch_ = 0;
    std::string fault_;
};

inline void run_grid(Entry entry, const void* arguments, const LaunchShape& shape) {
    const unsigned blocks = shape.grid.x * shape.grid.y * shape.grid.z;
    std::function<std::string(unsigned)> body = [&](unsigned k) { return run_block(entry, arguments, shape, k); };
    if (blocks == 1) {
        std::string f = body(0);
        if (!f.empty()) throw Fault(f + " [block 0]");
        return;
    }
    Pool::instance().run(blocks, body);
}

#endif

}  // namespace simt

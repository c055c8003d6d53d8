// Prints the round-robin pair schedule of svd_schedule.cuh, one "n step k first second" line per
// pair, for every even n up to the first argument (default 40). The Java host test
// dev.amalgam.cuda.internal.RoundRobinTest compiles this file with the host C++ compiler and
// compares each line with dev.amalgam.cuda.internal.RoundRobin.
#include <cstdio>
#include <cstdlib>
#include "../src/svd_schedule.cuh"

int main(int argc, char** argv) {
    const unsigned max_n = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 40u;
    for (unsigned n = 2; n <= max_n; n += 2) {
        for (unsigned s = 0; s + 1 < n; ++s) {
            for (unsigned k = 0; k < n / 2; ++k) {
                uint32_t first, second;
                amalgam::round_robin_pair(n, s, k, first, second);
                std::printf("%u %u %u %u %u\n", n, s, k, first, second);
            }
        }
    }
    return 0;
}

// Host test of philox.cuh against the known answers of the spec (§1.9), compiled with the plain
// host C++ compiler so it runs on machines without a GPU. Exit status 0 = all passed.
#include <cstdio>
#include <cstring>
#include "../src/philox.cuh"

using namespace amalgam;

static int failures = 0;

static void expect(const char* what, uint32_t actual, uint32_t expected) {
    if (actual != expected) {
        std::printf("FAIL %s: got %08x, expected %08x\n", what, actual, expected);
        ++failures;
    } else {
        std::printf("ok   %s = %08x\n", what, actual);
    }
}

static uint32_t fnv(const char* s) { return fnv1a32(reinterpret_cast<const unsigned char*>(s), std::strlen(s)); }

int main() {
    uint32_t c[4] = {0, 0, 0, 0};
    philox4x32_10(c, 0, 0);
    const uint32_t zero[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
    for (int w = 0; w < 4; ++w) expect("philox(0,0) word", c[w], zero[w]);

    uint32_t f[4] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
    philox4x32_10(f, 0xFFFFFFFFu, 0xFFFFFFFFu);
    const uint32_t ones[4] = {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu};
    for (int w = 0; w < 4; ++w) expect("philox(ff..) word", f[w], ones[w]);

    const char* name = "model.layers.0.mlp.down_proj.weight";
    expect("fnv1a(\"\")", fnv(""), 0x811c9dc5u);
    expect("fnv1a(\"a\")", fnv("a"), 0xe40c292cu);
    expect("fnv1a(down_proj)", fnv(name), 0xca7d69f5u);

    // word0 of draws: counter (i lo, i hi, m, h), key (seed lo, seed hi)
    expect("draw seed 42 m=1 i=0", philox_word0(0, 0, 1, fnv(name), 42, 0), 0x5baacc8fu);
    expect("draw j", philox_word0(0, 0, 1, fnv(name), 42, 0) >> 8, 6007500u);
    expect("draw seed 0 m=1 i=0", philox_word0(0, 0, 1, fnv(name), 0, 0), 0x31916e49u);
    const uint64_t i = (1ull << 32) + 3;
    expect("draw lm_head m=0 i=2^32+3",
           philox_word0(static_cast<uint32_t>(i), static_cast<uint32_t>(i >> 32), 0, fnv("lm_head.weight"), 42, 0),
           0xeaf75660u);

    // bernoulli_keep is (j < bound): j = 6007500 is kept iff bound > 6007500
    expect("keep at bound j+1", bernoulli_keep(0, 1, fnv(name), 42, 0, 6007501u) ? 1u : 0u, 1u);
    expect("drop at bound j", bernoulli_keep(0, 1, fnv(name), 42, 0, 6007500u) ? 1u : 0u, 0u);

    std::printf("%s: %d failure(s)\n", failures == 0 ? "PASSED" : "FAILED", failures);
    return failures == 0 ? 0 : 1;
}

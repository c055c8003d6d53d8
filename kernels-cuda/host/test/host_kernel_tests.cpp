// Host tests of every kernel family of kernels-cuda/src, compiled for the host through the SIMT
// shim: each kernel against a plain C++ statement of what it computes (bit for bit where the
// kernel is exact, with a stated tolerance where it reduces in a tree), on awkward sizes and
// random inputs; and the shim's own checks (a divergent barrier, a bad warp mask) must fire.
// Built three ways by native-build/build-host-kernels.sh: fibers (-O2), and with
// -DAMALGAM_SIMT_THREADS under ThreadSanitizer and AddressSanitizer. Each run prints one digest
// line per family; the fibers and threads runs must print the same digests (the kernels are
// deterministic whatever the thread timing).
//
// AMALGAM_HOST_TESTS=race runs only a kernel with a missing __syncthreads (for checking that
// ThreadSanitizer reports it); otherwise all tests run. Exit status 0 = all passed.
#include "../kernels_host.cpp"

#include <cinttypes>
#include <random>

using namespace amalgam;

namespace {

int failures = 0;
/** AMALGAM_HOST_TESTS=small: sizes for the sanitizer runs (one OS thread per CUDA thread). */
bool small = false;

#define CHECK(cond, ...)                                            \
    do {                                                            \
        if (!(cond)) {                                              \
            ++failures;                                             \
            std::printf("FAIL %s:%d: ", __FILE__, __LINE__);        \
            std::printf(__VA_ARGS__);                               \
            std::printf("\n");                                      \
        }                                                           \
    } while (0)

/** FNV-1a over bytes: the digest of a family's outputs. */
struct Digest {
    uint64_t h = 0xcbf29ce484222325ull;
    void add(const void* p, size_t n) {
        const unsigned char* b = static_cast<const unsigned char*>(p);
        for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 0x100000001b3ull;
    }
    template <class T>
    void add(const std::vector<T>& v) { add(v.data(), v.size() * sizeof(T)); }
};

void launch(const char* name, unsigned grid_x, unsigned grid_y, unsigned block, size_t shared, const void* args) {
    const simt::HostKernel* k = simt::find_kernel(name);
    if (k == nullptr) {
        std::printf("FAIL: no host kernel %s\n", name);
        std::exit(1);
    }
    simt::launch(*k, dim3{grid_x, grid_y, 1}, dim3{block, 1, 1}, shared, args);
}

template <class T>
uint64_t addr(const std::vector<T>& v) {
    return reinterpret_cast<uint64_t>(v.data());
}

/** Storage of n values in a dtype (f32, f16, bf16 as uint16 patterns). */
struct Stored {
    uint32_t dtype;
    std::vector<float> f32;
    std::vector<uint16_t> u16;
    uint64_t ptr() const { return dtype == DT_F32 ? addr(f32) : addr(u16); }
    float at(size_t i) const {
        if (dtype == DT_F32) return f32[i];
        if (dtype == DT_F16) return __half2float(__ushort_as_half(u16[i]));
        return __bfloat162float(__nv_bfloat16{u16[i]});
    }
};

Stored store(uint32_t dtype, const std::vector<float>& v) {
    Stored s{dtype, {}, {}};
    if (dtype == DT_F32) {
        s.f32 = v;
    } else {
        s.u16.resize(v.size());
        for (size_t i = 0; i < v.size(); ++i) {
            s.u16[i] = dtype == DT_F16 ? __half_as_ushort(__float2half_rn(v[i])) : __float2bfloat16_rn(v[i]).bits;
        }
    }
    return s;
}

float narrow(uint32_t dtype, float v) {
    if (dtype == DT_F16) return __half2float(__float2half_rn(v));
    if (dtype == DT_BF16) return __bfloat162float(__float2bfloat16_rn(v));
    return v;
}

std::vector<float> random_floats(std::mt19937_64& rng, size_t n, float scale) {
    std::normal_distribution<float> d(0.0f, scale);
    std::vector<float> v(n);
    for (float& x : v) x = d(rng);
    return v;
}

/** A model near the base: base + small deltas, some exactly equal to the base (zero deltas). */
std::vector<float> near(std::mt19937_64& rng, const std::vector<float>& base, float scale) {
    std::vector<float> v = base;
    std::normal_distribution<float> d(0.0f, scale);
    std::uniform_int_distribution<int> u(0, 9);
    for (float& x : v) {
        if (u(rng) != 0) x += d(rng);
    }
    return v;
}

uint32_t key_of(float d) { return magnitude_key(d); }

// ---------------------------------------------------------------------------------------------

void half_conversions() {
    // Every half widens exactly and narrows back to itself (NaNs to CUDA's canonical 0x7FFF).
    for (uint32_t h = 0; h < 65536; ++h) {
        const float f = __half2float(__ushort_as_half(static_cast<unsigned short>(h)));
        const uint16_t back = __half_as_ushort(__float2half_rn(f));
        const bool nan = (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0;
        CHECK(back == (nan ? 0x7FFFu : h), "half %04x -> %a -> %04x", h, f, back);
    }
    // Ties between two halves round to the even one; just above a tie rounds up.
    for (uint32_t h = 0; h < 0x7BFF; h += 37) {
        const float lo = __half2float(__ushort_as_half(static_cast<unsigned short>(h)));
        const float hi = __half2float(__ushort_as_half(static_cast<unsigned short>(h + 1)));
        const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);
        const uint16_t even = (h & 1u) == 0 ? h : h + 1;
        CHECK(__half_as_ushort(__float2half_rn(mid)) == even, "half tie above %04x", h);
        CHECK(__half_as_ushort(__float2half_rn(std::nextafter(mid, INFINITY))) == h + 1, "above tie %04x", h);
    }
    CHECK(__half_as_ushort(__float2half_rn(65519.996f)) == 0x7BFFu, "largest half");
    CHECK(__half_as_ushort(__float2half_rn(65520.0f)) == 0x7C00u, "overflow to inf");
    // bf16: exact widening, RNE narrowing.
    for (uint32_t h = 0; h < 65536; h += 1) {
        const float f = __bfloat162float(__nv_bfloat16{static_cast<unsigned short>(h)});
        const uint16_t back = __float2bfloat16_rn(f).bits;
        const bool nan = (h & 0x7F80u) == 0x7F80u && (h & 0x7Fu) != 0;
        CHECK(back == (nan ? 0x7FFFu : h), "bf16 %04x -> %04x", h, back);
    }
    CHECK(__float2bfloat16_rn(std::bit_cast<float>(0x3F808000u)).bits == 0x3F80u, "bf16 tie to even (down)");
    CHECK(__float2bfloat16_rn(std::bit_cast<float>(0x3F818000u)).bits == 0x3F82u, "bf16 tie to even (up)");
    CHECK(__float2bfloat16_rn(std::bit_cast<float>(0x3F808001u)).bits == 0x3F81u, "bf16 above tie");
    CHECK(__float_as_uint(__fsub_rn(std::bit_cast<float>(0x7FC00001u), 1.0f)) == 0x7FFFFFFFu, "canonical NaN");
}

// ---------------------------------------------------------------------------------------------

void linear(Digest& dg, std::mt19937_64& rng) {
    for (size_t n : {size_t{1}, size_t{257}, small ? size_t{3001} : size_t{70001}}) {
        for (uint32_t out_dtype : {DT_F32, DT_F16, DT_BF16}) {
            const uint32_t k = 3;
            std::vector<Stored> in;
            std::vector<LinearInput> table;
            const float weights[3] = {0.7f, -1.3f, 0.31f};
            for (uint32_t j = 0; j < k; ++j) {
                in.push_back(store(j, random_floats(rng, n, 2.0f)));
            }
            if (n > 100) {  // one overflow to Inf in the f16 output
                in[0].f32[n / 2] = 60000.0f;
            }
            for (uint32_t j = 0; j < k; ++j) table.push_back(LinearInput{in[j].ptr(), in[j].dtype, weights[j]});
            Stored out = store(out_dtype, std::vector<float>(n, 0.0f));
            std::vector<unsigned long long> counters(1, 0);
            const float divisor = 0.71f;
            LinearArgs a{addr(table), out.ptr(), n, addr(counters), k, out_dtype, divisor, 0};
            launch("amalgam_linear", static_cast<unsigned>(std::min<size_t>((n + 255) / 256, 7)), 1, 256, 0, &a);
            uint64_t nonfinite = 0;
            for (size_t i = 0; i < n; ++i) {
                float acc = 0.0f;
                for (uint32_t j = 0; j < k; ++j) acc = acc + weights[j] * in[j].at(i);
                const float want = narrow(out_dtype, acc / divisor);
                nonfinite += std::isfinite(want) ? 0 : 1;
                CHECK(std::bit_cast<uint32_t>(out.at(i)) == std::bit_cast<uint32_t>(want), "linear n=%zu dt=%u i=%zu", n, out_dtype, i);
                if (std::bit_cast<uint32_t>(out.at(i)) != std::bit_cast<uint32_t>(want)) break;
            }
            CHECK(counters[0] == nonfinite, "linear non-finite count %llu vs %" PRIu64, counters[0], nonfinite);
            dg.add(out.f32);
            dg.add(out.u16);
        }
    }
}

// ---------------------------------------------------------------------------------------------

void histogram(Digest& dg, std::mt19937_64& rng) {
    const std::vector<size_t> sizes = {5000, 1, 4096, 12289};
    std::vector<Stored> bases, models;
    std::vector<SelectSegment> segs;
    std::vector<uint64_t> tile_starts;
    uint64_t tiles = 0;
    for (size_t s = 0; s < sizes.size(); ++s) {
        std::vector<float> b = random_floats(rng, sizes[s], 1.0f);
        bases.push_back(store(static_cast<uint32_t>(s % 3), b));
        models.push_back(store(static_cast<uint32_t>((s + 1) % 3), near(rng, b, 0.01f)));
    }
    for (size_t s = 0; s < sizes.size(); ++s) {
        segs.push_back(SelectSegment{bases[s].ptr(), models[s].ptr(), sizes[s], bases[s].dtype, models[s].dtype});
        tile_starts.push_back(tiles);
        tiles += (sizes[s] + kTile - 1) / kTile;
    }
    tile_starts.push_back(tiles);
    std::vector<uint32_t> keys;
    for (size_t s = 0; s < sizes.size(); ++s) {
        for (size_t i = 0; i < sizes[s]; ++i) keys.push_back(key_of(__fsub_rn(models[s].at(i), bases[s].at(i))));
    }
    // The three passes with the prefix of the largest key's bin each time.
    const uint32_t passes[3][2] = {{20, 11}, {10, 10}, {0, 10}};
    uint32_t prefix = 0;
    for (const auto& p : passes) {
        const uint32_t shift = p[0], bits = p[1];
        std::vector<unsigned long long> hist(1u << bits, 0);
        SelectArgs a{addr(segs), addr(tile_starts), addr(hist), tiles, static_cast<uint32_t>(segs.size()), shift, bits, prefix};
        launch("amalgam_magnitude_histogram", 3, 1, 256, 0, &a);
        std::vector<unsigned long long> want(1u << bits, 0);
        for (uint32_t k : keys) {
            if ((k >> (shift + bits)) == prefix) ++want[(k >> shift) & ((1u << bits) - 1)];
        }
        CHECK(hist == want, "histogram pass shift=%u", shift);
        dg.add(hist);
        uint32_t top = 0;
        for (uint32_t b = 0; b < want.size(); ++b) {
            if (want[b] != 0) top = b;
        }
        prefix = (prefix << bits) | top;
    }
}

// ---------------------------------------------------------------------------------------------

struct GtaCase {
    size_t n;
    uint32_t t;
    uint32_t base_dtype, out_dtype;
    uint32_t sparsifier, rescale_mode, consensus, normalize;
};

bool keeps(const GtaModel& m, uint32_t key, uint64_t i, uint32_t hash, uint32_t lo, uint32_t hi) {
    if (m.sparsifier == SPARSIFY_BAND) {
        const bool in_keep = key > m.keep_key || (key == m.keep_key && i < m.keep_cutoff);
        const bool in_ex = m.has_exclude != 0 && (key > m.exclude_key || (key == m.exclude_key && i < m.exclude_cutoff));
        return in_keep && !in_ex;
    }
    if (m.sparsifier == SPARSIFY_BERNOULLI) return bernoulli_keep(i, m.model_index, hash, lo, hi, m.keep_bound);
    return true;
}

void gta(Digest& dg, std::mt19937_64& rng) {
    const GtaCase cases[] = {
        {10007, 3, DT_BF16, DT_BF16, SPARSIFY_BAND, RESCALE_MULTIPLY, CONSENSUS_SUM, 1},
        {4096 * 3 + 5, 2, DT_F32, DT_F16, SPARSIFY_BERNOULLI, RESCALE_DIVIDE, CONSENSUS_COUNT, 0},
        {777, 4, DT_F16, DT_F32, SPARSIFY_NONE, RESCALE_NONE, CONSENSUS_NONE, 1},
        {5000, 1, DT_F32, DT_BF16, SPARSIFY_BAND, RESCALE_NONE, CONSENSUS_NONE, 0},
    };
    const uint32_t hash = 0xca7d69f5u, seed_lo = 42, seed_hi = 0;
    for (GtaCase c : cases) {
        if (small) c.n = std::min<size_t>(c.n, 4096 + 5);
        const uint64_t chunk_start = 0;
        std::vector<float> b = random_floats(rng, c.n, 0.5f);
        Stored base = store(c.base_dtype, b);
        std::vector<Stored> models;
        std::vector<GtaModel> table;
        for (uint32_t m = 0; m < c.t; ++m) {
            models.push_back(store((m + c.base_dtype) % 3, near(rng, b, 0.02f)));
            GtaModel md{};
            md.model_ptr = models.back().ptr();
            md.dtype = models.back().dtype;
            md.sparsifier = c.sparsifier;
            md.weight = 0.5f + 0.25f * m;
            md.model_index = m;
            md.rescale_mode = c.rescale_mode;
            md.rescale = c.rescale_mode == RESCALE_DIVIDE ? 0.7 : 1.37;
            md.keep_bound = static_cast<uint32_t>(std::ceil(0.6 * 16777216.0));
            // band: keep keys above the key of some element, ties cut at a flat index
            const float d0 = __fsub_rn(models.back().at(c.n / 3), base.at(c.n / 3));
            md.keep_key = key_of(d0) / 2;
            md.keep_cutoff = c.n / 2;
            md.has_exclude = m % 2;
            md.exclude_key = key_of(d0) * 2 > key_of(d0) ? key_of(d0) + 0x00400000u : key_of(d0);
            md.exclude_cutoff = UINT64_MAX;
            table.push_back(md);
        }
        // statistics (mode 0): ties, Σ|δ| per tile, non-finite flags
        const uint64_t tiles = (c.n + kTile - 1) / kTile;
        std::vector<uint32_t> ties_keep(c.t * tiles, 7), ties_ex(c.t * tiles, 7), nonfinite(c.t + 1, 0);
        std::vector<double> l1(c.t * tiles, -1.0);
        GtaStatsArgs sa{base.ptr(), addr(table), chunk_start, c.n, addr(ties_keep), addr(ties_ex), addr(l1), addr(nonfinite),
                        tiles, c.base_dtype, c.t, 0, hash, seed_lo, seed_hi};
        launch("amalgam_gta_stats", static_cast<unsigned>(tiles), 1, kBlock, 0, &sa);
        for (uint32_t m = 0; m < c.t; ++m) {
            for (uint64_t tile = 0; tile < tiles; ++tile) {
                uint32_t tk = 0, te = 0;
                double sum = 0.0;
                for (uint64_t i = tile * kTile; i < std::min<uint64_t>(c.n, (tile + 1) * kTile); ++i) {
                    const uint32_t key = key_of(__fsub_rn(models[m].at(i), base.at(i)));
                    tk += key == table[m].keep_key;
                    te += key == table[m].exclude_key;
                    sum += std::fabs(static_cast<double>(__fsub_rn(models[m].at(i), base.at(i))));
                }
                CHECK(ties_keep[m * tiles + tile] == tk && ties_ex[m * tiles + tile] == te, "gta_stats ties m=%u tile=%" PRIu64, m, tile);
                CHECK(std::fabs(l1[m * tiles + tile] - sum) <= 1e-12 * sum, "gta_stats l1 m=%u: %.17g vs %.17g", m, l1[m * tiles + tile], sum);
            }
        }
        for (uint32_t v : nonfinite) CHECK(v == 0, "gta_stats: finite inputs flagged");
        dg.add(ties_keep);
        dg.add(ties_ex);
        dg.add(l1);

        // the fused merge
        Stored out = store(c.out_dtype, std::vector<float>(c.n, 0.0f));
        std::vector<unsigned long long> counters(c.t + 2, 0);
        float wsum = 0.0f;
        for (const GtaModel& md : table) wsum = wsum + md.weight;
        const float divisor = std::fabs(wsum) < 1e-8f ? 1.0f : wsum;
        const float lambda = 0.9f;
        GtaMergeArgs ma{base.ptr(), out.ptr(), addr(table), chunk_start, c.n, addr(counters), c.base_dtype, c.out_dtype, c.t,
                        c.consensus, c.normalize, divisor, lambda, hash, seed_lo, seed_hi};
        const size_t shared = c.t * sizeof(GtaModel) + (c.t + 2) * 4 + (c.consensus != CONSENSUS_NONE ? c.t * kBlock * 4 : 0);
        launch("amalgam_gta_merge", 5, 1, kBlock, shared, &ma);
        std::vector<unsigned long long> want_counters(c.t + 2, 0);
        bool ok = true;
        for (size_t j = 0; j < c.n && ok; ++j) {
            const uint64_t i = chunk_start + j;
            const float bj = base.at(j);
            std::vector<float> v(c.t);
            float mixed = 0.0f;
            double sum = 0.0;
            int count = 0;
            for (uint32_t m = 0; m < c.t; ++m) {
                float d = __fsub_rn(models[m].at(j), bj);
                const bool kept = keeps(table[m], key_of(d), i, hash, seed_lo, seed_hi);
                want_counters[m] += kept;
                if (!kept) d = 0.0f;
                float r = d;
                if (c.rescale_mode == RESCALE_MULTIPLY) r = static_cast<float>(static_cast<double>(d) * table[m].rescale);
                if (c.rescale_mode == RESCALE_DIVIDE) r = static_cast<float>(static_cast<double>(d) / table[m].rescale);
                v[m] = table[m].weight * r;
                sum += v[m];
                count += (v[m] > 0.0f) - (v[m] < 0.0f);
                if (c.consensus == CONSENSUS_NONE) mixed = mixed + v[m];
            }
            bool conflict = false;
            if (c.consensus != CONSENSUS_NONE) {
                const int elected = c.consensus == CONSENSUS_SUM ? (sum >= 0.0 ? 1 : -1) : (count >= 0 ? 1 : -1);
                float div = 0.0f;
                for (uint32_t m = 0; m < c.t; ++m) {
                    const int s = (v[m] > 0.0f) - (v[m] < 0.0f);
                    if (s == elected) {
                        mixed = mixed + v[m];
                        div = div + table[m].weight;
                    } else if (v[m] != 0.0f) {
                        conflict = true;
                    }
                }
                if (c.normalize) mixed = mixed / (div == 0.0f ? 1.0f : div);
            } else if (c.normalize) {
                mixed = mixed / divisor;
            }
            mixed = mixed * lambda;
            const float want = narrow(c.out_dtype, bj + mixed);
            want_counters[c.t] += conflict;
            want_counters[c.t + 1] += std::isfinite(want) ? 0 : 1;
            ok = std::bit_cast<uint32_t>(out.at(j)) == std::bit_cast<uint32_t>(want);
            CHECK(ok, "gta_merge n=%zu t=%u j=%zu: %a vs %a", c.n, c.t, j, out.at(j), want);
        }
        CHECK(counters == want_counters, "gta_merge counters n=%zu t=%u", c.n, c.t);
        dg.add(out.f32);
        dg.add(out.u16);
        dg.add(counters);
    }
}

void finite_scan(Digest& dg, std::mt19937_64& rng) {
    const size_t n = 9001;
    std::vector<Stored> in;
    std::vector<LinearInput> table;
    for (uint32_t j = 0; j < 4; ++j) in.push_back(store(j % 3, random_floats(rng, n, 1.0f)));
    in[1].u16[8999] = 0x7C00;  // +Inf in an f16 input
    in[3].f32[3] = std::bit_cast<float>(0x7FC00001u);
    for (uint32_t j = 0; j < 4; ++j) table.push_back(LinearInput{in[j].ptr(), in[j].dtype, 1.0f});
    std::vector<uint32_t> flags(4, 0);
    FiniteScanArgs a{addr(table), n, addr(flags), 4, 0};
    launch("amalgam_finite_scan", 4, 1, 256, 0, &a);
    CHECK((flags == std::vector<uint32_t>{0, 1, 0, 1}), "finite_scan flags %u %u %u %u", flags[0], flags[1], flags[2], flags[3]);
    dg.add(flags);
}

// ---------------------------------------------------------------------------------------------
// SVD: scan, prepare, Jacobi (shared and blocked), normalize, order, emit; and SGEMM

/** max_sweeps < 30 (sanitizer runs): only the digest is compared, convergence is not required. */
void svd_one(Digest& dg, std::mt19937_64& rng, uint32_t m, uint32_t n, uint32_t count, bool blocked, uint32_t max_sweeps = 30) {
    const bool check = max_sweeps >= 30;
    const uint32_t p = std::max(m, n), q = std::min(m, n);
    const uint64_t elems = static_cast<uint64_t>(m) * n;
    std::vector<float> a = random_floats(rng, elems * count, 3.0f);
    std::vector<uint32_t> max_keys(count, 0);
    SvdScanArgs scan{addr(a), addr(max_keys), elems, count, 0};
    launch("amalgam_svd_scan", 2, count, kSvdThreads, 0, &scan);
    for (uint32_t k = 0; k < count; ++k) {
        uint32_t want = 0;
        for (uint64_t i = 0; i < elems; ++i) want = std::max(want, key_of(a[k * elems + i]));
        CHECK(max_keys[k] == want, "svd_scan matrix %u", k);
    }
    std::vector<float> work(elems * count, 0.0f), v(static_cast<uint64_t>(q) * q * count, 0.0f);
    std::vector<int32_t> exps(count, 0);
    const bool tall = m >= n;
    SvdPrepareArgs prep{addr(a), addr(work), addr(max_keys), addr(exps), m, n, count, tall ? 1u : 0u};
    launch("amalgam_svd_prepare", ((m + 31) / 32) * ((n + 31) / 32), count, kSvdThreads, 0, &prep);
    std::vector<SvdStatus> status(count, SvdStatus{0, 0, 0.0f, 0});
    const float tol = static_cast<float>(std::sqrt(static_cast<double>(p)) * 0x1p-23);
    if (!blocked) {
        SvdJacobiArgs j{addr(work), addr(v), addr(status), p, q, count, max_sweeps, tol, 0};
        launch("amalgam_svd_jacobi_shared", 1, count, kSvdThreads, (static_cast<size_t>(p) * q + q * q) * 4, &j);
    } else {
        SvdIdentityArgs id{addr(v), q, count};
        launch("amalgam_svd_identity", 2, count, kSvdThreads, 0, &id);
        const uint32_t blocks = (q + kSvdBlockWidth - 1) / kSvdBlockWidth;
        const uint32_t players = blocks + (blocks & 1u);
        for (uint32_t sweep = 0; sweep < max_sweeps; ++sweep) {
            for (uint32_t step = 0; step + 1 < players; ++step) {
                SvdJacobiArgs j{addr(work), addr(v), addr(status), p, q, count, max_sweeps, tol, step};
                launch("amalgam_svd_block_step", players / 2, count, kSvdThreads, 0, &j);
            }
            std::vector<uint32_t> active(1, 0);
            SvdSweepArgs se{addr(status), addr(active), count, max_sweeps, tol, 0};
            launch("amalgam_svd_sweep_end", 1, 1, kSvdThreads, 0, &se);
            if (active[0] == 0) break;
        }
    }
    for (uint32_t k = 0; k < count && check; ++k) CHECK(status[k].converged == 1, "svd %ux%u matrix %u did not converge (off %g)", m, n, k, status[k].off);
    std::vector<double> sigma(static_cast<uint64_t>(q) * count), s_out(sigma.size());
    std::vector<uint32_t> perm(sigma.size());
    SvdNormalizeArgs norm{addr(work), addr(sigma), p, q, count, 0};
    launch("amalgam_svd_normalize", q, count, kSvdThreads, 0, &norm);
    SvdOrderArgs ord{addr(sigma), addr(exps), addr(perm), addr(s_out), q, count};
    launch("amalgam_svd_order", 1, count, kSvdThreads, 0, &ord);
    const uint32_t keep = q;
    std::vector<float> u(static_cast<uint64_t>(m) * keep * count), vh(static_cast<uint64_t>(keep) * n * count);
    SvdEmitArgs emit{addr(work), addr(v), addr(perm), addr(u), addr(vh), p, q, count, keep, tall ? 0u : 1u, 0, 0, 0};
    launch("amalgam_svd_emit", 3, count, kSvdThreads, 0, &emit);
    for (uint32_t k = 0; k < count && check; ++k) {
        // A ≈ U·diag(s)·Vh (row-major), relative Frobenius error; U orthonormal columns; s descending
        double err = 0.0, total = 0.0;
        for (uint32_t i = 0; i < m; ++i) {
            for (uint32_t c = 0; c < n; ++c) {
                double r = 0.0;
                for (uint32_t l = 0; l < keep; ++l) {
                    r += static_cast<double>(u[k * m * keep + i * keep + l]) * s_out[k * q + l] * vh[k * keep * n + l * n + c];
                }
                const double x = a[k * elems + static_cast<uint64_t>(i) * n + c];
                err += (r - x) * (r - x);
                total += x * x;
            }
        }
        CHECK(std::sqrt(err / total) < 2e-6, "svd %ux%u reconstruction %g", m, n, std::sqrt(err / total));
        double worst = 0.0;
        for (uint32_t l1 = 0; l1 < keep; ++l1) {
            for (uint32_t l2 = 0; l2 < keep; ++l2) {
                double d = 0.0;
                for (uint32_t i = 0; i < m; ++i) d += static_cast<double>(u[k * m * keep + i * keep + l1]) * u[k * m * keep + i * keep + l2];
                worst = std::max(worst, std::fabs(d - (l1 == l2 ? 1.0 : 0.0)));
            }
        }
        CHECK(worst < 1e-5, "svd %ux%u orthogonality of U %g", m, n, worst);
        for (uint32_t l = 1; l < q; ++l) CHECK(s_out[k * q + l - 1] >= s_out[k * q + l], "svd order");
    }
    dg.add(u);
    dg.add(vh);
    dg.add(s_out);
}

void sgemm(Digest& dg, std::mt19937_64& rng) {
    struct Shape { uint32_t m, n, k, ta, tb, batch; float beta; };
    for (const Shape& s : {Shape{70, 33, 17, 0, 0, 2, 0.0f}, Shape{5, 130, 65, 1, 0, 1, 0.5f}, Shape{64, 64, 16, 0, 1, 3, 0.0f},
                           Shape{1, 1, 1, 1, 1, 1, 1.0f}}) {
        const uint32_t lda = s.ta ? s.k : s.m, ldb = s.tb ? s.n : s.k, ldc = s.m;
        const uint64_t sa = static_cast<uint64_t>(lda) * (s.ta ? s.m : s.k), sb = static_cast<uint64_t>(ldb) * (s.tb ? s.k : s.n);
        const uint64_t sc = static_cast<uint64_t>(ldc) * s.n;
        std::vector<float> a = random_floats(rng, sa * s.batch, 1.0f), b = random_floats(rng, sb * s.batch, 1.0f);
        std::vector<float> c = random_floats(rng, sc * s.batch, 1.0f), c0 = c;
        const float alpha = 1.5f;
        SgemmArgs g{addr(a), addr(b), addr(c), sa, sb, sc, s.m, s.n, s.k, lda, ldb, ldc, s.ta, s.tb, s.batch, alpha, s.beta, 0};
        const uint32_t tiles = ((s.m + kGemmTile - 1) / kGemmTile) * ((s.n + kGemmTile - 1) / kGemmTile);
        launch("amalgam_sgemm", tiles, s.batch, kSvdThreads, 0, &g);
        double worst = 0.0;
        for (uint32_t z = 0; z < s.batch; ++z) {
            for (uint32_t i = 0; i < s.m; ++i) {
                for (uint32_t j = 0; j < s.n; ++j) {
                    double r = 0.0, mag = 0.0;
                    for (uint32_t l = 0; l < s.k; ++l) {
                        const double x = s.ta ? a[z * sa + l + static_cast<uint64_t>(i) * lda] : a[z * sa + i + static_cast<uint64_t>(l) * lda];
                        const double y = s.tb ? b[z * sb + j + static_cast<uint64_t>(l) * ldb] : b[z * sb + l + static_cast<uint64_t>(j) * ldb];
                        r += x * y;
                        mag += std::fabs(x * y);
                    }
                    const double want = alpha * r + (s.beta != 0.0f ? s.beta * c0[z * sc + i + static_cast<uint64_t>(j) * ldc] : 0.0);
                    worst = std::max(worst, std::fabs(c[z * sc + i + static_cast<uint64_t>(j) * ldc] - want) / (alpha * mag + 1.0));
                }
            }
        }
        CHECK(worst < 1e-5, "sgemm %ux%ux%u error %g", s.m, s.n, s.k, worst);
        dg.add(c);
    }
}

// ---------------------------------------------------------------------------------------------
// The shim's own checks

struct ProbeArgs {
    uint64_t out;
    uint32_t mode;
    uint32_t reserved;
};

extern "C" __global__ void probe_kernel(const ProbeArgs args) {
    __shared__ uint32_t cell[256];
    uint32_t* out = reinterpret_cast<uint32_t*>(args.out);
    if (args.mode == 0) {  // a barrier only half the block reaches
        if (threadIdx.x < 128) __syncthreads();
    } else if (args.mode == 1) {  // threads exit, the rest wait at a barrier
        if (threadIdx.x >= 64) return;
        __syncthreads();
    } else if (args.mode == 2) {  // a full-warp ballot in a block of 48 threads
        out[threadIdx.x] = __ballot_sync(0xFFFFFFFFu, 1);
    } else if (args.mode == 3) {  // two different barriers
        if (threadIdx.x % 2 == 0) {
            __syncthreads();
        } else {
            __syncthreads();
        }
    } else if (args.mode == 4) {  // correct: barrier, shuffle, ballot, shared memory
        cell[threadIdx.x] = threadIdx.x;
        __syncthreads();
        const uint32_t other = cell[(threadIdx.x + 1) % blockDim.x];
        const uint32_t down = __shfl_down_sync(0xFFFFFFFFu, other, 1);
        const uint32_t bits = __ballot_sync(0xFFFFFFFFu, (threadIdx.x & 1u) != 0);
        out[blockIdx.x * blockDim.x + threadIdx.x] = down + (bits == 0xAAAAAAAAu ? 1000u : 0u);
    } else if (args.mode == 5) {  // a missing __syncthreads: a data race on shared memory
        cell[threadIdx.x] = threadIdx.x * 3;
        out[threadIdx.x] = cell[(threadIdx.x + 1) % blockDim.x];
    }
}

void shim_checks() {
    const simt::HostKernel probe{"probe_kernel", &entry<ProbeArgs, &probe_kernel>, sizeof(ProbeArgs)};
    std::vector<uint32_t> out(1024, 0);
    const char* expect[] = {"divergent __syncthreads", "divergent __syncthreads", "mask names lanes that do not exist",
                            "divergent __syncthreads"};
    const unsigned blocks[] = {256, 256, 48, 256};
    for (uint32_t mode = 0; mode < 4; ++mode) {
        ProbeArgs a{addr(out), mode, 0};
        std::string fault;
        try {
            simt::launch(probe, dim3{2, 1, 1}, dim3{blocks[mode], 1, 1}, 0, &a);
        } catch (const simt::Fault& f) {
            fault = f.what();
        }
        CHECK(fault.find(expect[mode]) != std::string::npos, "shim check %u: expected \"%s\", got \"%s\"", mode, expect[mode],
              fault.c_str());
    }
    ProbeArgs ok{addr(out), 4, 0};
    simt::launch(probe, dim3{4, 1, 1}, dim3{256, 1, 1}, 0, &ok);
    for (uint32_t b = 0; b < 4; ++b) {
        for (uint32_t t = 0; t < 256; ++t) {
            const uint32_t lane = t % 32;
            const uint32_t want = (lane < 31 ? (t + 2) % 256 : (t + 1) % 256) + 1000u;
            CHECK(out[b * 256 + t] == want, "shim: block %u thread %u got %u want %u", b, t, out[b * 256 + t], want);
        }
    }
}

}  // namespace

int main() {
    const char* which = std::getenv("AMALGAM_HOST_TESTS");
    if (which != nullptr && std::string(which) == "race") {
        const simt::HostKernel probe{"probe_kernel", &entry<ProbeArgs, &probe_kernel>, sizeof(ProbeArgs)};
        std::vector<uint32_t> out(256, 0);
        ProbeArgs a{addr(out), 5, 0};
        simt::launch(probe, dim3{1, 1, 1}, dim3{256, 1, 1}, 0, &a);
        std::printf("race kernel ran\n");
        return 0;
    }
    small = which != nullptr && std::string(which) == "small";
    std::mt19937_64 rng(0x5EED1234u);
    auto timed = [](const char* what, const std::function<void()>& f) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        std::printf("time %s %.2f s\n", what, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    };
    Digest d_linear, d_hist, d_gta, d_scan, d_svd, d_gemm;
    timed("conversions", [] { half_conversions(); });
    timed("shim_checks", [] { shim_checks(); });
    timed("linear", [&] { linear(d_linear, rng); });
    timed("magnitude_select", [&] { histogram(d_hist, rng); });
    timed("gta", [&] { gta(d_gta, rng); });
    timed("finite_scan", [&] { finite_scan(d_scan, rng); });
    timed("svd_shared", [&] {
        svd_one(d_svd, rng, small ? 13 : 37, small ? 10 : 21, small ? 1 : 2, false);  // tall, shared-memory Jacobi
        svd_one(d_svd, rng, 9, small ? 12 : 30, 1, false);                            // wide
    });
    timed("svd_blocked", [&] { svd_one(d_svd, rng, small ? 34 : 40, small ? 33 : 34, 1, true, small ? 1 : 30); });  // 3 column blocks (one partial) + a dummy
    timed("sgemm", [&] { sgemm(d_gemm, rng); });
    std::printf("digest linear %016" PRIx64 "\n", d_linear.h);
    std::printf("digest magnitude_select %016" PRIx64 "\n", d_hist.h);
    std::printf("digest gta %016" PRIx64 "\n", d_gta.h);
    std::printf("digest finite_scan %016" PRIx64 "\n", d_scan.h);
    std::printf("digest svd %016" PRIx64 "\n", d_svd.h);
    std::printf("digest sgemm %016" PRIx64 "\n", d_gemm.h);
    std::printf("%s: %d failure(s)\n", failures == 0 ? "PASSED" : "FAILED", failures);
    return failures == 0 ? 0 : 1;
}

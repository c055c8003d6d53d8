package dev.amalgam.benchmarks;

import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;

/**
 * Inputs and backends for the kernel benchmarks.
 *
 * <p>Implementation notes. Tensors are filled by a xorshift generator (fast enough for 16M × 9
 * elements in setup): a base with magnitudes around 2^-8 … 1 and models that differ from it by
 * about 1%, like fine-tunes of one base. Rounded to bf16 such deltas repeat, so trims meet
 * real ties at their thresholds.
 */
final class BenchmarkData {

    private BenchmarkData() {
    }

    /** Opens the named backend (reference, cpu, cuda) or says why it cannot. */
    static KernelBackend open(String name) {
        for (KernelProvider p : KernelBackends.providers()) {
            if (!p.name().equals(name)) continue;
            KernelProvider.Availability a = p.availability();
            if (!a.usable()) throw new IllegalStateException("backend '" + name + "' is not usable: " + a.reason());
            return p.open();
        }
        throw new IllegalStateException("no backend named '" + name + "'");
    }

    /** The fastest usable CPU backend, for setup work (thresholds) that is not measured. */
    static KernelBackend setupBackend() {
        KernelBackend b = KernelBackends.select(dev.amalgam.kernel.Device.CPU).backend();
        return b;
    }

    static Tensor allocate(Arena arena, String name, DType dtype, long n) {
        TensorInfo info = new TensorInfo(name, dtype, new long[] {n});
        return new Tensor(info, arena.allocate(info.byteSize(), 64));
    }

    /** A base tensor: random signs, magnitudes in [2^-8, 1). */
    static Tensor base(Arena arena, String name, DType dtype, long n, long seed) {
        Tensor t = allocate(arena, name, dtype, n);
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        for (long i = 0; i < n; i++) {
            s = next(s);
            t.setFloat(i, value(s));
        }
        return t;
    }

    /** A model: base + about 1% of a random value. */
    static Tensor model(Arena arena, String name, DType dtype, Tensor base, long seed) {
        long n = base.elementCount();
        Tensor t = allocate(arena, name, dtype, n);
        long s = seed * 0xD1B54A32D192ED03L + 7;
        for (long i = 0; i < n; i++) {
            s = next(s);
            t.setFloat(i, base.getFloat(i) + 0.01f * value(s));
        }
        return t;
    }

    private static long next(long s) {
        s ^= s << 13;
        s ^= s >>> 7;
        s ^= s << 17;
        return s;
    }

    private static float value(long bits) {
        float mag = Float.intBitsToFloat(0x3B800000 | (int) (bits & 0x7FFFFF)) * (1 + (int) ((bits >>> 23) & 127)) / 128f;
        return (bits & (1L << 40)) != 0 ? mag : -mag;
    }

    /** Bytes of a tensor's storage. */
    static long bytes(Tensor t) {
        return t.info().byteSize();
    }
}

package dev.amalgam.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * Random and hand-made tensors for kernel tests, and bit-level comparison of outputs.
 *
 * <p>Implementation notes. Tensors live in {@link Arena#ofAuto()} memory (freed by the GC).
 * {@link Style#GRID} values are multiples of 1/16 in [−8, 8] so that model − base is exact
 * in every dtype and magnitudes repeat a lot (ties at any threshold, and −0.0 deltas from a
 * +0.0 base and a −0.0 model). Random data is never all zeros.
 */
public final class KernelTestData {

    private KernelTestData() {
    }

    /** How values are drawn. */
    public enum Style {
        /** Wide magnitudes (about 2^-20 … 2^4), random signs, occasional exact zeros. */
        WIDE,
        /** Multiples of 1/16: many exactly equal magnitudes and signed zeros. */
        GRID
    }

    /** A tensor of n elements (shape [n], or 0-D when n = 1 and {@code scalar}). */
    public static Tensor allocate(String name, DType dtype, long n) {
        long[] shape = n == 1 ? new long[0] : new long[] {n};
        TensorInfo info = new TensorInfo(name, dtype, shape);
        MemorySegment data = Arena.ofAuto().allocate(Math.max(1, info.byteSize()), 8);
        if (info.byteSize() == 0) data = data.asSlice(0, 0);
        return new Tensor(info, data);
    }

    /** A random base tensor. */
    public static Tensor randomBase(String name, DType dtype, long n, Style style, SplittableRandom rnd) {
        Tensor t = allocate(name, dtype, n);
        for (long i = 0; i < n; i++) {
            t.setFloat(i, style == Style.GRID ? grid(rnd, 64) : wide(rnd));
        }
        ensureNonZero(t, rnd);
        return t;
    }

    /**
     * A random model near {@code base}: base + a random delta (GRID: an exact multiple of 1/16,
     * and −0.0 where the base is +0.0 now and then).
     */
    public static Tensor randomModel(String name, DType dtype, Tensor base, Style style, SplittableRandom rnd) {
        long n = base.elementCount();
        Tensor t = allocate(name, dtype, n);
        for (long i = 0; i < n; i++) {
            float b = base.getFloat(i);
            float v;
            if (style == Style.GRID) {
                int r = rnd.nextInt(8);
                if (r == 0) v = b;                                        // δ = +0.0
                else if (r == 1 && b == 0f) v = -0.0f;                    // δ = −0.0 − (+0.0) = −0.0
                else v = b + grid(rnd, 8);
            } else {
                v = b + wide(rnd) * (rnd.nextInt(4) == 0 ? 0.001f : 1f);
            }
            t.setFloat(i, v);
        }
        ensureNonZero(t, rnd);
        return t;
    }

    /** k/16 for k uniform in [−limit·16, limit·16], with +0.0 about 1/16 of the time. */
    private static float grid(SplittableRandom rnd, int limit) {
        if (rnd.nextInt(16) == 0) return 0f;
        return rnd.nextInt(-limit * 16, limit * 16 + 1) / 16f;
    }

    private static float wide(SplittableRandom rnd) {
        if (rnd.nextInt(64) == 0) return 0f;
        float mag = (float) Math.scalb(1.0 + rnd.nextDouble(), rnd.nextInt(-20, 4));
        return rnd.nextBoolean() ? mag : -mag;
    }

    private static void ensureNonZero(Tensor t, SplittableRandom rnd) {
        for (long i = 0; i < t.elementCount(); i++) {
            if (t.getFloat(i) != 0f) return;
        }
        if (t.elementCount() > 0) t.setFloat(rnd.nextLong(t.elementCount()), 0.5f);
    }

    /** A tensor holding exactly these values (rounded to the dtype). */
    public static Tensor of(String name, DType dtype, float... values) {
        Tensor t = allocate(name, dtype, values.length);
        for (int i = 0; i < values.length; i++) t.setFloat(i, values[i]);
        return t;
    }

    /** The elements as float32. */
    public static float[] values(Tensor t) {
        float[] v = new float[Math.toIntExact(t.elementCount())];
        for (int i = 0; i < v.length; i++) v[i] = t.getFloat(i);
        return v;
    }

    /** Raw storage bits of element i (F32: 32 bits, F16/BF16: 16 bits). */
    public static int storageBits(Tensor t, long i) {
        return switch (t.dtype()) {
            case F32 -> Float.floatToRawIntBits(t.data().getAtIndex(Tensor.F32_LE, i));
            case F16, BF16 -> t.data().getAtIndex(Tensor.I16_LE, i) & 0xFFFF;
            default -> throw new IllegalArgumentException(t.dtype().toString());
        };
    }

    /**
     * Asserts that two tensors hold the same raw bits, element by element. Two NaNs are equal
     * whatever their payload (Java does not pin NaN payloads through arithmetic).
     */
    public static void assertSameBits(Tensor expected, Tensor actual, String context) {
        assertEquals(expected.dtype(), actual.dtype(), context + ": dtype");
        assertEquals(expected.elementCount(), actual.elementCount(), context + ": element count");
        long mismatches = 0;
        long first = -1;
        for (long i = 0; i < expected.elementCount(); i++) {
            int e = storageBits(expected, i);
            int a = storageBits(actual, i);
            if (e != a && !(Float.isNaN(expected.getFloat(i)) && Float.isNaN(actual.getFloat(i)))) {
                if (first < 0) first = i;
                mismatches++;
            }
        }
        if (mismatches > 0) {
            fail(context + ": " + mismatches + " of " + expected.elementCount() + " elements differ; first at " + first
                    + ": expected " + expected.getFloat(first) + " (0x" + Integer.toHexString(storageBits(expected, first))
                    + "), got " + actual.getFloat(first) + " (0x" + Integer.toHexString(storageBits(actual, first)) + ")");
        }
    }
}

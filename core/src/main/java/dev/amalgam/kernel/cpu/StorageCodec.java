package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.L;
import static dev.amalgam.kernel.cpu.Lanes.S;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Loads and stores {@link Lanes#L} consecutive elements of a tensor's storage (F32, F16, BF16,
 * little-endian) as one float32 vector, converting on the way; the kernels read the (usually
 * memory-mapped) segments directly, with no bulk copy to the heap.
 *
 * <p>Implementation notes. Widening is exact: bf16 is a 16-bit shift; f16 puts exponent and
 * mantissa 13 bits up and multiplies by 2^112, which is exact for normals and subnormals alike,
 * with Inf/NaN patched to exponent 255. Narrowing to bf16 is the RNE rule of
 * {@link dev.amalgam.tensor.DTypeConversion} on integer lanes; narrowing to f16 uses
 * {@link Float#floatToFloat16} (an intrinsic) lane by lane. Types are small int codes so that the
 * switches inline into the kernels' loops. A tensor whose length is not a multiple of L has its
 * last vector copied to a zero-padded {@link Tail} and processed there; kernels mask their
 * counts with the valid lanes.
 */
final class StorageCodec {

    static final int F32 = 0;
    static final int BF16 = 1;
    static final int F16 = 2;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private StorageCodec() {
    }

    static int code(Tensor t) {
        return switch (t.dtype()) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
            default -> throw new IllegalArgumentException("tensor " + t.name() + ": dtype " + t.dtype() + " is not mergeable");
        };
    }

    static int bytes(int code) {
        return code == F32 ? 4 : 2;
    }

    /** Elements index … index + L − 1 widened to float32. */
    static FloatVector load(MemorySegment seg, int code, long index) {
        if (code == F32) return FloatVector.fromMemorySegment(F, seg, index * 4, LE);
        IntVector h = (IntVector) ShortVector.fromMemorySegment(S, seg, index * 2, LE).convertShape(VectorOperators.S2I, I, 0);
        if (code == BF16) return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        IntVector magnitude = h.and(0x7FFF);
        IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7C00);
        return finite.blend(shifted.or(0x7F800000), special).or(sign).reinterpretAsFloats();
    }

    /**
     * Stores v at elements index … index + L − 1, rounding to nearest even; returns how many of the
     * stored values in the {@code valid} lanes are NaN or ±Inf. {@code tmp} holds L floats (f16 path).
     */
    static int store(MemorySegment seg, int code, long index, FloatVector v, long valid, float[] tmp) {
        if (code == F32) {
            v.intoMemorySegment(seg, index * 4, LE);
            IntVector bits = v.reinterpretAsInts();
            return Long.bitCount(bits.and(0x7F800000).compare(VectorOperators.EQ, 0x7F800000).toLong() & valid);
        }
        if (code == BF16) {
            IntVector x = v.reinterpretAsInts();
            VectorMask<Integer> nan = x.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
            IntVector high = x.lanewise(VectorOperators.LSHR, 16);
            IntVector rounded = x.add(0x7FFF).add(high.and(1)).lanewise(VectorOperators.LSHR, 16);
            IntVector bf = rounded.blend(high.or(0x0040), nan);
            bf.convertShape(VectorOperators.I2S, S, 0).reinterpretAsShorts().intoMemorySegment(seg, index * 2, LE);
            return Long.bitCount(bf.and(0x7F80).compare(VectorOperators.EQ, 0x7F80).toLong() & valid);
        }
        v.intoArray(tmp, 0);
        int nonFinite = 0;
        for (int j = 0; j < L; j++) {
            short h = Float.floatToFloat16(tmp[j]);
            seg.set(Tensor.I16_LE, (index + j) * 2, h);
            if ((h & 0x7C00) == 0x7C00 && (valid >>> j & 1) != 0) nonFinite++;
        }
        return nonFinite;
    }

    /** Lane bits of a whole vector. */
    static final long ALL_LANES = (1L << L) - 1;

    /** Lane bits of valid lanes when {@code count} (≥ 1) elements remain. */
    static long validBits(long count) {
        return count >= L ? ALL_LANES : (1L << count) - 1;
    }

    /**
     * A zero-padded copy of the last, partial vector of some tensors, so that the kernels can run
     * their full-vector code on it. One per worker; the padding stays zero because every refill
     * copies the same number of elements.
     */
    static final class Tail {
        final MemorySegment[] in;
        final MemorySegment out;
        private final MemorySegment[] sources;
        private final int[] codes;
        private final long first;
        private final int count;

        /** The partial vector starting at {@code first} of tensors with n elements. */
        Tail(MemorySegment[] sources, int[] codes, long n) {
            this.sources = sources;
            this.codes = codes;
            this.first = n / L * L;
            this.count = (int) (n - first);
            Arena arena = Arena.ofAuto();
            in = new MemorySegment[sources.length];
            for (int j = 0; j < sources.length; j++) in[j] = arena.allocate(4L * L, 64);
            out = arena.allocate(4L * L, 64);
        }

        long first() {
            return first;
        }

        /** Copies the inputs' partial vector into {@link #in}. */
        void fill() {
            for (int j = 0; j < sources.length; j++) {
                int size = bytes(codes[j]);
                MemorySegment.copy(sources[j], first * size, in[j], 0, (long) count * size);
            }
        }

        /** Copies the valid part of {@link #out} to the output. */
        void flush(MemorySegment target, int outCode) {
            int size = bytes(outCode);
            MemorySegment.copy(out, 0, target, first * size, (long) count * size);
        }
    }
}

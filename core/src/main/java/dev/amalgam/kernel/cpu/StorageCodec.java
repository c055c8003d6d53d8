package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.L;
import static dev.amalgam.kernel.cpu.Lanes.S;

import dev.amalgam.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Moves a run of elements between a tensor's storage (F32, F16, BF16, little-endian) and a
 * float32 scratch array, converting with vectors on the way.
 *
 * <p>Implementation notes. A bulk {@link MemorySegment#copy} brings the raw bytes into a heap
 * array (any segment kind, any alignment, byte order handled), then vectors widen them. Widening
 * is exact: bf16 is a 16-bit shift; f16 puts exponent and mantissa 13 bits up and multiplies by
 * 2^112, which is exact for normals and subnormals alike, with Inf/NaN patched to exponent 255.
 * Narrowing to bf16 is the RNE rule of {@link dev.amalgam.tensor.DTypeConversion} on integer
 * lanes; narrowing to f16 uses {@link Float#floatToFloat16} (an intrinsic). Arrays are at least
 * {@link Lanes#roundUp} of the run long; lanes past the run hold junk and are never stored.
 */
final class StorageCodec {

    private StorageCodec() {
    }

    /** Reads elements [start, start + len) of {@code t} into {@code dst[0, len)}. */
    static void load(Tensor t, long start, int len, float[] dst, short[] raw) {
        MemorySegment data = t.data();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(data, Tensor.F32_LE, start * 4, dst, 0, len);
            case BF16 -> {
                MemorySegment.copy(data, Tensor.I16_LE, start * 2, raw, 0, len);
                for (int i = 0; i < len; i += L) {
                    IntVector bits = (IntVector) ShortVector.fromArray(S, raw, i).convertShape(VectorOperators.S2I, I, 0);
                    bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, i);
                }
            }
            case F16 -> {
                MemorySegment.copy(data, Tensor.I16_LE, start * 2, raw, 0, len);
                for (int i = 0; i < len; i += L) {
                    IntVector h = (IntVector) ShortVector.fromArray(S, raw, i).convertShape(VectorOperators.S2I, I, 0);
                    IntVector sign = h.and(0x8000).lanewise(VectorOperators.LSHL, 16);
                    IntVector magnitude = h.and(0x7FFF);
                    IntVector shifted = magnitude.lanewise(VectorOperators.LSHL, 13);
                    IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
                    VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7C00);
                    IntVector bits = finite.blend(shifted.or(0x7F800000), special).or(sign);
                    bits.reinterpretAsFloats().intoArray(dst, i);
                }
            }
            default -> throw new IllegalArgumentException("tensor " + t.name() + ": dtype " + t.dtype() + " is not mergeable");
        }
    }

    /** True if any of {@code x[0, len)} is NaN or ±Inf. */
    static boolean anyNonFinite(float[] x, int len) {
        for (int i = 0; i < len; i += L) {
            IntVector bits = FloatVector.fromArray(F, x, i).reinterpretAsInts();
            VectorMask<Integer> special = bits.and(0x7F800000).compare(VectorOperators.EQ, 0x7F800000);
            if (special.and(Lanes.valid(i, len).cast(I)).anyTrue()) return true;
        }
        return false;
    }

    /**
     * Writes {@code src[0, len)} to elements [start, start + len) of {@code t}, rounding to nearest
     * even; returns how many stored values are NaN or ±Inf.
     */
    static long store(Tensor t, long start, int len, float[] src, short[] raw) {
        MemorySegment data = t.data();
        long nonFinite = 0;
        switch (t.dtype()) {
            case F32 -> {
                for (int i = 0; i < len; i += L) {
                    IntVector bits = FloatVector.fromArray(F, src, i).reinterpretAsInts();
                    VectorMask<Integer> special = bits.and(0x7F800000).compare(VectorOperators.EQ, 0x7F800000);
                    nonFinite += special.and(Lanes.valid(i, len).cast(I)).trueCount();
                }
                MemorySegment.copy(src, 0, data, Tensor.F32_LE, start * 4, len);
            }
            case BF16 -> {
                for (int i = 0; i < len; i += L) {
                    IntVector x = FloatVector.fromArray(F, src, i).reinterpretAsInts();
                    VectorMask<Integer> nan = x.and(0x7FFFFFFF).compare(VectorOperators.GT, 0x7F800000);
                    IntVector lsb = x.lanewise(VectorOperators.LSHR, 16).and(1);
                    IntVector rounded = x.add(0x7FFF).add(lsb).lanewise(VectorOperators.LSHR, 16);
                    IntVector quiet = x.lanewise(VectorOperators.LSHR, 16).or(0x0040);
                    IntVector bf = rounded.blend(quiet, nan);
                    VectorMask<Integer> special = bf.and(0x7F80).compare(VectorOperators.EQ, 0x7F80);
                    nonFinite += special.and(Lanes.valid(i, len).cast(I)).trueCount();
                    bf.convertShape(VectorOperators.I2S, S, 0).reinterpretAsShorts().intoArray(raw, i);
                }
                MemorySegment.copy(raw, 0, data, Tensor.I16_LE, start * 2, len);
            }
            case F16 -> {
                for (int i = 0; i < len; i++) {
                    short h = Float.floatToFloat16(src[i]);
                    raw[i] = h;
                    if ((h & 0x7C00) == 0x7C00) nonFinite++;
                }
                MemorySegment.copy(raw, 0, data, Tensor.I16_LE, start * 2, len);
            }
            default -> throw new IllegalArgumentException("tensor " + t.name() + ": dtype " + t.dtype() + " is not mergeable");
        }
        return nonFinite;
    }
}

package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.NearswapPass;
import dev.amalgam.kernel.RamPass;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * nearswap and the RAM family on all cores, bit-identical to
 * {@link dev.amalgam.kernel.ReferenceElementwise}: the same float32 operations per lane, in the
 * same order (vector {@code max}/{@code min} are {@link Math#max}/{@link Math#min} per lane, so
 * NaN propagates the same way), and a lane is only added to where the reference adds.
 *
 * <p>Implementation notes. Inputs are read straight from their segments in 64K-element chunks;
 * the last partial vector goes through a zero-padded {@link StorageCodec.Tail} with its lanes
 * masked out of every count. Non-finite inputs are detected with a running max of |x| bits and a
 * flagged chunk is rescanned per input to name the first offender, as in {@link LinearKernel}.
 */
final class ElementwiseKernels {

    private static final int CHUNK = GtaKernel.CHUNK;

    private ElementwiseKernels() {
    }

    static LinearResult nearswap(NearswapPass pass) {
        float t = pass.t();
        return run(new Tensor[] {pass.base(), pass.other()}, pass.out(), pass.allowNonfinite(), (n, segs, types, out, allow) ->
                new Worker(n, segs, types, out, allow) {
                    @Override
                    FloatVector vector(MemorySegment[] in, long at) {
                        FloatVector a = StorageCodec.load(in[0], types[0], at), b = StorageCodec.load(in[1], types[1], at);
                        flagNonFinite(a);
                        flagNonFinite(b);
                        FloatVector w = FloatVector.broadcast(F, t).div(a.sub(b).abs().max(NearswapPass.MIN_DIFFERENCE));
                        w = w.max(0f).min(1f);
                        return w.mul(b).add(FloatVector.broadcast(F, 1f).sub(w).mul(a));
                    }
                });
    }

    static LinearResult ram(RamPass pass) {
        int count = pass.models().size();
        Tensor[] inputs = new Tensor[count + 1];
        inputs[0] = pass.base();
        for (int m = 0; m < count; m++) inputs[m + 1] = pass.models().get(m);
        float eps = pass.epsilon();
        float[] scale = pass.uniqueScale().clone();
        return run(inputs, pass.out(), pass.allowNonfinite(), (n, segs, types, out, allow) ->
                new Worker(n, segs, types, out, allow) {
                    @Override
                    FloatVector vector(MemorySegment[] in, long at) {
                        FloatVector b = StorageCodec.load(in[0], types[0], at);
                        flagNonFinite(b);
                        FloatVector c = FloatVector.zero(F);
                        for (int m = 1; m <= count; m++) {
                            FloatVector x = StorageCodec.load(in[m], types[m], at);
                            flagNonFinite(x);
                            c = c.add(1f, x.sub(b).abs().compare(VectorOperators.GT, eps));
                        }
                        VectorMask<Float> single = c.compare(VectorOperators.EQ, 1f);
                        FloatVector merged = FloatVector.zero(F);
                        for (int m = 1; m <= count; m++) {
                            FloatVector tau = StorageCodec.load(in[m], types[m], at).sub(b);
                            VectorMask<Float> contributes = tau.abs().compare(VectorOperators.GT, eps);
                            FloatVector value = tau.div(c).blend(tau.mul(scale[m - 1]), single);
                            merged = merged.blend(merged.add(value), contributes);
                        }
                        return b.add(merged);
                    }
                });
    }

    static RamPass.Overlap ramOverlap(RamPass pass) {
        int count = pass.models().size();
        long n = pass.base().elementCount();
        MemorySegment[] segs = new MemorySegment[count + 1];
        int[] types = new int[count + 1];
        segs[0] = pass.base().data();
        types[0] = StorageCodec.code(pass.base());
        for (int m = 0; m < count; m++) {
            segs[m + 1] = pass.models().get(m).data();
            types[m + 1] = StorageCodec.code(pass.models().get(m));
        }
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        float eps = pass.epsilon();
        long[] shared = new long[count], unique = new long[count];
        for (OverlapWorker w : ChunkRunner.run(chunks, i -> new OverlapWorker(n, segs, types, eps))) {
            for (int m = 0; m < count; m++) {
                shared[m] += w.shared[m];
                unique[m] += w.unique[m];
            }
        }
        return new RamPass.Overlap(shared, unique);
    }

    private static final class OverlapWorker implements ChunkRunner.Worker {
        private final long n;
        private final MemorySegment[] segs;
        private final int[] types;
        private final float eps;
        private final StorageCodec.Tail tail;
        final long[] shared, unique;
        private final long[] bits;

        OverlapWorker(long n, MemorySegment[] segs, int[] types, float eps) {
            this.n = n;
            this.segs = segs;
            this.types = types;
            this.eps = eps;
            this.tail = n % L == 0 ? null : new StorageCodec.Tail(segs, types, n);
            shared = new long[segs.length - 1];
            unique = new long[segs.length - 1];
            bits = new long[segs.length - 1];
        }

        @Override
        public void run(int chunk) {
            long from = (long) chunk * CHUNK, to = Math.min(n, from + CHUNK);
            for (long i = from; i < to; i += L) {
                MemorySegment[] in = segs;
                long at = i, valid = StorageCodec.ALL_LANES;
                if (i + L > n) {
                    tail.fill();
                    in = tail.in;
                    at = 0;
                    valid = StorageCodec.validBits(n - i);
                }
                FloatVector b = StorageCodec.load(in[0], types[0], at);
                FloatVector c = FloatVector.zero(F);
                for (int m = 0; m < bits.length; m++) {
                    VectorMask<Float> contributes = StorageCodec.load(in[m + 1], types[m + 1], at).sub(b).abs()
                            .compare(VectorOperators.GT, eps);
                    bits[m] = contributes.toLong() & valid;
                    c = c.add(1f, contributes);
                }
                long single = c.compare(VectorOperators.EQ, 1f).toLong();
                for (int m = 0; m < bits.length; m++) {
                    unique[m] += Long.bitCount(bits[m] & single);
                    shared[m] += Long.bitCount(bits[m] & ~single);
                }
            }
        }
    }

    /** Makes a worker over the given storage. */
    private interface WorkerFactory {
        Worker create(long n, MemorySegment[] segs, int[] types, Tensor out, boolean allowNonfinite);
    }

    private static LinearResult run(Tensor[] inputs, Tensor out, boolean allowNonfinite, WorkerFactory factory) {
        int count = inputs.length;
        long n = out.elementCount();
        MemorySegment[] segs = new MemorySegment[count];
        int[] types = new int[count];
        for (int j = 0; j < count; j++) {
            segs[j] = inputs[j].data();
            types[j] = StorageCodec.code(inputs[j]);
        }
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        boolean[] nonFinite = new boolean[count];
        long nonFiniteOut = 0;
        for (Worker w : ChunkRunner.run(chunks, i -> factory.create(n, segs, types, out, allowNonfinite))) {
            for (int j = 0; j < count; j++) nonFinite[j] |= w.nonFinite[j];
            nonFiniteOut += w.nonFiniteOut;
        }
        if (!allowNonfinite) {
            for (int j = 0; j < count; j++) if (nonFinite[j]) return new LinearResult(j, 0);
        }
        return new LinearResult(-1, nonFiniteOut);
    }

    /** The chunk loop; subclasses compute one output vector from the inputs at an index. */
    private abstract static class Worker implements ChunkRunner.Worker {
        private final long n;
        private final MemorySegment[] segs;
        final int[] types;
        private final MemorySegment outSeg;
        private final int outType;
        private final boolean checkFinite;
        private final StorageCodec.Tail tail;
        private final float[] f16 = new float[L];
        final boolean[] nonFinite;
        long nonFiniteOut;
        private boolean suspicious;

        Worker(long n, MemorySegment[] segs, int[] types, Tensor out, boolean allowNonfinite) {
            this.n = n;
            this.segs = segs;
            this.types = types;
            this.outSeg = out.data();
            this.outType = StorageCodec.code(out);
            this.checkFinite = !allowNonfinite;
            this.tail = n % L == 0 ? null : new StorageCodec.Tail(segs, types, n);
            this.nonFinite = new boolean[segs.length];
        }

        abstract FloatVector vector(MemorySegment[] in, long at);

        /** Marks the chunk for a rescan if x has a NaN/Inf lane (padding lanes are zero). */
        final void flagNonFinite(FloatVector x) {
            if (checkFinite && x.reinterpretAsInts().and(0x7FFFFFFF).compare(VectorOperators.GE, 0x7F800000).anyTrue()) suspicious = true;
        }

        @Override
        public void run(int chunk) {
            long from = (long) chunk * CHUNK, to = Math.min(n, from + CHUNK);
            suspicious = false;
            for (long i = from; i < to; i += L) {
                MemorySegment[] in = segs;
                MemorySegment out = outSeg;
                long at = i, valid = StorageCodec.ALL_LANES;
                if (i + L > n) {
                    tail.fill();
                    in = tail.in;
                    out = tail.out;
                    at = 0;
                    valid = StorageCodec.validBits(n - i);
                }
                nonFiniteOut += StorageCodec.store(out, outType, at, vector(in, at), valid, f16);
                if (out != outSeg) tail.flush(outSeg, outType);
            }
            if (suspicious) findNonFinite(from, to);
        }

        private void findNonFinite(long from, long to) {
            for (int j = 0; j < segs.length; j++) {
                for (long i = from; i < to && !nonFinite[j]; i += L) {
                    MemorySegment seg = segs[j];
                    long at = i, valid = StorageCodec.ALL_LANES;
                    if (i + L > n) {
                        tail.fill();
                        seg = tail.in[j];
                        at = 0;
                        valid = StorageCodec.validBits(n - i);
                    }
                    IntVector bits = StorageCodec.load(seg, types[j], at).reinterpretAsInts();
                    if ((bits.and(0x7F800000).compare(VectorOperators.EQ, 0x7F800000).toLong() & valid) != 0) nonFinite[j] = true;
                }
            }
        }
    }
}

package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code linear} on all cores, bit-identical to the reference: per element
 * {@code acc = 0f; acc += w_j · x_j} in input order (float32, no FMA), then {@code acc / divisor}.
 *
 * <p>Implementation notes. One pass: each output vector is computed from vectors loaded straight
 * from the inputs' segments. Non-finite inputs are detected while passing with a running max of
 * the |x| bit patterns; a flagged chunk is scanned per input to report the first offender.
 */
final class LinearKernel {

    private static final int CHUNK = GtaKernel.CHUNK;

    private LinearKernel() {
    }

    static LinearResult run(LinearPass pass) {
        int count = pass.inputs().size();
        long n = pass.out().elementCount();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        MemorySegment[] segs = new MemorySegment[count];
        int[] types = new int[count];
        for (int j = 0; j < count; j++) {
            segs[j] = pass.inputs().get(j).data();
            types[j] = StorageCodec.code(pass.inputs().get(j));
        }
        boolean[] nonFinite = new boolean[count];
        long nonFiniteOut = 0;
        for (Worker w : ChunkRunner.run(chunks, i -> new Worker(pass, n, segs, types))) {
            for (int j = 0; j < count; j++) nonFinite[j] |= w.nonFinite[j];
            nonFiniteOut += w.nonFiniteOut;
        }
        if (!pass.allowNonfinite()) {
            for (int j = 0; j < count; j++) {
                if (nonFinite[j]) return new LinearResult(j, 0);
            }
        }
        return new LinearResult(-1, nonFiniteOut);
    }

    private static final class Worker implements ChunkRunner.Worker {
        private final long n;
        private final MemorySegment[] segs;
        private final int[] types;
        private final float[] weights;
        private final float divisor;
        private final MemorySegment outSeg;
        private final int outType;
        private final boolean checkFinite;
        private final StorageCodec.Tail tail;
        private final float[] f16 = new float[L];
        private final boolean[] nonFinite;
        private long nonFiniteOut;

        Worker(LinearPass pass, long n, MemorySegment[] segs, int[] types) {
            this.n = n;
            this.segs = segs;
            this.types = types;
            this.weights = pass.weights().clone();
            this.divisor = pass.divisor();
            this.outSeg = pass.out().data();
            this.outType = StorageCodec.code(pass.out());
            this.checkFinite = !pass.allowNonfinite();
            this.tail = n % L == 0 ? null : new StorageCodec.Tail(segs, types, n);
            this.nonFinite = new boolean[segs.length];
        }

        @Override
        public void run(int c) {
            long from = (long) c * CHUNK, to = Math.min(n, from + CHUNK);
            boolean suspicious = false;
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
                FloatVector acc = FloatVector.zero(F);
                IntVector worst = IntVector.zero(I);
                for (int j = 0; j < in.length; j++) {
                    FloatVector x = StorageCodec.load(in[j], types[j], at);
                    worst = worst.max(x.reinterpretAsInts().and(0x7FFFFFFF));
                    acc = acc.add(x.mul(weights[j]));
                }
                if (checkFinite && worst.compare(VectorOperators.GE, 0x7F800000).anyTrue()) suspicious = true;
                nonFiniteOut += StorageCodec.store(out, outType, at, acc.div(divisor), valid, f16);
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

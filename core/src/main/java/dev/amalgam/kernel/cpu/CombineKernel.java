package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.I;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.CombinePass;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.VectorLayout;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Per-vector linear combinations on all cores, bit-identical to the reference: per element
 * {@code acc = 0f; acc += c_j · x_j} in input order (float32, no FMA).
 *
 * <p>Implementation notes. A whole-tensor layout is the {@code linear} pass with divisor 1
 * (dividing by 1 is exact). Otherwise each output vector of L elements gets its coefficient
 * lanes from the vector(s) its elements belong to: one broadcast when all L lie in one row, a
 * contiguous load from the transposed coefficients when they are L consecutive columns, else
 * one lane at a time. Non-finite inputs are detected as in {@link LinearKernel}.
 */
final class CombineKernel {

    private static final int CHUNK = GtaKernel.CHUNK;

    private CombineKernel() {
    }

    static LinearResult run(CombinePass pass) {
        if (pass.layout().kind() == VectorLayout.Kind.WHOLE) {
            return LinearKernel.run(new LinearPass(pass.tensorName(), pass.inputs(), pass.coefficients(), 1f, pass.out(),
                    pass.allowNonfinite()));
        }
        int count = pass.inputs().size();
        long n = pass.out().elementCount();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        MemorySegment[] segs = new MemorySegment[count];
        int[] types = new int[count];
        for (int j = 0; j < count; j++) {
            segs[j] = pass.inputs().get(j).data();
            types[j] = StorageCodec.code(pass.inputs().get(j));
        }
        int vectors = Math.toIntExact(pass.layout().count());
        float[][] byInput = new float[count][vectors + L];
        for (int v = 0; v < vectors; v++) {
            for (int j = 0; j < count; j++) byInput[j][v] = pass.coefficients()[v * count + j];
        }
        boolean[] nonFinite = new boolean[count];
        long nonFiniteOut = 0;
        for (Worker w : ChunkRunner.run(chunks, i -> new Worker(pass, n, segs, types, byInput))) {
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
        private final float[][] byInput;
        private final VectorLayout layout;
        private final boolean columns;
        private final MemorySegment outSeg;
        private final int outType;
        private final boolean checkFinite;
        private final StorageCodec.Tail tail;
        private final float[] f16 = new float[L];
        private final float[] lanes = new float[L];
        private final boolean[] nonFinite;
        private long nonFiniteOut;
        // The row of the last vector (ROWS layout), so that most steps need no division.
        private long row = -1, rowStart, rowEnd = -1;

        Worker(CombinePass pass, long n, MemorySegment[] segs, int[] types, float[][] byInput) {
            this.n = n;
            this.segs = segs;
            this.types = types;
            this.byInput = byInput;
            this.layout = pass.layout();
            this.columns = layout.kind() == VectorLayout.Kind.COLUMNS;
            this.outSeg = pass.out().data();
            this.outType = StorageCodec.code(pass.out());
            this.checkFinite = !pass.allowNonfinite();
            this.tail = n % L == 0 ? null : new StorageCodec.Tail(segs, types, n);
            this.nonFinite = new boolean[segs.length];
        }

        @Override
        public void run(int chunk) {
            long from = (long) chunk * CHUNK, to = Math.min(n, from + CHUNK);
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
                long firstVector;
                boolean oneRow;
                if (!columns && i >= rowStart && i + L <= rowEnd) {
                    firstVector = row;
                    oneRow = true;
                } else {
                    firstVector = layout.vectorOf(i);
                    long lastIndex = Math.min(n - 1, i + L - 1);
                    oneRow = !columns && layout.vectorOf(lastIndex) == firstVector;
                    if (!columns) {
                        row = firstVector;
                        rowStart = row * layout.length();
                        rowEnd = rowStart + layout.length();
                    }
                }
                boolean consecutiveColumns = columns && firstVector + L <= layout.count() && i + L <= n;
                FloatVector acc = FloatVector.zero(F);
                IntVector worst = IntVector.zero(I);
                for (int j = 0; j < in.length; j++) {
                    FloatVector x = StorageCodec.load(in[j], types[j], at);
                    worst = worst.max(x.reinterpretAsInts().and(0x7FFFFFFF));
                    FloatVector c;
                    if (oneRow) {
                        c = FloatVector.broadcast(F, byInput[j][(int) firstVector]);
                    } else if (consecutiveColumns) {
                        c = FloatVector.fromArray(F, byInput[j], (int) firstVector);
                    } else {
                        for (int l = 0; l < L; l++) {
                            lanes[l] = i + l < n ? byInput[j][(int) layout.vectorOf(i + l)] : 0f;
                        }
                        c = FloatVector.fromArray(F, lanes, 0);
                    }
                    acc = acc.add(x.mul(c));
                }
                if (checkFinite && worst.compare(VectorOperators.GE, 0x7F800000).anyTrue()) suspicious = true;
                nonFiniteOut += StorageCodec.store(out, outType, at, acc, valid, f16);
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

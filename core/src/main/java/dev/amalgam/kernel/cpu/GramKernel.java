package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.D;
import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.HALF;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.BlockedL1Sum;
import dev.amalgam.kernel.BlockedSum;
import dev.amalgam.kernel.GramPass;
import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The reductions family on all cores, bit-identical to {@link dev.amalgam.kernel.ReferenceReductions}:
 * float64 dots of every input pair per vector, in the {@link BlockedSum} order.
 *
 * <p>Implementation notes. Contiguous vectors (whole tensor, rows) are cut into units of at most
 * one block; a unit's 8 partial sums per pair map onto double lanes exactly as for the L1 sums
 * ({@link Lanes}): with 8-lane doubles both halves of a float vector go to lanes 0–7 in turn,
 * with 4-lane doubles the halves go to partials 0–3 and 4–7. Units run in parallel and are
 * added per vector in block order afterwards. Column vectors (strided along dimension 0) put one
 * column per lane and keep the 8 partial sums per row residue mod 8 in memory; the columns that
 * do not fill a vector are summed one at a time. Each product is exact in double, so the
 * only roundings are the additions, in the reference's order.
 */
final class GramKernel {

    private static final int BLOCK = BlockedL1Sum.BLOCK;
    private static final int P = BlockedL1Sum.LANES;
    /** Elements staged per input at a time (16 KiB of floats: stays in L1/L2). */
    private static final int STAGE = 4096;

    private GramKernel() {
    }

    static GramResult run(GramPass pass) {
        VectorLayout layout = pass.layout();
        int k = pass.inputs().size();
        int vectors = Math.toIntExact(layout.count());
        double[] values = new double[Math.multiplyExact(Math.multiplyExact(vectors, k), k)];
        int pairs = k * (k + 1) / 2;
        double[] dots = layout.kind() == VectorLayout.Kind.COLUMNS && vectors > 1
                ? columns(pass, vectors, pairs) : contiguous(pass, vectors, pairs);
        for (int v = 0; v < vectors; v++) {
            int q = 0;
            for (int i = 0; i < k; i++) {
                for (int j = i; j < k; j++, q++) {
                    double s = dots[v * pairs + q];
                    values[(v * k + i) * k + j] = s;
                    values[(v * k + j) * k + i] = s;
                }
            }
        }
        return new GramResult(vectors, k, values);
    }

    // ---- whole tensor and rows ----

    private static double[] contiguous(GramPass pass, int vectors, int pairs) {
        long len = pass.layout().length();
        int perVector = (int) Math.max(1, (len + BLOCK - 1) / BLOCK);
        int units = Math.multiplyExact(vectors, perVector);
        int unitsPerChunk = (int) Math.max(1, BLOCK / Math.max(1, Math.min(len, BLOCK)));
        int chunks = (units + unitsPerChunk - 1) / unitsPerChunk;
        double[] unitValues = new double[Math.multiplyExact(units, pairs)];
        ChunkRunner.run(chunks, w -> new UnitWorker(pass, perVector, unitsPerChunk, units, pairs, unitValues));
        double[] dots = new double[vectors * pairs];
        for (int v = 0; v < vectors; v++) {
            for (int q = 0; q < pairs; q++) {
                double total = 0.0;
                for (int b = 0; b < perVector; b++) total += unitValues[(v * perVector + b) * pairs + q];
                dots[v * pairs + q] = total;
            }
        }
        return dots;
    }

    private static final class UnitWorker implements ChunkRunner.Worker {
        private final Tensor[] x;
        private final MemorySegment[] segs;
        private final int[] types;
        private final Tensor origin;
        private final MemorySegment originSeg;
        private final int originType;
        private final long len;
        private final int perVector, unitsPerChunk, units, pairs, k;
        private final double[] out;
        private final double[] partial;
        private final float[][] stage;
        private final float[] scalar;

        UnitWorker(GramPass pass, int perVector, int unitsPerChunk, int units, int pairs, double[] out) {
            k = pass.inputs().size();
            x = pass.inputs().toArray(Tensor[]::new);
            segs = new MemorySegment[k];
            types = new int[k];
            for (int j = 0; j < k; j++) {
                segs[j] = x[j].data();
                types[j] = StorageCodec.code(x[j]);
            }
            origin = pass.origin();
            originSeg = origin == null ? null : origin.data();
            originType = origin == null ? 0 : StorageCodec.code(origin);
            len = pass.layout().length();
            this.perVector = perVector;
            this.unitsPerChunk = unitsPerChunk;
            this.units = units;
            this.pairs = pairs;
            this.out = out;
            partial = new double[pairs * P];
            stage = new float[k][STAGE];
            scalar = new float[k];
        }

        @Override
        public void run(int chunk) {
            int first = chunk * unitsPerChunk, last = Math.min(units, first + unitsPerChunk);
            for (int u = first; u < last; u++) unit(u);
        }

        private void unit(int u) {
            long vec = u / perVector, block = u % perVector;
            long start = vec * len + block * BLOCK;
            long end = start + Math.min(BLOCK, len - block * BLOCK);
            java.util.Arrays.fill(partial, 0.0);
            long vectorEnd = start + (end - start) / L * L;
            // Stage a slice of every input (origin subtracted) in float arrays, then run each pair
            // over it with accumulators in locals: vectors never live in arrays (C2 would box them).
            for (long s0 = start; s0 < vectorEnd; s0 += STAGE) {
                int count = (int) Math.min(STAGE, vectorEnd - s0);
                for (int j = 0; j < k; j++) {
                    float[] b = stage[j];
                    for (int q = 0; q < count; q += L) {
                        FloatVector v = StorageCodec.load(segs[j], types[j], s0 + q);
                        if (originSeg != null) v = v.sub(StorageCodec.load(originSeg, originType, s0 + q));
                        v.intoArray(b, q);
                    }
                }
                int q = 0;
                for (int i = 0; i < k; i++) {
                    for (int j = i; j < k; j++, q++) accumulate(stage[i], stage[j], count, q * P);
                }
            }
            for (long e = vectorEnd; e < end; e++) {
                int lane = (int) ((e - start) % P);
                float o = origin == null ? 0f : origin.getFloat(e);
                for (int j = 0; j < k; j++) scalar[j] = origin == null ? x[j].getFloat(e) : x[j].getFloat(e) - o;
                int q = 0;
                for (int i = 0; i < k; i++) {
                    for (int j = i; j < k; j++, q++) partial[q * P + lane] += (double) scalar[i] * (double) scalar[j];
                }
            }
            for (int q = 0; q < pairs; q++) {
                double s = partial[q * P];
                for (int t = 1; t < P; t++) s += partial[q * P + t];
                out[u * pairs + q] = s;
            }
        }

        /** partial[at … at + 7] += Σ a·b over count (a multiple of L) staged positions, in lane order. */
        private void accumulate(float[] a, float[] b, int count, int at) {
            if (HALF == P) {
                DoubleVector acc = DoubleVector.fromArray(D, partial, at);
                for (int q = 0; q < count; q += L) {
                    FloatVector va = FloatVector.fromArray(F, a, q), vb = FloatVector.fromArray(F, b, q);
                    acc = acc.add(wide(va, 0).mul(wide(vb, 0)));
                    acc = acc.add(wide(va, 1).mul(wide(vb, 1)));
                }
                acc.intoArray(partial, at);
            } else {
                DoubleVector lo = DoubleVector.fromArray(D, partial, at), hi = DoubleVector.fromArray(D, partial, at + HALF);
                for (int q = 0; q < count; q += L) {
                    FloatVector va = FloatVector.fromArray(F, a, q), vb = FloatVector.fromArray(F, b, q);
                    lo = lo.add(wide(va, 0).mul(wide(vb, 0)));
                    hi = hi.add(wide(va, 1).mul(wide(vb, 1)));
                }
                lo.intoArray(partial, at);
                hi.intoArray(partial, at + HALF);
            }
        }
    }

    private static DoubleVector wide(FloatVector v, int part) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, part);
    }

    // ---- columns (strided vectors along dimension 0) ----

    private static double[] columns(GramPass pass, int vectors, int pairs) {
        long rows = pass.layout().length();
        int groups = vectors / L;
        int groupsPerChunk = (int) Math.max(1, BLOCK / Math.max(1, rows * L));
        int chunks = (groups + groupsPerChunk - 1) / groupsPerChunk;
        double[] dots = new double[vectors * pairs];
        if (groups > 0) ChunkRunner.run(chunks, w -> new ColumnWorker(pass, vectors, pairs, groupsPerChunk, groups, dots));
        // Columns that do not fill a vector: one at a time, in the same order.
        int k = pass.inputs().size();
        for (int v = groups * L; v < vectors; v++) {
            BlockedSum[] sums = new BlockedSum[pairs];
            for (int q = 0; q < pairs; q++) sums[q] = new BlockedSum();
            float[] s = new float[k];
            for (long p = 0; p < rows; p++) {
                long e = p * vectors + v;
                float o = pass.origin() == null ? 0f : pass.origin().getFloat(e);
                for (int j = 0; j < k; j++) s[j] = pass.origin() == null ? pass.inputs().get(j).getFloat(e) : pass.inputs().get(j).getFloat(e) - o;
                int q = 0;
                for (int i = 0; i < k; i++) for (int j = i; j < k; j++, q++) sums[q].add((double) s[i] * (double) s[j]);
            }
            for (int q = 0; q < pairs; q++) dots[v * pairs + q] = sums[q].sum();
        }
        return dots;
    }

    private static final class ColumnWorker implements ChunkRunner.Worker {
        private final MemorySegment[] segs;
        private final int[] types;
        private final MemorySegment originSeg;
        private final int originType;
        private final long rows;
        private final int columns, pairs, groupsPerChunk, groups, k;
        private final double[] out;
        private final double[] partial; // [residue][pair][lane]
        private final double[] total;   // [pair][lane]

        ColumnWorker(GramPass pass, int columns, int pairs, int groupsPerChunk, int groups, double[] out) {
            k = pass.inputs().size();
            segs = new MemorySegment[k];
            types = new int[k];
            for (int j = 0; j < k; j++) {
                segs[j] = pass.inputs().get(j).data();
                types[j] = StorageCodec.code(pass.inputs().get(j));
            }
            originSeg = pass.origin() == null ? null : pass.origin().data();
            originType = pass.origin() == null ? 0 : StorageCodec.code(pass.origin());
            rows = pass.layout().length();
            this.columns = columns;
            this.pairs = pairs;
            this.groupsPerChunk = groupsPerChunk;
            this.groups = groups;
            this.out = out;
            partial = new double[P * pairs * L];
            total = new double[pairs * L];
        }

        @Override
        public void run(int chunk) {
            int first = chunk * groupsPerChunk, last = Math.min(groups, first + groupsPerChunk);
            for (int g = first; g < last; g++) group(g * L);
        }

        private void group(int c0) {
            java.util.Arrays.fill(partial, 0.0);
            java.util.Arrays.fill(total, 0.0);
            for (long p = 0; p < rows; p++) {
                long e = p * columns + c0;
                int base = (int) (p % P) * pairs * L;
                int q = 0;
                for (int i = 0; i < k; i++) {
                    FloatVector vi = load(i, e);
                    for (int j = i; j < k; j++, q++) {
                        FloatVector vj = j == i ? vi : load(j, e);
                        int at = base + q * L;
                        DoubleVector.fromArray(D, partial, at).add(wide(vi, 0).mul(wide(vj, 0))).intoArray(partial, at);
                        DoubleVector.fromArray(D, partial, at + HALF).add(wide(vi, 1).mul(wide(vj, 1))).intoArray(partial, at + HALF);
                    }
                }
                if ((p + 1) % BLOCK == 0 || p + 1 == rows) flushBlock();
            }
            if (rows == 0) flushBlock();
            for (int q = 0; q < pairs; q++) {
                for (int l = 0; l < L; l++) out[(c0 + l) * pairs + q] = total[q * L + l];
            }
        }

        private FloatVector load(int j, long e) {
            FloatVector v = StorageCodec.load(segs[j], types[j], e);
            return originSeg == null ? v : v.sub(StorageCodec.load(originSeg, originType, e));
        }

        /** total += ((p0 + p1) + … + p7) per pair and lane; partials back to zero. */
        private void flushBlock() {
            for (int q = 0; q < pairs; q++) {
                for (int h = 0; h < L; h += HALF) {
                    DoubleVector s = DoubleVector.fromArray(D, partial, q * L + h);
                    for (int r = 1; r < P; r++) s = s.add(DoubleVector.fromArray(D, partial, (r * pairs + q) * L + h));
                    DoubleVector.fromArray(D, total, q * L + h).add(s).intoArray(total, q * L + h);
                }
            }
            java.util.Arrays.fill(partial, 0.0);
        }
    }
}

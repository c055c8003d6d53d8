package dev.amalgam.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-computed reductions and combinations, and the summation order itself. */
class ReferenceReductionsTest {

    @Test
    void dotsAndNormsOfSmallVectors() {
        Tensor a = KernelTestData.of("a", DType.F32, 1f, 2f, 3f);
        Tensor b = KernelTestData.of("b", DType.F32, 4f, -5f, 6f);
        GramResult g = ReferenceReductions.gram(new GramPass("t", List.of(a, b), null, VectorLayout.whole(3)));
        assertEquals(14.0, g.squaredNorm(0, 0));
        assertEquals(77.0, g.squaredNorm(0, 1));
        assertEquals(4 - 10 + 18, g.dot(0, 0, 1));
        assertEquals(g.dot(0, 0, 1), g.dot(0, 1, 0));
        // With b as origin: a − b = (−3, 7, −3).
        GramResult o = ReferenceReductions.gram(new GramPass("t", List.of(a), b, VectorLayout.whole(3)));
        assertEquals(9 + 49 + 9, o.squaredNorm(0, 0));
    }

    @Test
    void rowsAndColumnsOfAMatrix() {
        // [[1, 2, 3], [4, 5, 6]]
        long[] shape = {2, 3};
        Tensor m = MethodKernelsContract.reshape(KernelTestData.of("m", DType.F32, 1, 2, 3, 4, 5, 6), shape);
        GramResult rows = ReferenceReductions.gram(new GramPass("t", List.of(m), null, VectorLayout.rows(shape)));
        assertEquals(2, rows.vectors());
        assertEquals(14.0, rows.squaredNorm(0, 0));
        assertEquals(77.0, rows.squaredNorm(1, 0));
        GramResult cols = ReferenceReductions.gram(new GramPass("t", List.of(m), null, VectorLayout.columns(shape)));
        assertEquals(3, cols.vectors());
        assertEquals(17.0, cols.squaredNorm(0, 0));
        assertEquals(29.0, cols.squaredNorm(1, 0));
        assertEquals(45.0, cols.squaredNorm(2, 0));
    }

    @Test
    void sumsFollowTheEightPartialOrderNotTheFlatOrder() {
        // Position 0 and 8 share partial 0, so 2^60 + 1 − 2^60 cancels there exactly as the
        // blocked order says: (2^60 + 1) rounds to 2^60, minus 2^60 = 0; position 1 carries the 1.
        // A flat sequential sum would give 0 + 1 … the order decides the answer.
        float big = 0x1p30f; // big² = 2^60
        float[] a = new float[9];
        float[] b = new float[9];
        a[0] = big; b[0] = big;     // +2^60 in partial 0
        a[1] = 1; b[1] = 1;         // +1 in partial 1
        a[8] = big; b[8] = -big;    // −2^60 in partial 0
        GramResult g = ReferenceReductions.gram(new GramPass("t",
                List.of(KernelTestData.of("a", DType.F32, a), KernelTestData.of("b", DType.F32, b)), null, VectorLayout.whole(9)));
        // partial0 = 2^60 − 2^60 = 0, partial1 = 1: total 1. Flat order: ((2^60 + 1) + … − 2^60) = 0.
        assertEquals(1.0, g.dot(0, 0, 1));
        BlockedSum flat = new BlockedSum();
        double sequential = 0;
        for (int i = 0; i < 9; i++) {
            double t = (double) a[i] * b[i];
            flat.add(t);
            sequential += t;
        }
        assertEquals(1.0, flat.sum());
        assertEquals(0.0, sequential, "the plain sequential order loses the 1");
    }

    @Test
    void combineUsesEachVectorsCoefficients() {
        long[] shape = {2, 3};
        Tensor x = MethodKernelsContract.reshape(KernelTestData.of("x", DType.F32, 1, 2, 3, 4, 5, 6), shape);
        Tensor y = MethodKernelsContract.reshape(KernelTestData.of("y", DType.F32, 1, 1, 1, 1, 1, 1), shape);
        Tensor out = MethodKernelsContract.reshape(KernelTestData.of("o", DType.F32, 0, 0, 0, 0, 0, 0), shape);
        ReferenceReductions.combine(new CombinePass("t", List.of(x, y), new float[] {2, 0, -1, 10}, VectorLayout.rows(shape), out, false));
        org.junit.jupiter.api.Assertions.assertArrayEquals(new float[] {2, 4, 6, 6, 5, 4}, KernelTestData.values(out));
        ReferenceReductions.combine(new CombinePass("t", List.of(x), new float[] {1, 0, -1}, VectorLayout.columns(shape), out, false));
        float[] v = KernelTestData.values(out);
        assertEquals(1f, v[0]);
        assertEquals(0f, v[1]);
        assertEquals(-3f, v[2]);
        assertEquals(4f, v[3]);
        assertEquals(-6f, v[5]);
    }
}

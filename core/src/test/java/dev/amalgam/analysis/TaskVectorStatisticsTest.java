package dev.amalgam.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TaskVectorStatisticsTest {

    private final Arena arena = Arena.ofAuto();

    private Tensor tensor(DType dtype, float... v) {
        TensorInfo info = new TensorInfo("t", dtype, new long[] {v.length});
        Tensor t = new Tensor(info, arena.allocate(info.byteSize()));
        for (int i = 0; i < v.length; i++) t.setFloat(i, v[i]);
        return t;
    }

    @Test
    void handComputedCase() {
        // δ1 = [1, 0, −2, 0], δ2 = [−1, 1, 0, 1]
        Tensor base = tensor(DType.F32, 1, 2, 3, 0);
        Tensor m1 = tensor(DType.F32, 2, 2, 1, 0);
        Tensor m2 = tensor(DType.F32, 0, 3, 3, 1);
        Tensor out = tensor(DType.F32, 1.5f, 2.5f, 2, 0.5f);
        TensorStatistics s = TaskVectorStatistics.compute("model.layers.3.self_attn.q_proj.weight", base, List.of(m1, m2), out,
                new double[] {0.5, 0.75}, 7);
        assertEquals(3, s.layer());
        assertEquals(TensorKind.ATTENTION, s.kind());
        assertEquals(14, s.baseNormSq());
        assertArrayEquals(new double[] {9, 19}, s.modelNormSq());
        assertArrayEquals(new double[] {5, 3}, s.deltaNormSq());
        assertArrayEquals(new double[] {5, -1, -1, 3}, s.deltaDot());
        assertEquals(1, s.conflictElements(), "only element 0 has a positive and a negative δ");
        assertEquals(4, s.activeElements());
        assertEquals(1.75, s.mergedDeltaNormSq());
        assertArrayEquals(new double[] {1.75, 3.75}, s.mergedToModelSq());
        assertArrayEquals(new double[] {0.5, 0.75}, s.keptFraction());
        assertEquals(7, s.mergeConflicts());
    }

    @Test
    void withoutMergeTheMergeFieldsAreAbsent() {
        Tensor base = tensor(DType.F32, 1, 2);
        TensorStatistics s = TaskVectorStatistics.compute("norm.weight", base, List.of(tensor(DType.F32, 1, 3)), null, null, -1);
        assertNull(s.mergedToModelSq());
        assertEquals(Double.NaN, s.mergedDeltaNormSq());
        assertEquals(TensorKind.NORM, s.kind());
        assertEquals(-1, s.layer());
    }

    @Test
    void negativeZeroHasNoSign() {
        // δ = −0.0 and +1: no conflict (a zero has sign 0, §0).
        Tensor base = tensor(DType.F32, 0, 0);
        Tensor a = tensor(DType.F32, -0.0f, 1);
        Tensor b = tensor(DType.F32, 0, -1);
        TensorStatistics s = TaskVectorStatistics.compute("x", base, List.of(a, b), null, null, -1);
        assertEquals(1, s.conflictElements());
        assertEquals(1, s.activeElements());
    }

    @Test
    void mismatchedSizesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> TaskVectorStatistics.compute("x", tensor(DType.F32, 1, 2),
                List.of(tensor(DType.F32, 1)), null, null, -1));
    }

    /** Awkward sizes around the chunk length, every dtype, 1–4 models, fresh random data. */
    @ParameterizedTest
    @CsvSource({"1,1,F32", "2,2,BF16", "7,3,F16", "32767,2,F32", "32768,4,BF16", "32769,3,F16", "100003,4,F32", "262147,2,BF16"})
    void matchesANaiveSequentialComputation(int n, int t, DType dtype) {
        SplittableRandom rnd = new SplittableRandom(31L * n + t);
        Tensor base = random(dtype, n, rnd, 0);
        List<Tensor> models = new ArrayList<>();
        for (int m = 0; m < t; m++) models.add(random(dtype, n, rnd, 0.3));
        Tensor out = random(dtype, n, rnd, 0.2);
        TensorStatistics s = TaskVectorStatistics.compute("model.layers.0.mlp.up_proj.weight", base, models, out, null, -1);

        double baseSq = 0, md = 0;
        double[] xs = new double[t], dots = new double[t * t], tm = new double[t];
        long conflicts = 0, active = 0;
        for (int e = 0; e < n; e++) {
            float b = base.getFloat(e);
            baseSq += (double) b * b;
            float[] d = new float[t];
            for (int m = 0; m < t; m++) {
                float x = models.get(m).getFloat(e);
                xs[m] += (double) x * x;
                d[m] = x - b;
                tm[m] += ((double) out.getFloat(e) - x) * ((double) out.getFloat(e) - x);
            }
            for (int i = 0; i < t; i++) for (int j = 0; j < t; j++) dots[i * t + j] += (double) d[i] * d[j];
            boolean pos = false, neg = false;
            for (float v : d) {
                pos |= v > 0;
                neg |= v < 0;
            }
            if (pos && neg) conflicts++;
            if (pos || neg) active++;
            md += ((double) out.getFloat(e) - b) * ((double) out.getFloat(e) - b);
        }
        // Sums in a different order than the chunked pass: equal within float64 rounding.
        assertClose(baseSq, s.baseNormSq());
        assertClose(md, s.mergedDeltaNormSq());
        for (int i = 0; i < t; i++) {
            assertClose(xs[i], s.modelNormSq()[i]);
            assertClose(tm[i], s.mergedToModelSq()[i]);
            for (int j = 0; j < t; j++) assertClose(dots[i * t + j], s.dot(i, j));
        }
        assertEquals(conflicts, s.conflictElements());
        assertEquals(active, s.activeElements());
        // Deterministic: the parallel chunk pass gives the same bits every time.
        TensorStatistics again = TaskVectorStatistics.compute("model.layers.0.mlp.up_proj.weight", base, models, out, null, -1);
        assertArrayEquals(s.deltaDot(), again.deltaDot());
        assertEquals(s.baseNormSq(), again.baseNormSq());
    }

    private Tensor random(DType dtype, int n, SplittableRandom rnd, double zeroFraction) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = rnd.nextDouble() < zeroFraction ? 0f : (float) rnd.nextGaussian();
        return tensor(dtype, v);
    }

    private static void assertClose(double expected, double actual) {
        assertEquals(expected, actual, 1e-12 * Math.max(1, Math.abs(expected)));
    }
}

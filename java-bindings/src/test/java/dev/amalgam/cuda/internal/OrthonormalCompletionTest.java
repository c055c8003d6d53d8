package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import org.junit.jupiter.api.Test;

/** Completion of the singular vectors of σ = 0 that the device leaves zero. */
class OrthonormalCompletionTest {

    @Test
    void zeroColumnsBecomeOrthonormalCompletions() {
        // Columns e_0/√2+e_1/√2 and 0, 0 in R^3: the completion must be orthogonal to the first.
        float h = (float) Math.sqrt(0.5);
        FloatMatrix u = FloatMatrix.of(new float[] {h, 0, 0}, new float[] {h, 0, 0}, new float[] {0, 0, 0});
        assertEquals(2, OrthonormalCompletion.columns(u));
        assertTrue(SvdTestMatrices.columnOrthogonality(u) < 1e-6, "|UᵀU − I| = " + SvdTestMatrices.columnOrthogonality(u));
        assertEquals(h, u.get(0, 0));  // the kept column is untouched
        // e_0 is the first candidate: its residual (1/2, −1/2, 0) normalized.
        assertEquals(h, u.get(0, 1), 1e-7f);
        assertEquals(-h, u.get(1, 1), 1e-7f);
        assertEquals(1f, Math.abs(u.get(2, 2)), 1e-7f);
    }

    @Test
    void rowsOfAZeroMatrixBecomeUnitVectors() {
        FloatMatrix vh = FloatMatrix.zeros(3, 5);
        assertEquals(3, OrthonormalCompletion.rows(vh));
        assertTrue(SvdTestMatrices.rowOrthogonality(vh) < 1e-7);
        for (int i = 0; i < 3; i++) assertEquals(1f, vh.get(i, i));
    }

    @Test
    void completeFactorsAreLeftAlone() {
        FloatMatrix q = FloatMatrix.of(new float[] {0, 1}, new float[] {1, 0}, new float[] {0, 0});
        FloatMatrix before = q.copy();
        assertEquals(0, OrthonormalCompletion.columns(q));
        assertEquals(before, q);
    }
}

package dev.amalgam.source.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LoraProductTest {

    /** The fast product does the reference's float operations in its order: equal bit for bit, on awkward sizes. */
    @Test
    void fastMatchesReferenceBitForBit() {
        SplittableRandom r = new SplittableRandom(System.nanoTime());
        int[][] sizes = {{1, 1, 1}, {3, 2, 5}, {17, 4, 33}, {64, 8, 64}, {129, 16, 255}, {300, 7, 1031}, {1, 64, 4099}};
        assertTrue(LoraProduct.VECTORS, "the Vector API is on in the tests");
        for (int[] s : sizes) {
            int rows = s[0], rank = s[1], cols = s[2];
            float[] w = fill(r, rows * cols), b = fill(r, rows * rank), a = fill(r, rank * cols);
            float scale = (float) (0.5 + r.nextDouble());
            float[] ref = new float[w.length], fast = new float[w.length];
            LoraProduct.reference(w, b, a, rows, rank, cols, scale, ref);
            LoraProduct.fast(w, b, a, rows, rank, cols, scale, fast);
            assertArrayEquals(ref, fast, rows + "x" + rank + "x" + cols);
        }
    }

    @Test
    void referenceIsTheProduct() {
        float[] w = {1, 2, 3, 4};
        float[] b = {1, 2, 3, 4}; // [2, 2]
        float[] a = {5, 6, 7, 8}; // [2, 2]
        float[] out = new float[4];
        LoraProduct.reference(w, b, a, 2, 2, 2, 0.5f, out);
        // B·A = [[19, 22], [43, 50]]
        assertArrayEquals(new float[]{1 + 9.5f, 2 + 11, 3 + 21.5f, 4 + 25}, out);
    }

    private static float[] fill(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }
}

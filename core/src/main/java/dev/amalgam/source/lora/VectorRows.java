package dev.amalgam.source.lora;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/** The vector loop of {@link LoraProduct#fast}; loaded only when the Vector API is present. */
final class VectorRows {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorRows() {
    }

    static void rows(float[] w, float[] b, float[] a, int from, int to, int rank, int cols, float s, float[] out) {
        float[] acc = new float[cols];
        int bound = F.loopBound(cols);
        for (int o = from; o < to; o++) {
            java.util.Arrays.fill(acc, 0f);
            for (int k = 0; k < rank; k++) {
                float bk = b[o * rank + k];
                FloatVector bv = FloatVector.broadcast(F, bk);
                int base = k * cols;
                int i = 0;
                for (; i < bound; i += F.length()) {
                    FloatVector av = FloatVector.fromArray(F, a, base + i);
                    FloatVector.fromArray(F, acc, i).add(bv.mul(av)).intoArray(acc, i);
                }
                for (; i < cols; i++) acc[i] = acc[i] + bk * a[base + i];
            }
            int row = o * cols;
            FloatVector sv = FloatVector.broadcast(F, s);
            int i = 0;
            for (; i < bound; i += F.length()) {
                FloatVector.fromArray(F, w, row + i).add(FloatVector.fromArray(F, acc, i).mul(sv)).intoArray(out, row + i);
            }
            for (; i < cols; i++) out[row + i] = w[row + i] + acc[i] * s;
        }
    }
}

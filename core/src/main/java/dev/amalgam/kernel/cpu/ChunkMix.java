package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.tensor.Tensor;

/**
 * Steps 5–9 of the GTA pipeline (§1.4) for one element at a time, for the fast kernels that
 * prepare their own weighted task vectors (DELLA, consensus). One instance per worker; the
 * caller fills {@link #values} (w_m·δ̂_m, model order) and calls {@link #element}. Same float32
 * and double operations in the same order as {@code ReferenceMix}.
 */
final class ChunkMix {

    final float[] values;
    private final float[] weights;
    private final ConsensusMethod consensus;
    private final boolean normalize;
    private final float lambda;
    private final float allDivisor;
    private final Tensor base;
    private final Tensor out;
    long conflicts;
    long nonFinite;

    /** @param base θ0 to add, or null to store λ·mixed itself */
    ChunkMix(float[] weights, ConsensusMethod consensus, boolean normalize, float lambda, Tensor base, Tensor out) {
        this.values = new float[weights.length];
        this.weights = weights;
        this.consensus = consensus;
        this.normalize = normalize;
        this.lambda = lambda;
        float all = 0f;
        for (float w : weights) all += w;
        this.allDivisor = Math.abs((double) all) < 1e-8 ? 1f : all;
        this.base = base;
        this.out = out;
    }

    void element(long i) {
        int t = values.length;
        int elected = 0;
        if (consensus == ConsensusMethod.SUM) {
            double sum = 0;
            for (int m = 0; m < t; m++) sum += values[m];
            elected = sum >= 0 ? 1 : -1;
        } else if (consensus == ConsensusMethod.COUNT) {
            int count = 0;
            for (int m = 0; m < t; m++) count += sgn(values[m]);
            elected = count >= 0 ? 1 : -1;
        }
        float mixed = 0f, divisor = 0f;
        boolean conflict = false;
        for (int m = 0; m < t; m++) {
            float x = values[m];
            if (consensus == ConsensusMethod.NONE || sgn(x) == elected) {
                mixed += x;
                divisor += weights[m];
            } else if (x != 0f) {
                conflict = true;
            }
        }
        if (conflict) conflicts++;
        if (normalize) {
            mixed = consensus == ConsensusMethod.NONE ? mixed / allDivisor : mixed / (divisor == 0f ? 1f : divisor);
        }
        mixed = mixed * lambda;
        out.setFloat(i, base == null ? mixed : base.getFloat(i) + mixed);
        if (!Float.isFinite(out.getFloat(i))) nonFinite++;
    }

    static int sgn(float x) {
        return (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0);
    }
}

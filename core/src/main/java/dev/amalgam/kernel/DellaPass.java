package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * One tensor of {@code della}/{@code della_linear} (spec §8): the GTA pipeline of §1.4 with
 * DELLA's magnitude-ranked Bernoulli drop as the sparsifier. Per model m, in each vector along
 * dimension 1 ({@link DellaRows}) of length L, element i of rank r_i (1 = smallest |δ|, §8) is
 * kept iff its Philox draw (§1.9, keyed by seed, model index, tensor name, flat index) is below
 * p_i = (density − ε) + ((r_i − 1)/(L − 1))·(2ε); then rescale, weight, optional election,
 * disjoint sum, divisor, λ, + θ0, store.
 *
 * @param tensorName     for errors and the Philox counter
 * @param base           θ0
 * @param models         θ_m with a δ, in model-index order
 * @param modelIndices   model index of each entry (keys the draws)
 * @param weights        w_m as float32
 * @param densities      per model; ≥ 1 keeps δ whole, ≤ 0 drops it, otherwise ε-window inside (0, 1)
 * @param epsilons       per model ε
 * @param rescale        rescale of the kept values
 * @param seed           {@code random_seed}
 * @param consensus      NONE for della_linear
 * @param normalize      divide by the (agreeing) weights (§1.8)
 * @param lambda         multiplies after the division
 * @param out            output (F32/F16/BF16), the base's element count
 * @param allowNonfinite whether NaN/Inf inputs and outputs are allowed
 */
public record DellaPass(
        String tensorName,
        Tensor base,
        List<Tensor> models,
        int[] modelIndices,
        float[] weights,
        double[] densities,
        double[] epsilons,
        Rescale rescale,
        long seed,
        ConsensusMethod consensus,
        boolean normalize,
        float lambda,
        Tensor out,
        boolean allowNonfinite) {

    /** DELLA's rescale modes (§1.9): none, {@code l1}, {@code inverse_probability} (x / p_i). */
    public enum Rescale {
        /** Kept values unchanged. */
        NONE,
        /** Σ|δ|/Σ|δ̂| per tensor (double). */
        L1,
        /** Each kept value divided by its p_i (double). */
        INVERSE_PROBABILITY
    }

    /** Validates the per-model arrays and element counts. */
    public DellaPass {
        models = List.copyOf(models);
        int t = models.size();
        if (modelIndices.length != t || weights.length != t || densities.length != t || epsilons.length != t) {
            throw new IllegalArgumentException("tensor " + tensorName + ": per-model arrays must have " + t + " entries");
        }
        long n = base.elementCount();
        for (Tensor m : models) {
            if (m.elementCount() != n) throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
        if (out.elementCount() != n) throw new IllegalArgumentException("tensor " + tensorName + ": output element count");
        for (int m = 0; m < t; m++) {
            if (densities[m] > 0 && densities[m] < 1 && !DellaRows.windowInside(densities[m], epsilons[m])) {
                throw new IllegalArgumentException("tensor " + tensorName + ": density ± epsilon must lie inside (0, 1)");
            }
        }
    }

    /** Number of task models. */
    public int modelCount() {
        return models.size();
    }

    /** Elements of the tensor. */
    public long elementCount() {
        return base.elementCount();
    }

    /** Whether model m is actually drawn (0 &lt; density &lt; 1). */
    public boolean draws(int m) {
        return densities[m] > 0 && densities[m] < 1;
    }
}

package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * The TALL mask pass of one tensor (spec §10 steps 2–4; {@code nik-dim/tall_masks}): per model
 * M_m = |δ_m| &gt; λ_m·|τ − δ_m| (float32, strict, δ_m raw); keep = Σ_m M_m ≥ k;
 * out = θ0 + α·(keep ? τ : 0) in float32. The consensus merges and {@code tall-compress} share it.
 *
 * @param tensorName for messages
 * @param base       θ0
 * @param models     θ_m
 * @param tau        τ_MTL (F32)
 * @param lambdas    λ_m ({@code lambda_tall}) as float32
 * @param k          {@code consensus_k}
 * @param alpha      α as float32
 * @param out        the merged output, or null (masks only)
 * @param masks      per model a bit array of ⌈n/64⌉ longs to fill (bit i of word i/64 = M_m at
 *                   flat index i), or null
 */
public record TallPass(String tensorName, Tensor base, List<Tensor> models, Tensor tau, float[] lambdas, long k, float alpha,
                       Tensor out, long[][] masks) {

    /** Validates the per-model arrays and element counts. */
    public TallPass {
        models = List.copyOf(models);
        long n = base.elementCount();
        if (lambdas.length != models.size()) throw new IllegalArgumentException("tensor " + tensorName + ": per-model arrays");
        for (Tensor m : models) if (m.elementCount() != n) throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        if (tau.elementCount() != n || (out != null && out.elementCount() != n)) {
            throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
        if (masks != null) {
            if (masks.length != models.size()) throw new IllegalArgumentException("tensor " + tensorName + ": one mask per model");
            for (long[] m : masks) if (m.length != words(n)) throw new IllegalArgumentException("tensor " + tensorName + ": mask words");
        }
    }

    /** Words of a bit array of n bits. */
    public static int words(long n) {
        return Math.toIntExact((n + 63) / 64);
    }

    /**
     * What the pass counted.
     *
     * @param kept             elements where keep holds
     * @param maskCounts       per model, elements where M_m holds
     * @param nonFiniteOutputs non-finite outputs (0 without {@code out})
     */
    public record Result(long kept, long[] maskCounts, long nonFiniteOutputs) {
    }
}

package dev.amalgam.merge;

import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.NearswapPass;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code nearswap} (§12.6, mergekit {@code merge_methods/nearswap.py}): per element, take the
 * other model's value where it is within about t of the base, the base's where they are far apart.
 *
 * <p>Implementation notes. Plan input 0 is the base a, input 1 the other model b. Per element in
 * float32 (mergekit computes in the config dtype): w = clamp(t / max(|a − b|, 1e-6), 0, 1), out =
 * w·b + (1 − w)·a. t ≤ 0 gives w = 0, the base. {@code t} is global and per tensor (gradients,
 * filters), rounded to float32 as torch rounds the scalar.
 */
final class NearswapMerger implements TensorMerger {

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        float t = (float) ctx.params().number("t", null, entry.name(), entry.layerT());
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            LinearResult r = ctx.backend().nearswap(new NearswapPass(entry.name(), x.get(0), x.get(1), t, out, ctx.allowNonfinite()));
            return CoefficientMerge.finish(entry, ctx, r, CoefficientMerge.identity(2), start);
        }
    }
}

package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;

/**
 * {@code nearswap} for one tensor (§12.6): per element, in float32 without FMA,
 * w = clamp(t / max(|a − b|, 1e-6), 0, 1), out = w·b + (1 − w)·a, with a = the base, b = the other model.
 *
 * @param tensorName     for messages
 * @param base           a
 * @param other          b
 * @param t              the {@code t} parameter, float32
 * @param out            output in its storage dtype
 * @param allowNonfinite false: a non-finite input is reported (index 0 = base, 1 = other)
 */
public record NearswapPass(String tensorName, Tensor base, Tensor other, float t, Tensor out, boolean allowNonfinite) {

    /** mergekit's clamp of |a − b| from below, as float32. */
    public static final float MIN_DIFFERENCE = 1e-6f;

    /** Checks that the three tensors have the same element count. */
    public NearswapPass {
        if (base.elementCount() != out.elementCount() || other.elementCount() != out.elementCount()) {
            throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
    }
}

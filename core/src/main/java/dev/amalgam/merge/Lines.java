package dev.amalgam.merge;

import java.util.Map;
import java.util.Optional;

/**
 * LiNeS post-scaling (spec §13.3; Wang et al., "LiNeS: Post-training Layer Scaling Prevents
 * Forgetting and Enhances Model Merging", {@code wang-kee/LiNeS}): the merged Δ of a layer tensor
 * is scaled by alpha + beta·t, t = i/(L−1) the layer position of §1.1, and every other tensor by
 * alpha (t = 0 there, so one formula serves both).
 *
 * <p>Implementation notes. The scale (double) multiplies the method's own last factor (λ, or
 * alpha) before it is rounded to float32, so with λ = 1 — the spec's advice — the output is
 * θ0 + float32(scale)·mixed exactly; with another λ, float32(λ·scale) can differ from scaling
 * twice by one rounding. The authors' layer index is the first {@code .i.} in the key (misfires
 * on names with several numbers); Amalgam uses the layer position of §1.1. The authors'
 * multi-task alpha ((‖Στ‖₁/‖τ_merged‖₁)/T) is not computed: alpha is given.
 */
final class Lines {

    private Lines() {
    }

    /** alpha + beta·t for this tensor, or 1 without {@code parameters.lines}. */
    static double scale(PlanEntry entry, MergeContext ctx) {
        if (!ctx.params().method().declares("lines")) return 1;
        Optional<Map<String, Double>> lines = ctx.params().mapping("lines");
        if (lines.isEmpty()) return 1;
        Double alpha = lines.get().get("alpha"), beta = lines.get().get("beta");
        if (alpha == null || beta == null) {
            throw new MergeException("parameters.lines: needs both `alpha` and `beta`, got " + lines.get().keySet());
        }
        return alpha + beta * entry.layerT();
    }
}

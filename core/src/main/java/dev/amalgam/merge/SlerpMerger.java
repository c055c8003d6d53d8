package dev.amalgam.merge;

import dev.amalgam.kernel.GramResult;
import dev.amalgam.kernel.VectorLayout;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.util.List;

/**
 * {@code slerp} (§12.1, mergekit {@code merge_methods/slerp.py}): spherical interpolation from
 * the base v0 to the other model v1 by {@code t}.
 *
 * <p>Implementation notes. Plan input 0 is the base, input 1 the other model (a base-only config
 * copies the base). From the float64 dots: ‖v_i‖, v̂_i = v_i/‖v_i‖ only if ‖v_i‖ &gt; 1e-8
 * (mergekit's {@code normalize} guard, else v_i is used unnormalized), d = ⟨v̂0, v̂1⟩ not clamped.
 * |d| &gt; 0.9995 (mergekit's DOT_THRESHOLD): s0 = 1 − t, s1 = t; else θ = acos d,
 * s0 = sin(θ − θt)/sin θ, s1 = sin(θt)/sin θ, in double with StrictMath, then float32. out =
 * s0·v0 + s1·v1 is the linear pass (float32, no FMA): the same float32 arithmetic as mergekit's
 * numpy expression, so outputs differ from mergekit only where its float32 scalars d, θ, s0,
 * s1 round differently from these double ones. {@code t} outside [0, 1] extrapolates.
 */
final class SlerpMerger implements TensorMerger {

    static final double DOT_THRESHOLD = 0.9995;
    static final double NORM_EPS = 1e-8;

    @Override
    public TensorReport merge(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        double t = ctx.params().number("t", null, entry.name(), entry.layerT());
        try (Arena arena = Arena.ofShared()) {
            List<Tensor> x = CoefficientMerge.load(entry, ctx, arena);
            VectorLayout whole = VectorLayout.whole(entry.output().elementCount());
            int[] index = CoefficientMerge.identity(x.size());
            if (x.size() == 1) return CoefficientMerge.combine(entry, ctx, x, index, new double[] {1}, whole, out, start);
            GramResult g = CoefficientMerge.gram(ctx, entry, x, null, -1, index, whole);
            return CoefficientMerge.combine(entry, ctx, x, index, coefficients(g.dot(0, 0, 0), g.dot(0, 1, 1), g.dot(0, 0, 1), t),
                    whole, out, start);
        }
    }

    /** {s0, s1} from ‖v0‖², ‖v1‖², ⟨v0, v1⟩. */
    static double[] coefficients(double sq0, double sq1, double dot01, double t) {
        double n0 = Math.sqrt(sq0), n1 = Math.sqrt(sq1);
        double d = dot01 / ((n0 > NORM_EPS ? n0 : 1) * (n1 > NORM_EPS ? n1 : 1));
        if (Math.abs(d) > DOT_THRESHOLD) return new double[] {1 - t, t};
        double theta = StrictMath.acos(d);
        double sin = StrictMath.sin(theta);
        double thetaT = theta * t;
        return new double[] {StrictMath.sin(theta - thetaT) / sin, StrictMath.sin(thetaT) / sin};
    }
}

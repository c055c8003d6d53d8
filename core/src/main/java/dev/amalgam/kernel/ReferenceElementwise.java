package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * Reference kernels of the per-element methods without a reduction of their own: nearswap and
 * the RAM family. One element at a time, float32, no FMA; the oracle of the fast versions and
 * what a backend without its own runs on the host.
 */
public final class ReferenceElementwise {

    private ReferenceElementwise() {
    }

    /** {@code nearswap} of one tensor, one element at a time. */
    public static LinearResult nearswap(NearswapPass pass) {
        Tensor a = pass.base(), b = pass.other();
        if (!pass.allowNonfinite()) {
            if (!allFinite(a)) return new LinearResult(0, 0);
            if (!allFinite(b)) return new LinearResult(1, 0);
        }
        long nonFinite = 0;
        float t = pass.t();
        for (long i = 0; i < pass.out().elementCount(); i++) {
            float x = a.getFloat(i), y = b.getFloat(i);
            float w = t / Math.max(Math.abs(x - y), NearswapPass.MIN_DIFFERENCE);
            w = Math.min(Math.max(w, 0f), 1f);
            pass.out().setFloat(i, w * y + (1f - w) * x);
            if (!Float.isFinite(pass.out().getFloat(i))) nonFinite++;
        }
        return new LinearResult(-1, nonFinite);
    }

    /** The per-model shared and unique contribution counts of one tensor. */
    public static RamPass.Overlap ramOverlap(RamPass pass) {
        int count = pass.models().size();
        long[] shared = new long[count], unique = new long[count];
        boolean[] contributes = new boolean[count];
        for (long i = 0; i < pass.base().elementCount(); i++) {
            int c = contributors(pass, i, contributes, null);
            for (int m = 0; m < count; m++) {
                if (!contributes[m]) continue;
                if (c == 1) unique[m]++;
                else shared[m]++;
            }
        }
        return new RamPass.Overlap(shared, unique);
    }

    /** {@code ram}/{@code ramplus_tl} of one tensor, one element at a time. */
    public static LinearResult ram(RamPass pass) {
        List<Tensor> models = pass.models();
        int count = models.size();
        if (!pass.allowNonfinite()) {
            if (!allFinite(pass.base())) return new LinearResult(0, 0);
            for (int m = 0; m < count; m++) if (!allFinite(models.get(m))) return new LinearResult(m + 1, 0);
        }
        boolean[] contributes = new boolean[count];
        float[] tau = new float[count];
        long nonFinite = 0;
        for (long i = 0; i < pass.base().elementCount(); i++) {
            int c = contributors(pass, i, contributes, tau);
            float merged = 0f;
            for (int m = 0; m < count; m++) {
                if (!contributes[m]) continue;
                merged += c == 1 ? tau[m] * pass.uniqueScale()[m] : tau[m] / c;
            }
            pass.out().setFloat(i, pass.base().getFloat(i) + merged);
            if (!Float.isFinite(pass.out().getFloat(i))) nonFinite++;
        }
        return new LinearResult(-1, nonFinite);
    }

    /** Marks the models contributing at element i (|τ_m| &gt; ε) and returns how many do. */
    private static int contributors(RamPass pass, long i, boolean[] contributes, float[] tau) {
        float b = pass.base().getFloat(i);
        int c = 0;
        for (int m = 0; m < contributes.length; m++) {
            float d = pass.models().get(m).getFloat(i) - b;
            if (tau != null) tau[m] = d;
            contributes[m] = Math.abs(d) > pass.epsilon();
            if (contributes[m]) c++;
        }
        return c;
    }

    private static boolean allFinite(Tensor x) {
        for (long i = 0; i < x.elementCount(); i++) if (!Float.isFinite(x.getFloat(i))) return false;
        return true;
    }
}

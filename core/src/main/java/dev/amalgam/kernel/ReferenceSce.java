package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The reference SCE pass ({@link ScePass}, spec §9), element by element in the spec's order. */
public final class ReferenceSce {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE;

    private ReferenceSce() {
    }

    /** Runs one SCE pass. */
    public static ScePass.Result run(ScePass pass) {
        int t = pass.models().size();
        long n = pass.base().elementCount();
        Tensor base = pass.base();
        int bad = pass.allowNonfinite() ? -1 : ReferenceMix.firstNonFinite(base, pass.models());
        if (bad >= 0) return new ScePass.Result(0, new float[t], 0, bad, 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] tau = new MemorySegment[t];
            for (int m = 0; m < t; m++) {
                tau[m] = arena.allocate(F32, Math.max(1, n));
                for (long i = 0; i < n; i++) tau[m].setAtIndex(F32, i, pass.models().get(m).getFloat(i) - base.getFloat(i));
            }
            long selected = n;
            if (pass.selectTopk() < 1) {
                MemorySegment var = arena.allocate(F64, Math.max(1, n));
                long nz = 0;
                for (long i = 0; i < n; i++) {
                    double v = variance(tau, i);
                    var.setAtIndex(F64, i, v);
                    if (v != 0) nz++;
                }
                long k = (long) (nz * pass.selectTopk());
                selected = Math.min(k, n);
                if (k == 0) {
                    for (long i = 0; i < n; i++) pass.out().setFloat(i, base.getFloat(i));
                    return new ScePass.Result(0, new float[t], 0, -1, countNonFinite(pass.out()));
                }
                LongKeySelect.Threshold th = LongKeySelect.select(
                        LongKeySelect.sequential(i -> LongKeySelect.key(var.getAtIndex(F64, i)), n), n, k);
                long ties = 0;
                for (long i = 0; i < n; i++) {
                    long key = LongKeySelect.key(var.getAtIndex(F64, i));
                    boolean keep = th.keep(key, ties);
                    if (key == th.key()) ties++;
                    if (!keep) for (int m = 0; m < t; m++) tau[m].setAtIndex(F32, i, 0f);
                }
            }
            float[] w = weights(tau, n);
            long conflicts = 0, nonFinite = 0;
            for (long i = 0; i < n; i++) {
                int elected = ReferenceMix.elect(ConsensusMethod.SUM, tau, i);
                float merged = 0f, denominator = 0f;
                boolean conflict = false;
                for (int m = 0; m < t; m++) {
                    float x = tau[m].getAtIndex(F32, i);
                    float erased = ReferenceKernels.sgn(x) == elected ? w[m] : 0f;
                    if (erased == 0f && x != 0f && ReferenceKernels.sgn(x) != elected) conflict = true;
                    merged += x * erased;
                    denominator += erased;
                }
                if (conflict) conflicts++;
                float r = base.getFloat(i) + (merged / Math.max(denominator, 1e-6f)) * pass.scale();
                pass.out().setFloat(i, r);
                if (!Float.isFinite(pass.out().getFloat(i))) nonFinite++;
            }
            return new ScePass.Result(selected, w, conflicts, -1, nonFinite);
        }
    }

    /** (1/N)·Σ(τ_m − mean)², mean = (Σ τ_m)/N, double in model order. */
    static double variance(MemorySegment[] tau, long i) {
        int t = tau.length;
        double sum = 0;
        for (MemorySegment s : tau) sum += s.getAtIndex(F32, i);
        double mean = sum / t;
        double sq = 0;
        for (MemorySegment s : tau) {
            double d = s.getAtIndex(F32, i) - mean;
            sq += d * d;
        }
        return sq / t;
    }

    /** w_m = s_m/Σs, s_m = mean of τ_m² in the {@link BlockedSum} order; 1/N if |Σs| &lt; 1e-6. */
    static float[] weights(MemorySegment[] tau, long n) {
        int t = tau.length;
        double[] s = new double[t];
        double total = 0;
        for (int m = 0; m < t; m++) {
            BlockedSum sum = new BlockedSum();
            for (long i = 0; i < n; i++) {
                double x = tau[m].getAtIndex(F32, i);
                sum.add(x * x);
            }
            s[m] = n == 0 ? 0 : sum.sum() / n;
            total += s[m];
        }
        return weightsFrom(s, total);
    }

    /** The float32 weights from the per-model means of τ² and their sum (model order). */
    public static float[] weightsFrom(double[] s, double total) {
        float[] w = new float[s.length];
        for (int m = 0; m < s.length; m++) w[m] = Math.abs(total) < 1e-6 ? (float) (1.0 / s.length) : (float) (s[m] / total);
        return w;
    }

    private static long countNonFinite(Tensor out) {
        long c = 0;
        for (long i = 0; i < out.elementCount(); i++) if (!Float.isFinite(out.getFloat(i))) c++;
        return c;
    }
}

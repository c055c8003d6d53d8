package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Steps 5–9 of the GTA pipeline (§1.4) on already weighted task vectors, one element at a time in
 * the reference's order, shared by the reference kernels of the methods that prepare their own
 * sparsified vectors (DELLA, consensus). Same arithmetic as {@link ReferenceKernels#gta}.
 */
final class ReferenceMix {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    private ReferenceMix() {
    }

    /** What {@link #mix} counted. */
    record Counts(long signConflicts, long nonFiniteOutputs) {
    }

    /**
     * For each element: elect (unless NONE), disjoint sum in model order (float32), divide if
     * {@code normalize} (§1.8), × λ, + θ0 if {@code base} is not null, store into {@code out}.
     */
    static Counts mix(MemorySegment[] v, float[] weights, ConsensusMethod consensus, boolean normalize, float lambda,
                      Tensor base, Tensor out) {
        int t = v.length;
        long n = out.elementCount();
        float allWeights = 0f;
        for (float w : weights) allWeights += w;
        long conflicts = 0, nonFinite = 0;
        for (long i = 0; i < n; i++) {
            int elected = elect(consensus, v, i);
            float mixed = 0f, divisor = 0f;
            boolean conflict = false;
            for (int m = 0; m < t; m++) {
                float x = v[m].getAtIndex(F32, i);
                if (consensus == ConsensusMethod.NONE || ReferenceKernels.sgn(x) == elected) {
                    mixed += x;
                    divisor += weights[m];
                } else if (x != 0f) {
                    conflict = true;
                }
            }
            if (conflict) conflicts++;
            if (normalize) {
                if (consensus != ConsensusMethod.NONE) {
                    mixed = mixed / (divisor == 0f ? 1f : divisor);
                } else {
                    mixed = mixed / (Math.abs((double) allWeights) < 1e-8 ? 1f : allWeights);
                }
            }
            mixed = mixed * lambda;
            out.setFloat(i, base == null ? mixed : base.getFloat(i) + mixed);
            if (!Float.isFinite(out.getFloat(i))) nonFinite++;
        }
        return new Counts(conflicts, nonFinite);
    }

    static int elect(ConsensusMethod method, MemorySegment[] v, long i) {
        return switch (method) {
            case NONE -> 0;
            case SUM -> {
                double sum = 0;
                for (MemorySegment s : v) sum += s.getAtIndex(F32, i);
                yield sum >= 0 ? 1 : -1;
            }
            case COUNT -> {
                int count = 0;
                for (MemorySegment s : v) count += ReferenceKernels.sgn(s.getAtIndex(F32, i));
                yield count >= 0 ? 1 : -1;
            }
        };
    }

    /** -1 if all finite, 0 for the base, 1 + m for model m (first found). */
    static int firstNonFinite(Tensor base, List<Tensor> models) {
        if (!allFinite(base)) return 0;
        for (int m = 0; m < models.size(); m++) if (!allFinite(models.get(m))) return m + 1;
        return -1;
    }

    static boolean allFinite(Tensor x) {
        for (long i = 0; i < x.elementCount(); i++) if (!Float.isFinite(x.getFloat(i))) return false;
        return true;
    }

    /** Multiplies every value by {@code A/B} in double unless A or B is below 1e-7 (§1.9 {@code l1}). */
    static void l1Rescale(MemorySegment d, long n, double before) {
        BlockedL1Sum l1 = new BlockedL1Sum();
        for (long i = 0; i < n; i++) l1.add(d.getAtIndex(F32, i));
        double after = l1.sum();
        if (before < 1e-7 || after < 1e-7) return;
        double factor = before / after;
        for (long i = 0; i < n; i++) d.setAtIndex(F32, i, (float) (d.getAtIndex(F32, i) * factor));
    }
}

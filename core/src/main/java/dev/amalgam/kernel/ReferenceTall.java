package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The reference τ_MTL ({@link TauPass}) and TALL mask ({@link TallPass}) passes of spec §10. */
public final class ReferenceTall {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    private ReferenceTall() {
    }

    /** τ_MTL; the returned kept counts are per model (trim survivors). */
    public static long[] tau(TauPass pass) {
        int t = pass.models().size();
        long n = pass.base().elementCount();
        long[] kept = new long[t];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] v = new MemorySegment[t];
            for (int m = 0; m < t; m++) {
                v[m] = arena.allocate(F32, Math.max(1, n));
                Tensor x = pass.models().get(m);
                BlockedL1Sum l1 = new BlockedL1Sum();
                for (long i = 0; i < n; i++) {
                    float d = x.getFloat(i) - pass.base().getFloat(i);
                    v[m].setAtIndex(F32, i, d);
                    l1.add(d);
                }
                MagnitudeThreshold th = pass.keep()[m];
                if (th == null || th.keepsAll()) {
                    kept[m] = n;
                } else {
                    long ties = 0;
                    for (long i = 0; i < n; i++) {
                        int key = MagnitudeKey.of(v[m].getAtIndex(F32, i));
                        boolean keep = key > th.key() || (key == th.key() && ties++ < th.tiesToKeep());
                        if (keep) kept[m]++;
                        else v[m].setAtIndex(F32, i, 0f);
                    }
                    if (pass.l1Rescale()) ReferenceMix.l1Rescale(v[m], n, l1.sum());
                }
                float w = pass.weights()[m];
                for (long i = 0; i < n; i++) v[m].setAtIndex(F32, i, w * v[m].getAtIndex(F32, i));
            }
            ReferenceMix.mix(v, pass.weights(), pass.consensus(), pass.normalize(), 1f, null, pass.tau());
            return kept;
        }
    }

    /** The TALL masks, their vote and (if asked) the consensus output. */
    public static TallPass.Result masks(TallPass pass) {
        int t = pass.models().size();
        long n = pass.base().elementCount();
        long[] counts = new long[t];
        long kept = 0, nonFinite = 0;
        for (long i = 0; i < n; i++) {
            float b = pass.base().getFloat(i);
            float tau = pass.tau().getFloat(i);
            long votes = 0;
            for (int m = 0; m < t; m++) {
                float d = pass.models().get(m).getFloat(i) - b;
                boolean mask = Math.abs(d) > pass.lambdas()[m] * Math.abs(tau - d);
                if (mask) {
                    votes++;
                    counts[m]++;
                    if (pass.masks() != null) pass.masks()[m][(int) (i >>> 6)] |= 1L << (i & 63);
                }
            }
            boolean keep = votes >= pass.k();
            if (keep) kept++;
            if (pass.out() != null) {
                pass.out().setFloat(i, b + pass.alpha() * (keep ? tau : 0f));
                if (!Float.isFinite(pass.out().getFloat(i))) nonFinite++;
            }
        }
        return new TallPass.Result(kept, counts, nonFinite);
    }
}

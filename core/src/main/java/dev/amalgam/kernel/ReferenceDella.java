package dev.amalgam.kernel;

import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The reference DELLA pass ({@link DellaPass}, spec §8): the oracle of the fast backends.
 *
 * <p>Implementation notes. Ranks come from sorting each vector's (key, position) pairs packed in
 * a long — key = {@link MagnitudeKey} in the high half, {@code 0xFFFFFFFF − position} in the low
 * half — ascending, so equal magnitudes put the higher position first (it ranks lower: §8's
 * r_i = 1 + #{key_j &lt; key_i} + #{key_j = key_i, j &gt; i}); sorted position s has rank s + 1.
 * Keep/drop follows §1.9 with p_i from {@link DellaRows#probability}; {@code inverse_probability}
 * divides a kept value by p_i in double; {@code l1} uses the {@link BlockedL1Sum} order.
 */
public final class ReferenceDella {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    private ReferenceDella() {
    }

    /** Runs one DELLA pass. */
    public static GtaResult run(DellaPass pass) {
        int t = pass.modelCount();
        long n = pass.elementCount();
        long[] kept = new long[t];
        int bad = pass.allowNonfinite() ? -1 : ReferenceMix.firstNonFinite(pass.base(), pass.models());
        if (bad >= 0) return new GtaResult(kept, new long[t], 0, bad, 0);
        DellaRows rows = DellaRows.of(pass.base().info().shape());
        int hash = Fnv1a32.hash(pass.tensorName());
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
                double density = pass.densities()[m];
                if (density >= 1) {
                    kept[m] = n;
                } else if (density <= 0) {
                    v[m].fill((byte) 0);
                } else {
                    BernoulliMask mask = new BernoulliMask(pass.seed(), pass.modelIndices()[m], hash);
                    kept[m] = sparsify(v[m], rows, density, pass.epsilons()[m], mask,
                            pass.rescale() == DellaPass.Rescale.INVERSE_PROBABILITY);
                    if (pass.rescale() == DellaPass.Rescale.L1) ReferenceMix.l1Rescale(v[m], n, l1.sum());
                }
                float w = pass.weights()[m];
                for (long i = 0; i < n; i++) v[m].setAtIndex(F32, i, w * v[m].getAtIndex(F32, i));
            }
            ReferenceMix.Counts c = ReferenceMix.mix(v, pass.weights(), pass.consensus(), pass.normalize(), pass.lambda(),
                    pass.base(), pass.out());
            return new GtaResult(kept, new long[t], c.signConflicts(), -1, c.nonFiniteOutputs());
        }
    }

    /** Drops in place per §8; returns the kept count. */
    private static long sparsify(MemorySegment d, DellaRows rows, double density, double epsilon, BernoulliMask mask,
                                 boolean inverseProbability) {
        long length = rows.length();
        long[] packed = new long[(int) length];
        long kept = 0;
        for (long vec = 0; vec < rows.count(); vec++) {
            for (int p = 0; p < length; p++) {
                long key = MagnitudeKey.of(d.getAtIndex(F32, rows.index(vec, p)));
                packed[p] = (key << 32) | (0xFFFFFFFFL - p);
            }
            java.util.Arrays.sort(packed);
            for (int s = 0; s < length; s++) {
                long p = 0xFFFFFFFFL - (packed[s] & 0xFFFFFFFFL);
                long i = rows.index(vec, p);
                double prob = DellaRows.probability(s + 1, length, density, epsilon);
                if (mask.keep(i, BernoulliMask.keepBound(prob))) {
                    kept++;
                    if (inverseProbability) d.setAtIndex(F32, i, (float) (d.getAtIndex(F32, i) / prob));
                } else {
                    d.setAtIndex(F32, i, 0f);
                }
            }
        }
        return kept;
    }

    /** The ranks of one vector of values (1 = smallest magnitude), by the definition of §8; for tests. */
    public static long[] ranks(float[] x) {
        long[] r = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            int ki = MagnitudeKey.of(x[i]);
            long rank = 1;
            for (int j = 0; j < x.length; j++) {
                int kj = MagnitudeKey.of(x[j]);
                if (Integer.compareUnsigned(kj, ki) < 0 || (kj == ki && j > i)) rank++;
            }
            r[i] = rank;
        }
        return r;
    }
}

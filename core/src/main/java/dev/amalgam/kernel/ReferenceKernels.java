package dev.amalgam.kernel;

import dev.amalgam.random.BernoulliMask;
import dev.amalgam.random.Fnv1a32;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * The pure-Java reference kernels: the oracle every other backend is tested against.
 *
 * <p>Implementation notes. Written for clarity, one element at a time, in the order of the
 * spec. Per-element arithmetic is float32 with no FMA (Java never contracts); the election sum
 * is double in model-index order; L1 norms are double in the fixed blocked order of
 * {@link BlockedL1Sum} (not plain flat order) so that parallel backends match bit for bit. Magnitude
 * selection is a two-pass 16+16-bit radix select on {@link MagnitudeKey}s: no sort, and exact
 * ties are resolved by flat index through {@link MagnitudeThreshold#tiesToKeep()}. Scratch
 * (one float32 δ per model) is off-heap and freed at the end of each call.
 */
public final class ReferenceKernels implements KernelBackend {

    /** A reference backend; it holds no resources. */
    public ReferenceKernels() {
    }

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT;

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public MagnitudeThreshold selectLargest(List<DeltaSource> parts, long k) {
        long n = 0;
        for (DeltaSource p : parts) n += p.elementCount();
        if (k <= 0) return MagnitudeThreshold.KEEP_NONE;
        if (k >= n) return MagnitudeThreshold.KEEP_ALL;

        // Pass 1: the high 16 bits of the key of the k-th largest.
        long[] high = new long[1 << 16];
        for (DeltaSource p : parts) {
            for (long i = 0; i < p.elementCount(); i++) {
                high[delta(p, i) >>> 16]++;
            }
        }
        long above = 0;
        int hb = high.length - 1;
        while (above + high[hb] < k) above += high[hb--];

        // Pass 2: the low 16 bits, among the keys in that bucket.
        long[] low = new long[1 << 16];
        for (DeltaSource p : parts) {
            for (long i = 0; i < p.elementCount(); i++) {
                int key = delta(p, i);
                if (key >>> 16 == hb) low[key & 0xFFFF]++;
            }
        }
        int lb = low.length - 1;
        while (above + low[lb] < k) above += low[lb--];
        return new MagnitudeThreshold((hb << 16) | lb, k - above);
    }

    private static int delta(DeltaSource p, long i) {
        return MagnitudeKey.of(p.model().getFloat(i) - p.base().getFloat(i));
    }

    @Override
    public GtaResult gta(GtaPass pass) {
        int t = pass.modelCount();
        long n = pass.elementCount();
        Tensor base = pass.base();
        long[] kept = new long[t];
        long[] keepTies = new long[t];

        int nonFiniteInput = pass.allowNonfinite() ? -1 : firstNonFinite(base, pass.models());
        if (nonFiniteInput >= 0) return new GtaResult(kept, keepTies, 0, nonFiniteInput, 0);

        try (Arena arena = Arena.ofConfined()) {
            MemorySegment[] v = new MemorySegment[t];
            for (int m = 0; m < t; m++) {
                v[m] = arena.allocate(F32, Math.max(1, n));
                Tensor model = pass.models().get(m);
                // (1) δ_m = θ_m − θ0
                BlockedL1Sum l1 = new BlockedL1Sum();
                for (long i = 0; i < n; i++) {
                    float d = model.getFloat(i) - base.getFloat(i);
                    v[m].setAtIndex(F32, i, d);
                    l1.add(d);
                }
                double l1Before = l1.sum();
                // (2) sparsify the unweighted δ_m
                Sparsifier s = pass.sparsifiers()[m];
                long[] stats = sparsify(s, v[m], n, pass, m);
                kept[m] = stats[0];
                keepTies[m] = stats[1];
                // (3) rescale
                rescale(s, pass.rescale(), v[m], n, l1Before);
                // (4) weight
                float w = pass.weights()[m];
                for (long i = 0; i < n; i++) {
                    v[m].setAtIndex(F32, i, w * v[m].getAtIndex(F32, i));
                }
            }

            float allWeights = 0f;
            for (float w : pass.weights()) allWeights += w;
            long conflicts = 0;
            long nonFiniteOut = 0;
            for (long i = 0; i < n; i++) {
                // (5) sign election
                int elected = elect(pass.consensus(), v, t, i);
                float mixed = 0f;
                float divisor = 0f;
                boolean conflict = false;
                for (int m = 0; m < t; m++) {
                    float x = v[m].getAtIndex(F32, i);
                    boolean agrees = pass.consensus() == ConsensusMethod.NONE || sgn(x) == elected;
                    if (agrees) {
                        // (6) disjoint sum
                        mixed += x;
                        divisor += pass.weights()[m];
                    } else if (x != 0f) {
                        conflict = true;
                    }
                }
                if (conflict) conflicts++;
                // (6) divisor rules
                if (pass.normalize()) {
                    if (pass.consensus() != ConsensusMethod.NONE) {
                        mixed = mixed / (divisor == 0f ? 1f : divisor);
                    } else {
                        mixed = mixed / (Math.abs((double) allWeights) < 1e-8 ? 1f : allWeights);
                    }
                }
                // (7) lambda, (9) add the base and store
                mixed = mixed * pass.lambda();
                float out = base.getFloat(i) + mixed;
                pass.out().setFloat(i, out);
                if (!Float.isFinite(pass.out().getFloat(i))) nonFiniteOut++;
            }
            return new GtaResult(kept, keepTies, conflicts, -1, nonFiniteOut);
        }
    }

    /** Applies the sparsifier in place; returns {kept, ties at the keep threshold}. */
    private static long[] sparsify(Sparsifier s, MemorySegment d, long n, GtaPass pass, int m) {
        switch (s) {
            case Sparsifier.None none -> {
                return new long[] {n, 0};
            }
            case Sparsifier.MagnitudeBand band -> {
                MagnitudeThreshold keep = band.keep();
                MagnitudeThreshold exclude = band.exclude();
                long keepOrdinal = 0, excludeOrdinal = 0, kept = 0;
                for (long i = 0; i < n; i++) {
                    int key = MagnitudeKey.of(d.getAtIndex(F32, i));
                    boolean inKeep = key > keep.key() || (key == keep.key() && keepOrdinal++ < keep.tiesToKeep());
                    boolean inExclude = exclude != null
                            && (key > exclude.key() || (key == exclude.key() && excludeOrdinal++ < exclude.tiesToKeep()));
                    if (inKeep && !inExclude) {
                        kept++;
                    } else {
                        d.setAtIndex(F32, i, 0f);
                    }
                }
                return new long[] {kept, keepOrdinal};
            }
            case Sparsifier.Bernoulli bernoulli -> {
                if (bernoulli.density() >= 1) return new long[] {n, 0};
                long bound = BernoulliMask.keepBound(bernoulli.density());
                BernoulliMask mask = new BernoulliMask(pass.seed(), pass.modelIndices()[m], Fnv1a32.hash(pass.tensorName()));
                long kept = 0;
                for (long i = 0; i < n; i++) {
                    if (mask.keep(i, bound)) {
                        kept++;
                    } else {
                        d.setAtIndex(F32, i, 0f);
                    }
                }
                return new long[] {kept, 0};
            }
        }
    }

    private static void rescale(Sparsifier s, RescaleMode mode, MemorySegment d, long n, double l1Before) {
        if (s instanceof Sparsifier.None) return;
        switch (mode) {
            case NONE -> {
            }
            case L1 -> {
                BlockedL1Sum l1 = new BlockedL1Sum();
                for (long i = 0; i < n; i++) l1.add(d.getAtIndex(F32, i));
                double l1After = l1.sum();
                if (l1Before < 1e-7 || l1After < 1e-7) return;
                double factor = l1Before / l1After;
                for (long i = 0; i < n; i++) {
                    d.setAtIndex(F32, i, (float) (d.getAtIndex(F32, i) * factor));
                }
            }
            case INVERSE_DENSITY -> {
                if (!(s instanceof Sparsifier.Bernoulli b)) {
                    throw new IllegalArgumentException("rescale_mode inverse_density needs a DARE sparsifier");
                }
                double p = b.density();
                if (p <= 0 || p >= 1) return;
                for (long i = 0; i < n; i++) {
                    d.setAtIndex(F32, i, (float) (d.getAtIndex(F32, i) / p));
                }
            }
        }
    }

    private static int elect(ConsensusMethod method, MemorySegment[] v, int t, long i) {
        return switch (method) {
            case NONE -> 0;
            case SUM -> {
                double sum = 0;
                for (int m = 0; m < t; m++) sum += v[m].getAtIndex(F32, i);
                yield sum >= 0 ? 1 : -1;
            }
            case COUNT -> {
                int count = 0;
                for (int m = 0; m < t; m++) count += sgn(v[m].getAtIndex(F32, i));
                yield count >= 0 ? 1 : -1;
            }
        };
    }

    /** sgn(x) = (x&gt;0) − (x&lt;0): ±0.0 has sign 0; NaN has sign 0. */
    static int sgn(float x) {
        return (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0);
    }

    private static int firstNonFinite(Tensor base, List<Tensor> models) {
        if (!allFinite(base)) return 0;
        for (int m = 0; m < models.size(); m++) {
            if (!allFinite(models.get(m))) return m + 1;
        }
        return -1;
    }

    private static boolean allFinite(Tensor x) {
        for (long i = 0; i < x.elementCount(); i++) {
            if (!Float.isFinite(x.getFloat(i))) return false;
        }
        return true;
    }

    @Override
    public LinearResult linear(LinearPass pass) {
        List<Tensor> inputs = pass.inputs();
        if (!pass.allowNonfinite()) {
            for (int j = 0; j < inputs.size(); j++) {
                if (!allFinite(inputs.get(j))) return new LinearResult(j, 0);
            }
        }
        long n = pass.out().elementCount();
        long nonFinite = 0;
        for (long i = 0; i < n; i++) {
            float acc = 0f;
            for (int j = 0; j < inputs.size(); j++) {
                acc += pass.weights()[j] * inputs.get(j).getFloat(i);
            }
            pass.out().setFloat(i, acc / pass.divisor());
            if (!Float.isFinite(pass.out().getFloat(i))) nonFinite++;
        }
        return new LinearResult(-1, nonFinite);
    }
}

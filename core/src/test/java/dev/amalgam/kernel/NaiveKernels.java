package dev.amalgam.kernel;

import dev.amalgam.random.PhiloxOracle;
import dev.amalgam.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * A deliberately naive second implementation of the kernel SPI, written from the spec (§1.4–§1.9) for
 * tests only, so that the reference kernels are checked against something other than themselves
 * ({@code ReferenceKernelsContractTest}). It shares no code with {@link ReferenceKernels}:
 * <ul>
 *   <li>selection SORTS every index by (magnitude key descending, index ascending) — §1.6's order —
 *       and reads the threshold off rank k−1, where the reference runs a radix select;</li>
 *   <li>a magnitude band keeps the elements whose rank lies in [excluded count, kept count), where the
 *       reference walks tie ordinals;</li>
 *   <li>DARE draws come from {@link PhiloxOracle} (the test's own Philox, checked against the spec's
 *       known answers), not from {@code BernoulliMask};</li>
 *   <li>L1 norms are re-derived from the blocked order's definition (§1.9, {@link BlockedL1Sum}'s
 *       javadoc) on a {@code float[]}.</li>
 * </ul>
 * Arithmetic is what §1.3 prescribes (float32 per element without FMA, model order; double for the
 * election sum, the L1 sums and the rescale factor), so outputs must agree bit for bit.
 */
public final class NaiveKernels implements KernelBackend {

    @Override
    public String name() {
        return "naive";
    }

    @Override
    public MagnitudeThreshold selectLargest(List<DeltaSource> parts, long k) {
        float[] d = concatenatedDeltas(parts);
        int n = d.length;
        if (k <= 0) return MagnitudeThreshold.KEEP_NONE;
        if (k >= n) return MagnitudeThreshold.KEEP_ALL;
        int[] order = rankOrder(d);
        int key = key(d[order[(int) k - 1]]);
        long above = 0;
        for (float x : d) if (key(x) > key) above++;
        return new MagnitudeThreshold(key, k - above);
    }

    @Override
    public GtaResult gta(GtaPass pass) {
        int t = pass.modelCount();
        int n = Math.toIntExact(pass.elementCount());
        float[] base = read(pass.base());
        float[][] models = new float[t][];
        for (int m = 0; m < t; m++) models[m] = read(pass.models().get(m));
        long[] kept = new long[t];
        long[] keepTies = new long[t];
        if (!pass.allowNonfinite()) {
            if (!finite(base)) return new GtaResult(kept, keepTies, 0, 0, 0);
            for (int m = 0; m < t; m++) if (!finite(models[m])) return new GtaResult(kept, keepTies, 0, m + 1, 0);
        }

        float[][] v = new float[t][n];
        for (int m = 0; m < t; m++) {
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = models[m][i] - base[i];
            Sparsifier s = pass.sparsifiers()[m];
            boolean[] keep = keepMask(s, d, pass, m);
            float[] dh = new float[n];
            for (int i = 0; i < n; i++) {
                if (keep[i]) {
                    dh[i] = d[i];
                    kept[m]++;
                }
            }
            if (s instanceof Sparsifier.MagnitudeBand band) {
                for (float x : d) if (key(x) == band.keep().key()) keepTies[m]++;
            }
            if (!(s instanceof Sparsifier.None)) rescale(pass.rescale(), s, d, dh);
            float w = pass.weights()[m];
            for (int i = 0; i < n; i++) v[m][i] = w * dh[i];
        }

        float weightSum = 0f;
        for (float w : pass.weights()) weightSum += w;
        boolean elects = pass.consensus() != ConsensusMethod.NONE;
        long conflicts = 0, nonFiniteOut = 0;
        for (int i = 0; i < n; i++) {
            int sign = 0;
            if (pass.consensus() == ConsensusMethod.SUM) {
                double s = 0;
                for (int m = 0; m < t; m++) s += v[m][i];
                sign = s >= 0 ? 1 : -1;
            } else if (pass.consensus() == ConsensusMethod.COUNT) {
                int c = 0;
                for (int m = 0; m < t; m++) c += signum(v[m][i]);
                sign = c >= 0 ? 1 : -1;
            }
            float sum = 0f, agreeing = 0f;
            boolean conflict = false;
            for (int m = 0; m < t; m++) {
                if (!elects || signum(v[m][i]) == sign) {
                    sum = sum + v[m][i];
                    agreeing = agreeing + pass.weights()[m];
                } else if (v[m][i] != 0f) {
                    conflict = true;
                }
            }
            if (conflict) conflicts++;
            if (pass.normalize()) {   // §1.8
                float divisor = elects ? (agreeing == 0f ? 1f : agreeing) : (Math.abs((double) weightSum) < 1e-8 ? 1f : weightSum);
                sum = sum / divisor;
            }
            pass.out().setFloat(i, base[i] + sum * pass.lambda());
            if (!Float.isFinite(pass.out().getFloat(i))) nonFiniteOut++;
        }
        return new GtaResult(kept, keepTies, conflicts, -1, nonFiniteOut);
    }

    @Override
    public LinearResult linear(LinearPass pass) {
        List<Tensor> inputs = pass.inputs();
        float[][] x = new float[inputs.size()][];
        for (int j = 0; j < x.length; j++) {
            x[j] = read(inputs.get(j));
            if (!pass.allowNonfinite() && !finite(x[j])) return new LinearResult(j, 0);
        }
        long nonFinite = 0;
        for (int i = 0; i < Math.toIntExact(pass.out().elementCount()); i++) {
            float acc = 0f;
            for (int j = 0; j < x.length; j++) acc = acc + pass.weights()[j] * x[j][i];
            pass.out().setFloat(i, acc / pass.divisor());
            if (!Float.isFinite(pass.out().getFloat(i))) nonFinite++;
        }
        return new LinearResult(-1, nonFinite);
    }

    // ---------------------------------------------------------------- pieces

    private static boolean[] keepMask(Sparsifier s, float[] d, GtaPass pass, int m) {
        int n = d.length;
        boolean[] keep = new boolean[n];
        switch (s) {
            case Sparsifier.None none -> Arrays.fill(keep, true);
            case Sparsifier.MagnitudeBand band -> {
                long keptRanks = ranksCovered(band.keep(), d);
                long excludedRanks = band.exclude() == null ? 0 : ranksCovered(band.exclude(), d);
                int[] order = rankOrder(d);
                for (int r = 0; r < n; r++) keep[order[r]] = r >= excludedRanks && r < keptRanks;
            }
            case Sparsifier.Bernoulli b -> {
                long h = PhiloxOracle.fnv1a32(pass.tensorName());
                for (int i = 0; i < n; i++) {
                    keep[i] = b.density() >= 1 || PhiloxOracle.keepFast(pass.seed(), pass.modelIndices()[m], h, i, b.density());
                }
            }
        }
        return keep;
    }

    /** How many leading ranks a threshold keeps: every key above it, plus its tie budget of the equal ones. */
    private static long ranksCovered(MagnitudeThreshold t, float[] d) {
        long above = 0, equal = 0;
        for (float x : d) {
            if (key(x) > t.key()) above++;
            else if (key(x) == t.key()) equal++;
        }
        return above + Math.min(equal, t.tiesToKeep());
    }

    private static void rescale(RescaleMode mode, Sparsifier s, float[] d, float[] dh) {
        switch (mode) {
            case NONE -> {
            }
            case L1 -> {
                double a = blockedL1(d), b = blockedL1(dh);
                if (a < 1e-7 || b < 1e-7) return;   // §1.9
                double factor = a / b;
                for (int i = 0; i < dh.length; i++) dh[i] = (float) (dh[i] * factor);
            }
            case INVERSE_DENSITY -> {
                if (!(s instanceof Sparsifier.Bernoulli b)) throw new IllegalArgumentException("inverse_density is for DARE only");
                double p = b.density();
                if (p > 0 && p < 1) for (int i = 0; i < dh.length; i++) dh[i] = (float) (dh[i] / p);
            }
        }
    }

    /** Σ|x| in double: 2^16-element blocks, each of 8 interleaved partial sums added left to right; blocks in order. */
    static double blockedL1(float[] x) {
        double total = 0;
        for (int start = 0; start < x.length; start += 1 << 16) {
            double[] lane = new double[8];
            for (int i = start; i < Math.min(x.length, start + (1 << 16)); i++) lane[(i - start) % 8] += Math.abs(x[i]);
            double block = lane[0];
            for (int j = 1; j < 8; j++) block += lane[j];
            total += block;
        }
        return total;
    }

    /** Every index, ordered by magnitude key descending, then index ascending (§1.6). */
    private static int[] rankOrder(float[] d) {
        long[] packed = new long[d.length];
        for (int i = 0; i < d.length; i++) packed[i] = ((long) (0x7FFFFFFF - key(d[i])) << 32) | i;
        Arrays.sort(packed);
        int[] order = new int[d.length];
        for (int r = 0; r < d.length; r++) order[r] = (int) packed[r];
        return order;
    }

    /** §1.6: IEEE bits with the sign cleared. */
    private static int key(float x) {
        return Float.floatToRawIntBits(x) & 0x7FFFFFFF;
    }

    private static int signum(float x) {
        return x > 0 ? 1 : x < 0 ? -1 : 0;
    }

    private static float[] concatenatedDeltas(List<DeltaSource> parts) {
        long total = 0;
        for (DeltaSource p : parts) total += p.elementCount();
        float[] d = new float[Math.toIntExact(total)];
        int at = 0;
        for (DeltaSource p : parts) {
            for (long i = 0; i < p.elementCount(); i++) d[at++] = p.model().getFloat(i) - p.base().getFloat(i);
        }
        return d;
    }

    private static float[] read(Tensor x) {
        float[] a = new float[Math.toIntExact(x.elementCount())];
        for (int i = 0; i < a.length; i++) a[i] = x.getFloat(i);
        return a;
    }

    private static boolean finite(float[] x) {
        for (float v : x) if (!Float.isFinite(v)) return false;
        return true;
    }
}

package dev.amalgam.it;

import dev.amalgam.random.PhiloxOracle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An independent, deliberately naive implementation of the merge methods built so far, written
 * straight from the spec (§1.4–§1.9, §3–§7) on {@code float[]} arrays, to check the product's
 * outputs bit for bit.
 *
 * <p>Implementation notes. Nothing here is shared with the production kernels; the Philox draws
 * come from the tests' own {@link PhiloxOracle} (checked against the spec's known answers). In particular:
 * <ul>
 *   <li>the magnitude trim SORTS all indices by (|x| key descending, index ascending) and keeps
 *       a prefix of ranks; production uses a radix select with a tie budget;</li>
 *   <li>{@code density_scope: model} concatenates every tensor of a model (UTF-8 name order) into
 *       one array and sorts that;</li>
 *   <li>L1 norms are summed in the blocked order the spec leaves to the implementation and the
 *       backends share ({@code BlockedL1Sum}: blocks of 2^16 elements, 8 interleaved double
 *       partial sums per block, combined left to right, blocks added in order). Re-implemented
 *       here so that L1-rescaled outputs can be compared bit for bit: a plain sequential double
 *       sum would differ in the last bits of A/B, which moves float32(x·A/B) by an ulp now and
 *       then;</li>
 *   <li>the bfloat16 rounding is a distance comparison in double, not the bit trick.</li>
 * </ul>
 * Arithmetic follows §1.3: per-element float32 without FMA, model-index order; double for
 * election sums, L1 sums and per-tensor scalars.
 */
final class NaiveMergeOracle {

    private NaiveMergeOracle() {
    }

    /** How a GTA method sparsifies δ (§5–§7). */
    enum Sparsifier { NONE, TRIM, DARE, BAND }

    /** The GTA family of §1.4: sparsifier and whether it elects signs. */
    enum GtaMethod {
        TASK_ARITHMETIC(Sparsifier.NONE, false),
        TIES(Sparsifier.TRIM, true),
        DARE_LINEAR(Sparsifier.DARE, false),
        DARE_TIES(Sparsifier.DARE, true),
        BREADCRUMBS(Sparsifier.BAND, false),
        BREADCRUMBS_TIES(Sparsifier.BAND, true);

        final Sparsifier sparsifier;
        final boolean elects;

        GtaMethod(Sparsifier sparsifier, boolean elects) {
            this.sparsifier = sparsifier;
            this.elects = elects;
        }

        static GtaMethod of(String mergeMethod) {
            for (GtaMethod m : values()) if (m.name().equalsIgnoreCase(mergeMethod)) return m;
            return null;
        }
    }

    /** Per-model parameters for one tensor: weight, density, gamma (breadcrumbs) and the model index m. */
    record Task(int modelIndex, double weight, double density, double gamma) {
    }

    /**
     * Global parameters for one tensor.
     *
     * @param consensus {@code sum} or {@code count} (ignored unless the method elects)
     */
    record Global(boolean normalize, double lambda, boolean rescale, String rescaleMode, String consensus, long seed) {
    }

    // ---------------------------------------------------------------- GTA (§1.4)

    /**
     * One tensor of a GTA method. {@code presetKeep[m]}, if given and non-null, is the keep mask of
     * model m from a {@code density_scope: model} selection; a null entry means no trim.
     */
    static float[] gta(GtaMethod method, String tensor, float[] base, float[][] models, Task[] tasks, Global g,
                       boolean[][] presetKeep) {
        int n = base.length;
        int t = models.length;
        float[][] v = new float[t][];
        for (int m = 0; m < t; m++) {
            // (1) δ_m = θ_m − θ0
            float[] d = new float[n];
            for (int i = 0; i < n; i++) d[i] = models[m][i] - base[i];
            double l1Before = blockedL1(d);
            // (2) sparsify the unweighted δ
            boolean[] keep = presetKeep != null ? presetKeep[m] : keepMask(method.sparsifier, tensor, d, tasks[m], g.seed());
            float[] dh = d.clone();
            if (keep != null) for (int i = 0; i < n; i++) if (!keep[i]) dh[i] = 0f;
            // (3) rescale (only where a sparsifier acted)
            if (keep != null && g.rescale()) {
                switch (g.rescaleMode()) {
                    case "l1" -> {
                        double l1After = blockedL1(dh);
                        if (!(l1Before < 1e-7 || l1After < 1e-7)) {
                            double factor = l1Before / l1After;
                            for (int i = 0; i < n; i++) dh[i] = (float) (dh[i] * factor);
                        }
                    }
                    case "inverse_density" -> {
                        if (method.sparsifier != Sparsifier.DARE) throw new IllegalArgumentException("inverse_density is DARE only");
                        double p = tasks[m].density();
                        if (p > 0 && p < 1) for (int i = 0; i < n; i++) dh[i] = (float) (dh[i] / p);
                    }
                    default -> throw new IllegalArgumentException("rescale_mode " + g.rescaleMode());
                }
            }
            // (4) weight
            float w = (float) tasks[m].weight();
            v[m] = new float[n];
            for (int i = 0; i < n; i++) v[m][i] = w * dh[i];
        }

        float allWeights = 0f;
        for (Task task : tasks) allWeights += (float) task.weight();
        float lambda = (float) g.lambda();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            // (5) election
            int elected = 0;
            if (method.elects) {
                if (g.consensus().equals("count")) {
                    int c = 0;
                    for (int m = 0; m < t; m++) c += sgn(v[m][i]);
                    elected = c >= 0 ? 1 : -1;
                } else {
                    double s = 0;
                    for (int m = 0; m < t; m++) s += v[m][i];
                    elected = s >= 0 ? 1 : -1;
                }
            }
            // (6) disjoint or plain sum, agreeing weights
            float mixed = 0f;
            float agreeing = 0f;
            for (int m = 0; m < t; m++) {
                if (!method.elects || sgn(v[m][i]) == elected) {
                    mixed = mixed + v[m][i];
                    agreeing = agreeing + (float) tasks[m].weight();
                }
            }
            // (6) divisor rules (§1.8)
            if (g.normalize()) {
                float divisor;
                if (method.elects) divisor = agreeing == 0f ? 1f : agreeing;
                else divisor = Math.abs((double) allWeights) < 1e-8 ? 1f : allWeights;
                mixed = mixed / divisor;
            }
            // (7) lambda, (9) base
            mixed = mixed * lambda;
            out[i] = base[i] + mixed;
        }
        return out;
    }

    /** The keep mask of one model's δ, or null when the sparsifier keeps everything (density ≥ 1 or none). */
    static boolean[] keepMask(Sparsifier kind, String tensor, float[] d, Task task, long seed) {
        int n = d.length;
        double density = task.density();
        switch (kind) {
            case NONE -> {
                return null;
            }
            case TRIM -> {
                if (density >= 1) return null;
                long k = (long) (density * n);
                return keepRanks(d, 0, k);
            }
            case BAND -> {
                if (density >= 1) return null;
                long target = (long) (density * n);
                long top = (long) (task.gamma() * n);
                long bottom = n - target - top;
                if (bottom < 0) top = n - target;
                return keepRanks(d, top, top + target);
            }
            case DARE -> {
                if (density >= 1) return null;
                long h = fnv1a32(tensor) & 0xFFFF_FFFFL;
                boolean[] keep = new boolean[n];
                for (int i = 0; i < n; i++) keep[i] = PhiloxOracle.keepFast(seed, task.modelIndex(), h, i, density);  // u < p (§1.9)
                return keep;
            }
        }
        throw new AssertionError(kind);
    }

    /** Keeps the elements whose rank (§1.6 order, by sorting) lies in [from, to). */
    static boolean[] keepRanks(float[] d, long from, long to) {
        Integer[] order = magnitudeOrder(d);
        boolean[] keep = new boolean[d.length];
        for (long r = Math.max(0, from); r < Math.min(to, d.length); r++) keep[order[(int) r]] = true;
        return keep;
    }

    /** All indices, largest magnitude first; equal magnitudes (incl. ±0) by ascending index. */
    static Integer[] magnitudeOrder(float[] d) {
        Integer[] order = new Integer[d.length];
        for (int i = 0; i < d.length; i++) order[i] = i;
        Comparator<Integer> byKeyDescending = Comparator.comparingInt((Integer i) -> magnitudeKey(d[i])).reversed();
        Arrays.sort(order, byKeyDescending.thenComparingInt(i -> i));
        return order;
    }

    /** IEEE bits with the sign cleared: orders magnitudes, −0 = +0, NaN above +Inf (non-negative, so signed compare works). */
    static int magnitudeKey(float x) {
        return Float.floatToRawIntBits(x) & 0x7FFFFFFF;
    }

    /**
     * {@code density_scope: model} (§1.6): per model, one trim over all its tensors concatenated
     * in ascending UTF-8 byte order of names. Returns, per model, tensor name → keep mask (null
     * map entries when density ≥ 1).
     */
    static List<Map<String, boolean[]>> modelScopeMasks(Map<String, float[]> base, List<Map<String, float[]>> models,
                                                       double[] densities) {
        List<String> names = new ArrayList<>(base.keySet());
        names.sort(NaiveMergeOracle::compareUtf8);
        List<Map<String, boolean[]>> result = new ArrayList<>();
        for (int m = 0; m < models.size(); m++) {
            int total = 0;
            for (String name : names) total += base.get(name).length;
            float[] all = new float[total];
            int at = 0;
            for (String name : names) {
                float[] b = base.get(name), x = models.get(m).get(name);
                for (int i = 0; i < b.length; i++) all[at++] = x[i] - b[i];
            }
            Map<String, boolean[]> masks = new LinkedHashMap<>();
            boolean[] keep = densities[m] >= 1 ? null : keepRanks(all, 0, (long) (densities[m] * total));
            at = 0;
            for (String name : names) {
                int n = base.get(name).length;
                masks.put(name, keep == null ? null : Arrays.copyOfRange(keep, at, at + n));
                at += n;
            }
            result.add(masks);
        }
        return result;
    }

    // ---------------------------------------------------------------- linear (§3)

    /** out = Σ w_i·x_i (float32, input order), divided by float32(Σ w_i in double) if normalize. */
    static float[] linear(float[][] inputs, double[] weights, boolean normalize) {
        int n = inputs[0].length;
        double sum = 0;
        for (double w : weights) sum += w;
        if (normalize && sum == 0) throw new IllegalArgumentException("weights sum to 0");
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float acc = 0f;
            for (int j = 0; j < inputs.length; j++) acc = acc + (float) weights[j] * inputs[j][i];
            out[i] = normalize ? acc / (float) sum : acc;
        }
        return out;
    }

    // ---------------------------------------------------------------- shared pieces

    static int sgn(float x) {
        return (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0);
    }

    /** Σ|x| in double in the blocked order: 2^16-element blocks, 8 interleaved partial sums each. */
    static double blockedL1(float[] x) {
        final int block = 1 << 16, lanes = 8;
        double total = 0;
        for (int start = 0; start < x.length; start += block) {
            double[] partial = new double[lanes];
            int end = Math.min(x.length, start + block);
            for (int i = start; i < end; i++) partial[(i - start) % lanes] += Math.abs(x[i]);
            double blockSum = partial[0];
            for (int j = 1; j < lanes; j++) blockSum += partial[j];
            total += blockSum;
        }
        return total;
    }

    /** FNV-1a-32 of the UTF-8 bytes (§1.9). */
    static int fnv1a32(String s) {
        int h = 0x811C9DC5;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xFF)) * 0x01000193;
        return h;
    }

    static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- output rounding (§1.3)

    /** The stored bits of f in {@code dtype} ("F32", "F16", "BF16"), rounding to nearest, ties to even. */
    static int outputBits(float f, String dtype) {
        return switch (dtype) {
            case "F32" -> Float.floatToRawIntBits(f);
            case "F16" -> Float.floatToFloat16(f) & 0xFFFF;
            case "BF16" -> toBf16(f);
            default -> throw new IllegalArgumentException(dtype);
        };
    }

    /**
     * bfloat16 by comparing the distances to the two neighbours in double (exact for these
     * values); an exact tie goes to the even pattern. Beyond the largest finite bfloat16 the
     * upper neighbour is 2^128, so values from the halfway point up overflow to infinity.
     */
    static int toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) return (bits >>> 16) | 0x0040;
        if (Float.isInfinite(f)) return bits >>> 16;
        int sign = (bits >>> 16) & 0x8000;
        int lower = (bits >>> 16) & 0x7FFF; // truncation toward zero
        int upper = lower + 1;
        double x = Math.abs((double) f);
        double dLower = x - bf16Magnitude(lower);
        double dUpper = bf16Magnitude(upper) - x;
        int chosen;
        if (dLower < dUpper) chosen = lower;
        else if (dUpper < dLower) chosen = upper;
        else chosen = (lower & 1) == 0 ? lower : upper;
        return sign | chosen;
    }

    private static double bf16Magnitude(int pattern) {
        if (pattern >= 0x7F80) return Math.scalb(1.0, 128);
        return Float.intBitsToFloat(pattern << 16);
    }

    /** True if the stored bits are equal, or both are zeros of either sign. */
    static boolean sameOutput(int expected, int actual, String dtype) {
        if (expected == actual) return true;
        int magnitude = dtype.equals("F32") ? 0x7FFFFFFF : 0x7FFF;
        return (expected & magnitude) == 0 && (actual & magnitude) == 0;
    }
}

package dev.amalgam.kernel;

import static dev.amalgam.kernel.KernelTestData.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.KernelTestData.Style;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract every {@link KernelBackend} must meet: bit-identical agreement with
 * {@link ReferenceKernels} (§1.10; for the reference itself, with {@link NaiveKernels}, see {@link #oracle()}) on selections, masks, per-element arithmetic, the blocked L1
 * order and every count of the results. Written once, run against each backend by subclassing
 * (EJML style): a subclass only says which backend it tests.
 *
 * <p>Implementation notes. Every case builds fresh random inputs from a fixed seed that is
 * printed and named in failure messages, so a failure can be replayed alone. Sizes are chosen
 * to straddle the fast backend's 65 536-element chunks (65 537, 131 101, 1 000 003) and vector
 * widths (1, 2, 31, primes). Thresholds for trims and bands come from the reference's own
 * selection (itself compared separately), optionally with a reduced tie budget as a model-wide
 * selection produces. Outputs are compared by raw storage bits; two NaNs are equal.
 *
 * <p>The one relaxation is opt-in per backend: §1.10 lets values downstream of a reduction (the
 * l1 rescale factor A/B) differ within rounding. A backend whose sums run in another order than
 * {@link BlockedL1Sum} (CUDA's tree reductions) overrides {@link #reductionTolerance()}; every
 * other backend, and every other quantity, stays bit-exact.
 */
public abstract class KernelBackendContract extends KernelBoundaryContract {

    /**
     * What the backend is compared with: the reference kernels, except when the backend under test
     * IS the reference — then an independent implementation ({@link NaiveKernels}), never itself.
     */
    protected KernelBackend oracle() {
        return new ReferenceKernels();
    }

    /**
     * How far outputs may stray from the reference in cases with {@code rescale_mode: l1} (§1.10).
     * An element passes if its bits equal the reference's, or if it is within {@code relative} of
     * max(|expected|, |base|) (the base term covers out = base + mixed cancelling to near 0), or
     * within {@code outputUlps} units in the last place of the output dtype at the expected value.
     * Masks, kept counts, tie counts, non-finite reports stay exact; the sign-conflict count may
     * differ by at most the number of elements whose bits differ.
     */
    public record ReductionTolerance(double relative, int outputUlps) {
        /** No relaxation: bit-identical (the reference's own summation order). */
        public static final ReductionTolerance EXACT = new ReductionTolerance(0, 0);

        public boolean exact() {
            return relative == 0 && outputUlps == 0;
        }
    }


    private static final DType[] DTYPES = {DType.F32, DType.F16, DType.BF16};
    private static final long[] SIZES = {1, 2, 31, 1009, 65536, 65537, 131101};

    private KernelBackend reference;

    @BeforeEach
    void openOracle() {   // after the base class opened the backend
        reference = oracle();
        assertTrue(reference.getClass() != backend.getClass(), "a backend must not be its own oracle: " + backend.name());
    }

    // ---------------------------------------------------------------- selection

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void selectLargestMatchesReferenceOnOneSegment(long seed) {
        SplittableRandom rnd = seeded("selectLargest", seed);
        long n = SIZES[rnd.nextInt(SIZES.length)];
        Style style = rnd.nextBoolean() ? Style.GRID : Style.WIDE;
        Tensor base = KernelTestData.randomBase("t", DTYPES[rnd.nextInt(3)], n, style, rnd);
        Tensor model = KernelTestData.randomModel("t", DTYPES[rnd.nextInt(3)], base, style, rnd);
        List<DeltaSource> parts = List.of(new DeltaSource(base, model));
        for (long k : interestingCounts(n, rnd)) {
            assertSelectionsMatch(parts, k, "seed " + seed + ", n " + n + ", " + style);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {21, 22, 23})
    void selectLargestMatchesReferenceOnMixedSegments(long seed) {
        SplittableRandom rnd = seeded("selectLargest segments", seed);
        long[] sizes = {1, 31, 65536, 2, 65537, 100003};
        List<DeltaSource> parts = new ArrayList<>();
        long n = 0;
        Style style = seed % 2 == 0 ? Style.WIDE : Style.GRID;
        for (long size : sizes) {
            Tensor base = KernelTestData.randomBase("b" + size, DTYPES[rnd.nextInt(3)], size, style, rnd);
            parts.add(new DeltaSource(base, KernelTestData.randomModel("m" + size, DTYPES[rnd.nextInt(3)], base, style, rnd)));
            n += size;
        }
        for (long k : interestingCounts(n, rnd)) {
            assertSelectionsMatch(parts, k, "seed " + seed + ", segments " + Arrays.toString(sizes));
        }
    }

    @Test
    void selectLargestMatchesReferenceOnAMillionElements() {
        long seed = 31;
        SplittableRandom rnd = seeded("selectLargest large", seed);
        long n = 1_000_003;
        Tensor base = KernelTestData.randomBase("big", DType.BF16, n, Style.WIDE, rnd);
        Tensor model = KernelTestData.randomModel("big", DType.BF16, base, Style.WIDE, rnd);
        List<DeltaSource> parts = List.of(new DeltaSource(base, model));
        for (long k : new long[] {1, (long) (0.2 * n), n - 1}) {
            assertSelectionsMatch(parts, k, "seed " + seed + ", n " + n);
        }
    }

    @Test
    void selectLargestHandlesZeroAndAllAndSignedZeroTies() {
        // Deltas: +0.0 (2 − 2), −0.0 (−0.0 − +0.0), 1, −1, 1: keys 0, 0, 1.0, 1.0, 1.0.
        Tensor base = KernelTestData.of("z", DType.F32, 2f, 0f, 0f, 0f, 3f);
        Tensor model = KernelTestData.of("z", DType.F32, 2f, -0f, 1f, -1f, 4f);
        List<DeltaSource> parts = List.of(new DeltaSource(base, model));
        for (long k = -1; k <= 6; k++) assertSelectionsMatch(parts, k, "signed zeros, k " + k);
        assertEquals(MagnitudeThreshold.KEEP_NONE, backend.selectLargest(parts, 0));
        assertEquals(MagnitudeThreshold.KEEP_ALL, backend.selectLargest(parts, 5));
        assertEquals(new MagnitudeThreshold(0, 1), backend.selectLargest(parts, 4));
    }

    @Test
    void selectLargestRanksNaNAboveInfinity() {
        Tensor base = KernelTestData.of("nan", DType.F32, 0f, 0f, 0f, 0f);
        Tensor model = KernelTestData.of("nan", DType.F32, Float.NaN, Float.NEGATIVE_INFINITY, 5f, Float.POSITIVE_INFINITY);
        List<DeltaSource> parts = List.of(new DeltaSource(base, model));
        for (long k = 0; k <= 4; k++) assertSelectionsMatch(parts, k, "NaN/Inf, k " + k);
    }

    private void assertSelectionsMatch(List<DeltaSource> parts, long k, String context) {
        assertEquals(reference.selectLargest(parts, k), backend.selectLargest(parts, k), context + ", k " + k);
    }

    private static long[] interestingCounts(long n, SplittableRandom rnd) {
        return new long[] {0, 1, n / 2, (long) (0.29 * n), n - 1, n, n + 7, 1 + rnd.nextLong(n)};
    }

    // ---------------------------------------------------------------- gta

    /** A sparsifier described before the data exists; resolved against the model's delta. */
    sealed interface Spec {
        record None() implements Spec {
        }

        /** Trim to (int)(fraction·n); {@code budgetShare} &lt; 1 shrinks the tie budget. */
        record Trim(double fraction, double budgetShare) implements Spec {
        }

        record Band(double density, double gamma) implements Spec {
        }

        record Dare(double density) implements Spec {
        }
    }

    /** Everything that defines one gta case. */
    static final class Case {
        long seed;
        long n;
        Style style = Style.WIDE;
        DType baseType = DType.F32;
        DType[] modelTypes;
        DType outType = DType.F32;
        float[] weights;
        int[] modelIndices;
        Spec[] specs;
        RescaleMode rescale = RescaleMode.NONE;
        ConsensusMethod consensus = ConsensusMethod.SUM;
        boolean normalize = true;
        float lambda = 1f;
        boolean allowNonfinite;
        /** −1: none; 0: base; 1 + m: model m gets {@link #poison} at a random element. */
        int poisoned = -1;
        float poison = Float.NaN;
        String tensorName = "model.layers.0.mlp.down_proj.weight";
        /**
         * If &gt; 0: an F32 zero base and F32 models whose δ has L1 norm exactly this (in double, up to
         * rounding of the float elements), to probe the l1 cut-off of §1.9 from both sides.
         */
        double l1Norm;

        Case(long seed, long n, int models) {
            this.seed = seed;
            this.n = n;
            modelTypes = new DType[models];
            Arrays.fill(modelTypes, DType.F32);
            weights = new float[models];
            Arrays.fill(weights, 1f);
            modelIndices = new int[models];
            for (int m = 0; m < models; m++) modelIndices[m] = m + 1;
            specs = new Spec[models];
            Arrays.fill(specs, new Spec.None());
        }

        Case all(Spec spec) {
            Arrays.fill(specs, spec);
            return this;
        }

        @Override
        public String toString() {
            return "seed " + seed + ", n " + n + ", " + style + ", base " + baseType + ", models " + Arrays.toString(modelTypes)
                    + ", out " + outType + ", w " + Arrays.toString(weights) + ", specs " + Arrays.toString(specs)
                    + ", " + rescale + ", " + consensus + ", normalize " + normalize + ", λ " + lambda
                    + ", allowNonfinite " + allowNonfinite + (poisoned >= 0 ? ", " + poison + " in input " + poisoned : "")
                    + (l1Norm > 0 ? ", ‖δ‖₁ " + l1Norm : "");
        }
    }

    /** Builds the inputs of {@code c}, runs reference and backend, and compares everything. */
    private GtaResult assertGtaMatches(Case c) {
        System.out.println("gta case: " + c);
        SplittableRandom rnd = new SplittableRandom(c.seed);
        int t = c.modelTypes.length;
        Tensor base = c.l1Norm > 0 ? KernelTestData.allocate(c.tensorName, DType.F32, c.n)
                : KernelTestData.randomBase(c.tensorName, c.baseType, c.n, c.style, rnd);
        List<Tensor> models = new ArrayList<>();
        for (int m = 0; m < t; m++) {
            models.add(c.l1Norm > 0 ? tinyDeltas(c.tensorName, c.n, c.l1Norm, rnd)
                    : KernelTestData.randomModel(c.tensorName, c.modelTypes[m], base, c.style, rnd));
        }
        if (c.poisoned >= 0) {
            Tensor target = c.poisoned == 0 ? base : models.get(c.poisoned - 1);
            target.setFloat(rnd.nextLong(c.n), c.poison);
        }
        Sparsifier[] sparsifiers = new Sparsifier[t];
        for (int m = 0; m < t; m++) sparsifiers[m] = resolve(c.specs[m], base, models.get(m), rnd);

        Tensor expectedOut = KernelTestData.allocate(c.tensorName, c.outType, c.n);
        Tensor actualOut = KernelTestData.allocate(c.tensorName, c.outType, c.n);
        GtaResult expected = reference.gta(pass(c, base, models, sparsifiers, expectedOut));
        GtaResult actual = backend.gta(pass(c, base, models, sparsifiers, actualOut));

        String context = c.toString();
        assertEquals(expected.nonFiniteInput(), actual.nonFiniteInput(), context + ": nonFiniteInput");
        assertArrayEquals(expected.kept(), actual.kept(), context + ": kept");
        assertArrayEquals(expected.keepTies(), actual.keepTies(), context + ": keepTies");
        assertEquals(expected.nonFiniteOutputs(), actual.nonFiniteOutputs(), context + ": nonFiniteOutputs");
        ReductionTolerance tolerance = reductionTolerance();
        if (c.rescale == RescaleMode.L1 && !tolerance.exact()) {
            long differing = expected.nonFiniteInput() < 0 ? assertWithin(expectedOut, actualOut, base, tolerance, context) : 0;
            assertTrue(Math.abs(expected.signConflicts() - actual.signConflicts()) <= differing,
                    context + ": signConflicts " + actual.signConflicts() + " vs " + expected.signConflicts()
                            + " with only " + differing + " differing elements");
        } else {
            assertEquals(expected.signConflicts(), actual.signConflicts(), context + ": signConflicts");
            if (expected.nonFiniteInput() < 0) assertSameBits(expectedOut, actualOut, context);
        }
        return expected;
    }

    /** F32 values with random signs and magnitudes whose L1 norm is {@code l1} (up to float rounding). */
    private static Tensor tinyDeltas(String name, long n, double l1, SplittableRandom rnd) {
        double[] raw = new double[(int) n];
        double sum = 0;
        for (int i = 0; i < n; i++) sum += raw[i] = rnd.nextDouble(0.1, 1);
        Tensor t = KernelTestData.allocate(name, DType.F32, n);
        for (int i = 0; i < n; i++) t.setFloat(i, (float) ((rnd.nextBoolean() ? 1 : -1) * raw[i] * l1 / sum));
        return t;
    }

    /** Checks every element against {@code tolerance}; returns how many differ in their bits. */
    private static long assertWithin(Tensor expected, Tensor actual, Tensor base, ReductionTolerance tolerance,
                                     String context) {
        long differing = 0;
        for (long i = 0; i < expected.elementCount(); i++) {
            if (KernelTestData.storageBits(expected, i) == KernelTestData.storageBits(actual, i)) continue;
            float e = expected.getFloat(i), a = actual.getFloat(i);
            if (Float.isNaN(e) && Float.isNaN(a)) continue;
            differing++;
            boolean infinite = Float.isInfinite(e) || Float.isInfinite(a);  // ulp(∞) = ∞ would pass anything
            double allowed = infinite ? -1 : Math.max(tolerance.relative() * Math.max(Math.abs(e), Math.abs(base.getFloat(i))),
                    tolerance.outputUlps() * ulp(expected.dtype(), e));
            if (!(Math.abs((double) e - a) <= allowed)) {
                throw new AssertionError(context + ": element " + i + " of " + expected.elementCount() + ": expected " + e
                        + ", got " + a + ", beyond the declared tolerance " + tolerance + " (allowed " + allowed + ")");
            }
        }
        return differing;
    }

    /** One unit in the last place of {@code x} stored as {@code dtype}. */
    private static double ulp(DType dtype, float x) {
        return switch (dtype) {
            case BF16 -> Math.ulp(x) * 65536.0;
            case F16 -> Math.max(Math.ulp(x) * 8192.0, 0x1p-24);
            default -> Math.ulp(x);
        };
    }

    private static GtaPass pass(Case c, Tensor base, List<Tensor> models, Sparsifier[] sparsifiers, Tensor out) {
        return new GtaPass(c.tensorName, base, models, c.modelIndices.clone(), c.weights.clone(), sparsifiers.clone(),
                c.rescale, c.seed * 7919, c.consensus, c.normalize, c.lambda, out, c.allowNonfinite);
    }

    private Sparsifier resolve(Spec spec, Tensor base, Tensor model, SplittableRandom rnd) {
        long n = base.elementCount();
        List<DeltaSource> parts = List.of(new DeltaSource(base, model));
        return switch (spec) {
            case Spec.None none -> Sparsifier.NONE;
            case Spec.Dare dare -> new Sparsifier.Bernoulli(dare.density());
            case Spec.Trim trim -> {
                MagnitudeThreshold keep = reference.selectLargest(parts, (long) (trim.fraction() * n));
                if (trim.budgetShare() < 1 && !keep.keepsAll()) {
                    keep = keep.withTiesToKeep((long) (keep.tiesToKeep() * trim.budgetShare()));
                }
                yield Sparsifier.MagnitudeBand.trim(keep);
            }
            case Spec.Band band -> {
                long target = (long) (band.density() * n);
                long top = (long) (band.gamma() * n);
                if (n - target - top < 0) top = n - target;
                MagnitudeThreshold keep = reference.selectLargest(parts, top + target);
                MagnitudeThreshold exclude = top == 0 ? null : reference.selectLargest(parts, top);
                yield new Sparsifier.MagnitudeBand(exclude, keep);
            }
        };
    }

    /** A random case: any size, dtypes, sparsifiers, rescale, consensus, weights. */
    private static Case randomCase(long seed, long[] sizes) {
        SplittableRandom rnd = seeded("gta", seed);
        int t = 1 + rnd.nextInt(5);
        Case c = new Case(seed, sizes[rnd.nextInt(sizes.length)], t);
        c.style = rnd.nextBoolean() ? Style.GRID : Style.WIDE;
        c.baseType = DTYPES[rnd.nextInt(3)];
        c.outType = DTYPES[rnd.nextInt(3)];
        boolean anyBand = false;
        for (int m = 0; m < t; m++) {
            c.modelTypes[m] = DTYPES[rnd.nextInt(3)];
            c.weights[m] = switch (rnd.nextInt(6)) {
                case 0 -> 0f;
                case 1 -> -(float) rnd.nextDouble(0.1, 2);
                default -> (float) rnd.nextDouble(0.1, 2);
            };
            c.modelIndices[m] = m + rnd.nextInt(2);
            c.specs[m] = switch (rnd.nextInt(4)) {
                case 0 -> new Spec.None();
                case 1 -> new Spec.Trim(pick(rnd, 0, 0.01, 0.2, 0.5, 0.97, 1), pick(rnd, 1, 1, 0.5, 0));
                case 2 -> new Spec.Band(pick(rnd, 0, 0.2, 0.5, 0.9, 1), pick(rnd, 0, 0.01, 0.1));
                default -> new Spec.Dare(pick(rnd, 0, 0.1, 0.5, 0.9, 0.999, 1));
            };
            anyBand |= c.specs[m] instanceof Spec.Trim || c.specs[m] instanceof Spec.Band;
        }
        RescaleMode[] modes = anyBand ? new RescaleMode[] {RescaleMode.NONE, RescaleMode.L1} : RescaleMode.values();
        c.rescale = modes[rnd.nextInt(modes.length)];
        c.consensus = ConsensusMethod.values()[rnd.nextInt(3)];
        c.normalize = rnd.nextBoolean();
        c.lambda = rnd.nextInt(4) == 0 ? 0f : (float) rnd.nextDouble(0.2, 2);
        return c;
    }

    private static double pick(SplittableRandom rnd, double... options) {
        return options[rnd.nextInt(options.length)];
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118,
            119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 140})
    void gtaMatchesReferenceOnRandomCases(long seed) {
        assertGtaMatches(randomCase(seed, SIZES));
    }

    @Test
    void gtaMatchesReferenceForEverySparsifierRescaleConsensusAndNormalize() {
        Spec[][] sparsifierSets = {
                {new Spec.None(), new Spec.None(), new Spec.None()},
                {new Spec.Trim(0.2, 1), new Spec.Trim(0.5, 0.5), new Spec.Trim(0.01, 0)},
                {new Spec.Band(0.5, 0.01), new Spec.Band(0.2, 0.1), new Spec.Band(0.9, 0)},
                {new Spec.Dare(0.1), new Spec.Dare(0.5), new Spec.Dare(0.9)},
                {new Spec.Dare(0), new Spec.Dare(1), new Spec.Trim(0.3, 1)},
        };
        long seed = 201;
        for (Spec[] specs : sparsifierSets) {
            boolean dareOnly = Arrays.stream(specs).allMatch(s -> s instanceof Spec.Dare || s instanceof Spec.None);
            for (RescaleMode rescale : RescaleMode.values()) {
                if (rescale == RescaleMode.INVERSE_DENSITY && !dareOnly) continue;
                for (ConsensusMethod consensus : ConsensusMethod.values()) {
                    for (boolean normalize : new boolean[] {false, true}) {
                        Case c = new Case(seed++, 65537 + 2 * 4099, 3);
                        c.specs = specs.clone();
                        c.modelTypes = new DType[] {DType.BF16, DType.F16, DType.F32};
                        c.baseType = DType.BF16;
                        c.outType = DType.BF16;
                        c.weights = new float[] {0.7f, 1.3f, 0.4f};
                        c.rescale = rescale;
                        c.consensus = consensus;
                        c.normalize = normalize;
                        c.lambda = 0.9f;
                        assertGtaMatches(c);
                    }
                }
            }
        }
    }

    @Test
    void gtaMatchesReferenceOnEveryDtypeCombination() {
        long seed = 301;
        for (DType baseType : DTYPES) {
            for (DType modelType : DTYPES) {
                for (DType outType : DTYPES) {
                    Case c = new Case(seed++, 4099, 2);
                    c.baseType = baseType;
                    c.modelTypes = new DType[] {modelType, DTYPES[(int) (seed % 3)]};
                    c.outType = outType;
                    c.specs = new Spec[] {new Spec.Trim(0.3, 1), new Spec.Dare(0.6)};
                    c.rescale = RescaleMode.L1;
                    assertGtaMatches(c);
                }
            }
        }
    }

    @Test
    void gtaMatchesReferenceOnTinyTensors() {
        long seed = 401;
        Spec[] specs = {new Spec.None(), new Spec.Trim(0.5, 1), new Spec.Band(0.5, 0.5), new Spec.Dare(0.5)};
        for (long n : new long[] {1, 2, 3, 7, 8, 9, 15, 16, 17}) {
            for (Spec spec : specs) {
                for (Style style : Style.values()) {
                    Case c = new Case(seed++, n, 3).all(spec);
                    c.style = style;
                    c.outType = DType.F16;
                    assertGtaMatches(c);
                }
            }
        }
    }

    @Test
    void gtaMatchesReferenceAtExactMagnitudeTiesWithSignedZeros() {
        long seed = 501;
        // GRID data: thousands of equal magnitudes; fractions near 1 put the threshold at key 0,
        // where +0.0 and −0.0 deltas tie; budgets cut the ties in the middle of chunks.
        for (double fraction : new double[] {0.05, 0.5, 0.8, 0.9, 0.999}) {
            for (double share : new double[] {1, 0.5, 0.01, 0}) {
                Case c = new Case(seed++, 131101, 2).all(new Spec.Trim(fraction, share));
                c.style = Style.GRID;
                c.baseType = DType.BF16;
                c.modelTypes = new DType[] {DType.BF16, DType.F16};
                c.rescale = RescaleMode.L1;
                GtaResult r = assertGtaMatches(c);
                assertTrue(r.keepTies()[0] > 1, "GRID data must tie at the threshold: " + c);
            }
        }
    }

    @Test
    void gtaMatchesReferenceWithKZeroAndKAll() {
        long seed = 601;
        for (Spec spec : new Spec[] {new Spec.Trim(0, 1), new Spec.Trim(1, 1), new Spec.Band(0, 0.1), new Spec.Band(1, 0.01),
                new Spec.Band(0.995, 0.01)}) {
            Case c = new Case(seed++, 65537, 2).all(spec);
            c.rescale = RescaleMode.L1;
            assertGtaMatches(c);
        }
    }

    @Test
    void gtaMatchesReferenceWithNegativeZeroAndCancellingWeights() {
        long seed = 701;
        float[][] weightSets = {{-1f, 0.5f, 0f}, {0f, 0f, 0f}, {1f, -1f, 0f}, {1f, -1f + 1e-8f, 0f}, {1e-9f, -1e-9f, 5e-9f},
                {-2f, -0.5f, -1f}};
        for (float[] weights : weightSets) {
            for (ConsensusMethod consensus : ConsensusMethod.values()) {
                Case c = new Case(seed++, 1009, 3).all(new Spec.Trim(0.5, 1));
                c.weights = weights.clone();
                c.consensus = consensus;
                c.normalize = true;
                assertGtaMatches(c);
            }
        }
    }

    @Test
    void gtaMatchesReferenceOnAMillionElements() {
        long seed = 801;
        Case ties = new Case(seed, 1_000_003, 3).all(new Spec.Trim(0.2, 1));
        ties.baseType = DType.BF16;
        ties.modelTypes = new DType[] {DType.BF16, DType.BF16, DType.BF16};
        ties.outType = DType.BF16;
        assertGtaMatches(ties);

        Case dare = new Case(seed + 1, 1_000_003, 2).all(new Spec.Dare(0.3));
        dare.modelTypes = new DType[] {DType.F16, DType.F32};
        dare.rescale = RescaleMode.L1;
        dare.consensus = ConsensusMethod.NONE;
        dare.normalize = false;
        assertGtaMatches(dare);

        Case crumbs = new Case(seed + 2, 1_000_003, 2).all(new Spec.Band(0.9, 0.01));
        crumbs.style = Style.GRID;
        crumbs.outType = DType.F16;
        crumbs.rescale = RescaleMode.L1;
        assertGtaMatches(crumbs);
    }

    @Test
    void gtaReportsTheFirstNonFiniteInput() {
        long seed = 901;
        for (int poisoned = 0; poisoned <= 3; poisoned++) {
            for (float poison : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                Case c = new Case(seed++, 65537 + 31, 3).all(new Spec.Trim(0.5, 1));
                c.poisoned = poisoned;
                c.poison = poison;
                c.baseType = DType.F16;
                GtaResult r = assertGtaMatches(c);
                assertEquals(poisoned, r.nonFiniteInput(), c.toString());
            }
        }
    }

    @Test
    void gtaMatchesReferenceWhenNonFiniteIsAllowed() {
        long seed = 1001;
        for (int poisoned = 0; poisoned <= 2; poisoned++) {
            for (float poison : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                for (Spec spec : new Spec[] {new Spec.Trim(0.5, 1), new Spec.Dare(0.5), new Spec.None()}) {
                    Case c = new Case(seed++, 2049, 2).all(spec);
                    c.poisoned = poisoned;
                    c.poison = poison;
                    c.allowNonfinite = true;
                    c.rescale = spec instanceof Spec.Dare ? RescaleMode.INVERSE_DENSITY : RescaleMode.L1;
                    GtaResult r = assertGtaMatches(c);
                    assertEquals(-1, r.nonFiniteInput(), c.toString());
                    if (poisoned == 0) assertTrue(r.nonFiniteOutputs() > 0, "a non-finite base stays in the output: " + c);
                }
            }
        }
    }

    @Test
    void gtaCountsFloat16OutputOverflow() {
        Tensor base = KernelTestData.of("ovf", DType.F32, 60000f, 1f, -60000f, 2f, 65504f);
        Tensor model = KernelTestData.of("ovf", DType.F32, 70000f, 2f, -70000f, 3f, 65520f);
        for (DType out : DTYPES) {
            Tensor expectedOut = KernelTestData.allocate("ovf", out, 5);
            Tensor actualOut = KernelTestData.allocate("ovf", out, 5);
            GtaResult expected = reference.gta(simplePass(base, model, expectedOut));
            GtaResult actual = backend.gta(simplePass(base, model, actualOut));
            assertEquals(out == DType.F16 ? 3 : 0, expected.nonFiniteOutputs(), out.toString());
            assertEquals(expected.nonFiniteOutputs(), actual.nonFiniteOutputs(), out.toString());
            assertSameBits(expectedOut, actualOut, "overflow to " + out);
        }
    }

    private static GtaPass simplePass(Tensor base, Tensor model, Tensor out) {
        return new GtaPass(base.name(), base, List.of(model), new int[] {0}, new float[] {1f},
                new Sparsifier[] {Sparsifier.NONE}, RescaleMode.NONE, 0, ConsensusMethod.SUM, true, 1f, out, false);
    }

    @Test
    void gtaWithoutModelsWritesTheBase() {
        Case c = new Case(1101, 65539, 0);
        c.baseType = DType.BF16;
        c.outType = DType.F32;
        assertGtaMatches(c);
    }

    @Test
    void gtaRejectsInverseDensityWithoutDare() {
        Tensor base = KernelTestData.of("bad", DType.F32, 1f, 2f, 3f);
        Tensor model = KernelTestData.of("bad", DType.F32, 2f, 2f, 5f);
        Tensor out = KernelTestData.allocate("bad", DType.F32, 3);
        GtaPass pass = new GtaPass("bad", base, List.of(model), new int[] {0}, new float[] {1f},
                new Sparsifier[] {Sparsifier.MagnitudeBand.trim(new MagnitudeThreshold(0, 1))}, RescaleMode.INVERSE_DENSITY,
                0, ConsensusMethod.SUM, true, 1f, out, false);
        assertThrows(IllegalArgumentException.class, () -> reference.gta(pass));
        assertThrows(IllegalArgumentException.class, () -> backend.gta(pass));
    }

    // ---------------------------------------------------------------- exact boundaries

    @Test
    void gtaMatchesTheOracleAroundTheL1CutOff() {
        // §1.9: no l1 rescale if A = Σ|δ| < 1e-7 or B = Σ|δ̂| < 1e-7. Norms of 5e-8 (both below),
        // just below and above 1e-7, 2e-7 (B below for a trim to 20%), 1e-6 (both above).
        long seed = 1401;
        for (double l1 : new double[] {5e-8, 0.999e-7, 1.001e-7, 2e-7, 1e-6}) {
            for (Spec spec : new Spec[] {new Spec.Trim(0.2, 1), new Spec.Trim(0.7, 1), new Spec.Band(0.5, 0.1), new Spec.Dare(0.4)}) {
                Case c = new Case(seed++, 31, 2).all(spec);
                c.l1Norm = l1;
                c.rescale = RescaleMode.L1;
                c.normalize = false;
                c.consensus = ConsensusMethod.NONE;
                assertGtaMatches(c);
            }
        }
    }

    // ---------------------------------------------------------------- linear

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1201, 1202, 1203, 1204, 1205, 1206, 1207, 1208, 1209, 1210})
    void linearMatchesReference(long seed) {
        SplittableRandom rnd = seeded("linear", seed);
        long n = seed == 1201 ? 1_000_003 : SIZES[rnd.nextInt(SIZES.length)];
        int t = 1 + rnd.nextInt(5);
        Style style = rnd.nextBoolean() ? Style.GRID : Style.WIDE;
        Tensor first = KernelTestData.randomBase("lin", DTYPES[rnd.nextInt(3)], n, style, rnd);
        List<Tensor> inputs = new ArrayList<>(List.of(first));
        for (int j = 1; j < t; j++) inputs.add(KernelTestData.randomModel("lin", DTYPES[rnd.nextInt(3)], first, style, rnd));
        float[] weights = new float[t];
        float sum = 0;
        for (int j = 0; j < t; j++) {
            weights[j] = rnd.nextInt(5) == 0 ? (rnd.nextBoolean() ? 0f : -0.5f) : (float) rnd.nextDouble(0.1, 2);
            sum += weights[j];
        }
        float divisor = rnd.nextBoolean() || sum == 0 ? 1f : sum;
        assertLinearMatches(inputs, weights, divisor, DTYPES[rnd.nextInt(3)], false, "seed " + seed + ", n " + n);
    }

    @Test
    void linearReportsOrAllowsNonFiniteInputs() {
        long seed = 1301;
        SplittableRandom rnd = seeded("linear non-finite", seed);
        for (int poisoned = 0; poisoned < 3; poisoned++) {
            for (boolean allow : new boolean[] {false, true}) {
                Tensor a = KernelTestData.randomBase("lnf", DType.BF16, 70001, Style.WIDE, rnd);
                List<Tensor> inputs = new ArrayList<>(List.of(a,
                        KernelTestData.randomModel("lnf", DType.F32, a, Style.WIDE, rnd),
                        KernelTestData.randomModel("lnf", DType.F16, a, Style.WIDE, rnd)));
                inputs.get(poisoned).setFloat(rnd.nextLong(70001), poisoned == 1 ? Float.NaN : Float.POSITIVE_INFINITY);
                LinearResult r = assertLinearMatches(inputs, new float[] {0.5f, 0.25f, 0.25f}, 1f, DType.F32, allow,
                        "seed " + seed + ", poisoned " + poisoned + ", allow " + allow);
                assertEquals(allow ? -1 : poisoned, r.nonFiniteInput());
            }
        }
    }

    private LinearResult assertLinearMatches(List<Tensor> inputs, float[] weights, float divisor, DType outType,
                                             boolean allowNonfinite, String context) {
        long n = inputs.getFirst().elementCount();
        Tensor expectedOut = KernelTestData.allocate("lin", outType, n);
        Tensor actualOut = KernelTestData.allocate("lin", outType, n);
        LinearResult expected = reference.linear(new LinearPass("lin", inputs, weights.clone(), divisor, expectedOut, allowNonfinite));
        LinearResult actual = backend.linear(new LinearPass("lin", inputs, weights.clone(), divisor, actualOut, allowNonfinite));
        String c = context + ", out " + outType + ", w " + Arrays.toString(weights) + ", divisor " + divisor;
        assertEquals(expected, actual, c);
        if (expected.nonFiniteInput() < 0) assertSameBits(expectedOut, actualOut, c);
        return expected;
    }

    private static SplittableRandom seeded(String what, long seed) {
        System.out.println(what + ": seed " + seed);
        return new SplittableRandom(seed);
    }
}

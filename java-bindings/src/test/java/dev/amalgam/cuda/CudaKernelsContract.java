package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.DTypeConversion;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend against {@link ReferenceKernels} on the cases of spec §15: awkward sizes
 * (1, 2, 31, 4097, 1000003 on the GPU), every storage and output dtype, mixed-size segments, exact ties at
 * the threshold (±0 included), k = 0 and k = n, every sparsifier, rescale, consensus and divisor
 * rule, non-finite inputs and outputs, and chunked execution. Bit-exact everywhere except after
 * an l1 rescale (§1.10: relative 1e-6, or one unit of the output dtype).
 *
 * <p>Subclasses supply the backend twice: as is, and with a device budget small enough that
 * every tensor above a few tiles is chunked. Self-contained (core's KernelBackendContract did not
 * exist yet when this was written).
 */
abstract class CudaKernelsContract {

    static final long SEED = 0x5EED_2024L;
    static final DType[] MERGEABLE = {DType.F32, DType.F16, DType.BF16};

    /** The large awkward size (a prime-ish count above a million on the GPU). */
    long largeSize() {
        return 1_000_003;
    }

    /** The backend under test; closed after each test. */
    abstract KernelBackend openBackend();

    /** The same backend limited to chunks of at most {@code maxChunkBytes} device bytes. */
    abstract KernelBackend openChunkedBackend(long maxChunkBytes);

    final ReferenceKernels reference = new ReferenceKernels();
    Arena arena;
    KernelBackend backend;
    KernelBackend chunked;
    Random random;

    @BeforeEach
    void open() {
        arena = Arena.ofShared();
        random = new Random(SEED);
        System.out.println(getClass().getSimpleName() + " seed " + SEED);
        backend = openBackend();
        chunked = openChunkedBackend(256 * 1024);
    }

    @AfterEach
    void close() {
        if (backend != null) backend.close();
        if (chunked != null) chunked.close();
        arena.close();
    }

    // ---- fixtures ----

    Tensor tensor(String name, DType dtype, long n) {
        return new Tensor(new TensorInfo(name, dtype, new long[] {n}), arena.allocate(Math.max(1, n * dtype.byteSize()), 8)
                .asSlice(0, n * dtype.byteSize()));
    }

    Tensor base(String name, DType dtype, long n) {
        Tensor t = tensor(name, dtype, n);
        for (long i = 0; i < n; i++) t.setFloat(i, (float) (random.nextGaussian() * 0.05));
        return t;
    }

    /**
     * base + δ. With {@code ties}, δ is a multiple of 1/64 in [−4/64, 4/64] (so most |δ| tie,
     * and δ = ±0 occurs); otherwise Gaussian.
     */
    Tensor model(Tensor base, DType dtype, boolean ties) {
        Tensor t = tensor(base.name(), dtype, base.elementCount());
        for (long i = 0; i < base.elementCount(); i++) {
            double d = ties ? (random.nextInt(9) - 4) / 64.0 : random.nextGaussian() * 0.01;
            t.setFloat(i, (float) (base.getFloat(i) + d));
        }
        return t;
    }

    static void assertSameBits(Tensor expected, Tensor actual, String what) {
        long n = expected.elementCount();
        for (long i = 0; i < n; i++) {
            float e = expected.getFloat(i), a = actual.getFloat(i);
            if (Float.floatToRawIntBits(e) != Float.floatToRawIntBits(a) && !(e == a) && !(Float.isNaN(e) && Float.isNaN(a))) {
                fail(what + ": element " + i + " of " + n + ": expected " + e + " but was " + a);
            }
        }
    }

    /** §1.10 tolerance downstream of a reduction: relative 1e-6, or one unit of the output dtype. */
    static void assertClose(Tensor expected, Tensor actual, String what) {
        long n = expected.elementCount();
        for (long i = 0; i < n; i++) {
            float e = expected.getFloat(i), a = actual.getFloat(i);
            if (e == a) continue;
            double unit = switch (expected.dtype()) {
                case BF16 -> Math.ulp(e) * 65536.0;
                case F16 -> Math.ulp(e) * 8192.0;
                default -> 0;
            };
            if (Math.abs(e - a) > Math.max(1e-6 * Math.abs(e), unit)) {
                fail(what + ": element " + i + " of " + n + ": expected " + e + " but was " + a);
            }
        }
    }

    // ---- magnitude selection ----

    @Test
    void selectionMatchesReferenceForAwkwardSizesAllDtypesAndK() {
        for (long n : new long[] {1, 2, 31, 4097, largeSize()}) {
            for (DType bd : MERGEABLE) {
                for (DType md : MERGEABLE) {
                    if (n == largeSize() && bd != md) continue;  // the large size once per dtype
                    for (boolean ties : new boolean[] {false, true}) {
                        Tensor b = base("t", bd, n);
                        List<DeltaSource> parts = List.of(new DeltaSource(b, model(b, md, ties)));
                        for (long k : new long[] {0, 1, n / 3, n / 2, n - 1, n, n + 5, -1}) {
                            String what = "n=" + n + " " + bd + "/" + md + " ties=" + ties + " k=" + k;
                            assertEquals(reference.selectLargest(parts, k), backend.selectLargest(parts, k), what);
                            assertEquals(reference.selectLargest(parts, k), chunked.selectLargest(parts, k), "chunked " + what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void selectionOverMixedSizeSegments() {
        List<DeltaSource> parts = new ArrayList<>();
        long total = 0;
        long[] sizes = {1, 31, 4097, 2, 70_001, 1000};
        for (int s = 0; s < sizes.length; s++) {
            DType d = MERGEABLE[s % 3];
            Tensor b = base("part" + s, d, sizes[s]);
            parts.add(new DeltaSource(b, model(b, MERGEABLE[(s + 1) % 3], s % 2 == 0)));
            total += sizes[s];
        }
        for (long k : new long[] {0, 1, 17, total / 10, total / 2, total - 1, total}) {
            MagnitudeThreshold expected = reference.selectLargest(parts, k);
            assertEquals(expected, backend.selectLargest(parts, k), "k=" + k);
            assertEquals(expected, chunked.selectLargest(parts, k), "chunked k=" + k);
        }
    }

    @Test
    void selectionWithExactTiesIncludingSignedZeros() {
        Tensor b = tensor("zeros", DType.F32, 10);
        Tensor m = tensor("zeros", DType.F32, 10);
        float[] deltas = {0f, -0f, 1f, -1f, 1f, 0f, -1f, 2f, -0f, 1f};
        for (int i = 0; i < 10; i++) {
            b.setFloat(i, 3f);
            m.setFloat(i, 3f + deltas[i]);
        }
        List<DeltaSource> parts = List.of(new DeltaSource(b, m));
        for (long k = 0; k <= 10; k++) assertEquals(reference.selectLargest(parts, k), backend.selectLargest(parts, k), "k=" + k);
        // hand-computed: |δ| = 2 once, 1 five times; k = 3 → key(1.0), 2 of the 5 ties kept
        assertEquals(new MagnitudeThreshold(Float.floatToRawIntBits(1f), 2), backend.selectLargest(parts, 3));
    }

    /**
     * Issue 16's crash: under allow_nonfinite with more NaN deltas than k, the k-th largest key is
     * the NaN key and the tie budget cuts among the NaNs. The GPU's arithmetic gives every NaN the
     * canonical NaN (key 0x7FFFFFFF) where Java keeps 0x7FC00000, so the device counted ties the
     * host rescan could not find ("should hold N ties but the host found 0"); both now use one NaN
     * key. Selection and the merge must equal the reference, for several NaN origins (model NaN,
     * base NaN, Inf − Inf) and across chunks.
     */
    @Test
    void nanThresholdTiesMatchTheReference() {
        long n = 3 * 4096 + 17;
        Tensor b = base("w", DType.F32, n);
        Tensor m = model(b, DType.F32, false);
        int nans = 0;
        for (long i = 5; i < n; i += 997, nans++) {
            if (nans % 3 == 0) m.setFloat(i, Float.NaN);
            else if (nans % 3 == 1) b.setFloat(i, Float.NaN);
            else { b.setFloat(i, Float.POSITIVE_INFINITY); m.setFloat(i, Float.POSITIVE_INFINITY); }
        }
        List<DeltaSource> parts = List.of(new DeltaSource(b, m));
        for (long k : new long[] {1, nans / 2, nans, nans + 3}) {
            MagnitudeThreshold expected = reference.selectLargest(parts, k);
            assertEquals(expected, backend.selectLargest(parts, k), "k=" + k);
            assertEquals(expected, chunked.selectLargest(parts, k), "chunked k=" + k);
            Sparsifier[] trim = {Sparsifier.MagnitudeBand.trim(expected)};
            Case c = new Case("ties on a NaN threshold", trim, RescaleMode.NONE, ConsensusMethod.SUM, true, 1.0f, new float[] {0.8f});
            for (KernelBackend under : List.of(backend, chunked)) {
                Tensor want = tensor("w", DType.F32, n), got = tensor("w", DType.F32, n);
                GtaResult e = reference.gta(pass("w", b, List.of(m), c, want, true));
                GtaResult a = under.gta(pass("w", b, List.of(m), c, got, true));
                assertSameBits(want, got, "k=" + k);
                assertArrayEquals(e.kept(), a.kept(), "kept k=" + k);
                assertArrayEquals(e.keepTies(), a.keepTies(), "keepTies k=" + k);
                assertEquals(e.nonFiniteOutputs(), a.nonFiniteOutputs(), "nonFiniteOutputs k=" + k);
            }
        }
    }

    /**
     * Issue 16, the other half of the NaN finding: Java subtraction keeps a NaN operand's payload
     * (0x7FC00123 − x is 0x7FC00123), the GPU's returns its canonical NaN. Before the reference
     * key dropped payloads too, it ranked a payload NaN above Float.NaN while the device saw one
     * NaN key, so thresholds, tie counts and kept elements differed. NaNs with assorted payloads
     * (quiet and signalling, both signs, in base and model) must select and merge as the reference.
     */
    @Test
    void nanPayloadsSelectAndMergeAsTheReference() {
        long n = 2 * 4096 + 333;
        Tensor b = base("w", DType.F32, n);
        Tensor m = model(b, DType.F32, false);
        int[] payloads = {0x7FC00123, 0x7FFFFFFF, 0xFFC00001, 0x7FA00000, 0x7FC00000, 0xFF800001};
        int nans = 0;
        for (long i = 3; i < n; i += 211, nans++) {
            float nan = Float.intBitsToFloat(payloads[nans % payloads.length]);
            if (nans % 2 == 0) m.setFloat(i, nan);
            else b.setFloat(i, nan);
        }
        List<DeltaSource> parts = List.of(new DeltaSource(b, m));
        for (long k : new long[] {1, 2, nans / 3, nans - 1, nans, nans + 7}) {
            MagnitudeThreshold expected = reference.selectLargest(parts, k);
            assertEquals(expected, backend.selectLargest(parts, k), "k=" + k);
            assertEquals(expected, chunked.selectLargest(parts, k), "chunked k=" + k);
            Sparsifier[] trim = {Sparsifier.MagnitudeBand.trim(expected)};
            Case c = new Case("NaN payloads", trim, RescaleMode.NONE, ConsensusMethod.SUM, true, 1.0f, new float[] {0.7f});
            for (KernelBackend under : List.of(backend, chunked)) {
                Tensor want = tensor("w", DType.F32, n), got = tensor("w", DType.F32, n);
                GtaResult e = reference.gta(pass("w", b, List.of(m), c, want, true));
                GtaResult a = under.gta(pass("w", b, List.of(m), c, got, true));
                assertSameBits(want, got, "k=" + k);
                assertArrayEquals(e.kept(), a.kept(), "kept k=" + k);
                assertArrayEquals(e.keepTies(), a.keepTies(), "keepTies k=" + k);
                assertEquals(e.nonFiniteOutputs(), a.nonFiniteOutputs(), "nonFiniteOutputs k=" + k);
            }
        }
    }

    /**
     * Issue 16: consensus keeps every model's contribution in shared memory; past ~96 models the
     * block used to shrink to 32 threads and past ~383 the pass failed. It now opts in to the
     * device's larger dynamic shared memory (as the SVD kernel does) and matches the reference.
     */
    @Test
    void consensusOverHundredsOfModels() {
        long n = 700;
        int t = 400;
        Tensor b = base("w", DType.BF16, n);
        List<Tensor> models = new ArrayList<>();
        for (int m = 0; m < t; m++) models.add(model(b, m % 2 == 0 ? DType.BF16 : DType.F32, m % 3 == 0));
        Sparsifier[] none = new Sparsifier[t];
        float[] w = new float[t];
        for (int m = 0; m < t; m++) {
            none[m] = Sparsifier.NONE;
            w[m] = (m % 5 - 2) * 0.25f + 0.1f;
        }
        for (ConsensusMethod consensus : new ConsensusMethod[] {ConsensusMethod.SUM, ConsensusMethod.COUNT}) {
            Case c = new Case("ties over " + t + " models", none, RescaleMode.NONE, consensus, true, 1.0f, w);
            checkGta(b, models, DType.BF16, c, backend, c.label() + " " + consensus);
        }
    }

    // ---- the fused GTA pass ----

    record Case(String label, Sparsifier[] sparsifiers, RescaleMode rescale, ConsensusMethod consensus, boolean normalize,
                float lambda, float[] weights) {
    }

    List<Case> cases(Tensor b, List<Tensor> models) {
        int t = models.size();
        long n = b.elementCount();
        Sparsifier[] none = new Sparsifier[t], trim = new Sparsifier[t], band = new Sparsifier[t], dare = new Sparsifier[t];
        for (int m = 0; m < t; m++) {
            DeltaSource d = new DeltaSource(b, models.get(m));
            none[m] = Sparsifier.NONE;
            long k = (long) ((0.2 + 0.3 * m) * n);
            trim[m] = Sparsifier.MagnitudeBand.trim(reference.selectLargest(List.of(d), k));
            long target = (long) (0.5 * n), top = (long) (0.05 * n);
            band[m] = new Sparsifier.MagnitudeBand(top == 0 ? null : reference.selectLargest(List.of(d), top),
                    reference.selectLargest(List.of(d), top + target));
            dare[m] = new Sparsifier.Bernoulli(new double[] {0.3, 1.0, 0.0, 0.66}[m % 4]);
        }
        float[] w = new float[t], mixed = new float[t];
        for (int m = 0; m < t; m++) {
            w[m] = 0.5f + m * 0.25f;
            mixed[m] = new float[] {1.0f, -0.5f, 0f, 0.75f}[m % 4];
        }
        Sparsifier[] mix = new Sparsifier[t];
        for (int m = 0; m < t; m++) mix[m] = new Sparsifier[] {trim[m], dare[m], none[m], band[m]}[m % 4];
        return List.of(
                new Case("task_arithmetic", none, RescaleMode.NONE, ConsensusMethod.NONE, false, 1.0f, w),
                new Case("task_arithmetic normalize λ", none, RescaleMode.NONE, ConsensusMethod.NONE, true, 0.7f, w),
                new Case("ties", trim, RescaleMode.NONE, ConsensusMethod.SUM, true, 1.0f, w),
                new Case("ties count, mixed-sign weights", trim, RescaleMode.NONE, ConsensusMethod.COUNT, true, 1.3f, mixed),
                new Case("ties no normalize", trim, RescaleMode.NONE, ConsensusMethod.SUM, false, 1.0f, mixed),
                new Case("breadcrumbs_ties", band, RescaleMode.NONE, ConsensusMethod.SUM, false, 1.0f, w),
                new Case("dare_linear inverse_density", dare, RescaleMode.INVERSE_DENSITY, ConsensusMethod.NONE, false, 1.0f, w),
                new Case("dare_ties inverse_density", dare, RescaleMode.INVERSE_DENSITY, ConsensusMethod.SUM, true, 1.0f, mixed),
                new Case("mixed sparsifiers", mix, RescaleMode.NONE, ConsensusMethod.SUM, true, 1.0f, w),
                new Case("zero weights normalize", none, RescaleMode.NONE, ConsensusMethod.NONE, true, 1.0f, new float[t]),
                new Case("l1 ties", trim, RescaleMode.L1, ConsensusMethod.SUM, true, 1.0f, w),
                new Case("l1 dare", dare, RescaleMode.L1, ConsensusMethod.NONE, false, 1.0f, w),
                new Case("l1 breadcrumbs", band, RescaleMode.L1, ConsensusMethod.NONE, true, 1.0f, mixed));
    }

    GtaPass pass(String name, Tensor b, List<Tensor> models, Case c, Tensor out, boolean allowNonfinite) {
        int[] indices = new int[models.size()];
        for (int m = 0; m < indices.length; m++) indices[m] = m + 1;
        return new GtaPass(name, b, models, indices, c.weights(), c.sparsifiers(), c.rescale(), 42L, c.consensus(),
                c.normalize(), c.lambda(), out, allowNonfinite);
    }

    void checkGta(Tensor b, List<Tensor> models, DType outType, Case c, KernelBackend under, String what) {
        Tensor expectedOut = tensor(b.name(), outType, b.elementCount());
        Tensor actualOut = tensor(b.name(), outType, b.elementCount());
        GtaResult expected = reference.gta(pass(b.name(), b, models, c, expectedOut, false));
        GtaResult actual = under.gta(pass(b.name(), b, models, c, actualOut, false));
        String label = what + " [" + c.label() + "]";
        boolean l1 = c.rescale() == RescaleMode.L1;
        if (l1) assertClose(expectedOut, actualOut, label); else assertSameBits(expectedOut, actualOut, label);
        assertArrayEquals(expected.kept(), actual.kept(), label + " kept");
        assertArrayEquals(expected.keepTies(), actual.keepTies(), label + " keepTies");
        if (!l1) assertEquals(expected.signConflicts(), actual.signConflicts(), label + " signConflicts");
        assertEquals(expected.nonFiniteInput(), actual.nonFiniteInput(), label + " nonFiniteInput");
        assertEquals(expected.nonFiniteOutputs(), actual.nonFiniteOutputs(), label + " nonFiniteOutputs");
    }

    @Test
    void gtaMatchesReferenceForEveryMethodDtypeAndAwkwardSize() {
        for (long n : new long[] {1, 2, 31, 4097, 70_001}) {
            for (int d = 0; d < 3; d++) {
                DType bd = MERGEABLE[d];
                Tensor b = base("model.layers.0.mlp.down_proj.weight", bd, n);
                List<Tensor> models = List.of(model(b, MERGEABLE[(d + 1) % 3], true), model(b, bd, false),
                        model(b, MERGEABLE[(d + 2) % 3], true), model(b, DType.F32, false));
                DType out = MERGEABLE[(int) ((d + n) % 3)];
                for (Case c : cases(b, models)) {
                    checkGta(b, models, out, c, backend, "n=" + n + " base " + bd + " out " + out);
                    checkGta(b, models, out, c, chunked, "chunked n=" + n + " base " + bd + " out " + out);
                }
            }
        }
    }

    @Test
    void gtaOnALargeTensorChunkedAndNot() {
        Tensor b = base("lm_head.weight", DType.BF16, largeSize());
        List<Tensor> models = List.of(model(b, DType.BF16, true), model(b, DType.BF16, false), model(b, DType.F16, true));
        for (Case c : cases(b, models)) {
            if (c.label().startsWith("task_arithmetic normalize") || c.label().startsWith("zero")) continue;
            checkGta(b, models, DType.BF16, c, backend, "n=" + largeSize());
            checkGta(b, models, DType.BF16, c, chunked, "chunked n=" + largeSize());
        }
    }

    @Test
    void gtaWithoutModelsOrElements() {
        Tensor b = base("empty", DType.F32, 0);
        Case c = new Case("ties", new Sparsifier[0], RescaleMode.NONE, ConsensusMethod.SUM, true, 1f, new float[0]);
        checkGta(b, List.of(), DType.F32, c, backend, "n=0");
        Tensor b5 = base("none", DType.F16, 5);
        checkGta(b5, List.of(), DType.BF16, c, backend, "no models");
    }

    @Test
    void trimAtKZeroAndKAllAndTiesAtTheThreshold() {
        Tensor b = base("ties", DType.F32, 9000);
        Tensor m = model(b, DType.F32, true);
        DeltaSource d = new DeltaSource(b, m);
        for (long k : new long[] {0, 1, 1000, 4500, 8999, 9000}) {
            MagnitudeThreshold th = reference.selectLargest(List.of(d), k);
            Case c = new Case("trim k=" + k, new Sparsifier[] {Sparsifier.MagnitudeBand.trim(th)}, RescaleMode.NONE,
                    ConsensusMethod.SUM, true, 1f, new float[] {1f});
            checkGta(b, List.of(m), DType.F32, c, backend, "ties");
            checkGta(b, List.of(m), DType.F32, c, chunked, "chunked ties");
            Tensor out = tensor("ties", DType.F32, 9000);
            assertEquals(Math.min(k, 9000), backend.gta(pass("ties", b, List.of(m), c, out, false)).kept()[0], "exactly k kept");
        }
    }

    @Test
    void modelWideTieBudgetCarriesAcrossTensors() {
        // density_scope: model — one selection over two tensors, then each tensor gets what is left of the budget
        Tensor b1 = base("a.weight", DType.BF16, 5000), b2 = base("b.weight", DType.BF16, 7000);
        Tensor m1 = model(b1, DType.BF16, true), m2 = model(b2, DType.BF16, true);
        List<DeltaSource> parts = List.of(new DeltaSource(b1, m1), new DeltaSource(b2, m2));
        MagnitudeThreshold th = backend.selectLargest(parts, 6000);
        assertEquals(reference.selectLargest(parts, 6000), th);
        Tensor o1 = tensor("a.weight", DType.BF16, 5000), e1 = tensor("a.weight", DType.BF16, 5000);
        Case c1 = new Case("first", new Sparsifier[] {Sparsifier.MagnitudeBand.trim(th)}, RescaleMode.NONE,
                ConsensusMethod.SUM, true, 1f, new float[] {1f});
        GtaResult r1 = backend.gta(pass("a.weight", b1, List.of(m1), c1, o1, false));
        GtaResult x1 = reference.gta(pass("a.weight", b1, List.of(m1), c1, e1, false));
        assertSameBits(e1, o1, "first tensor");
        assertEquals(x1.keepTies()[0], r1.keepTies()[0]);
        MagnitudeThreshold rest = th.withTiesToKeep(Math.max(0, th.tiesToKeep() - r1.keepTies()[0]));
        Case c2 = new Case("second", new Sparsifier[] {Sparsifier.MagnitudeBand.trim(rest)}, RescaleMode.NONE,
                ConsensusMethod.SUM, true, 1f, new float[] {1f});
        checkGta(b2, List.of(m2), DType.BF16, c2, backend, "second tensor");
        checkGta(b2, List.of(m2), DType.BF16, c2, chunked, "chunked second tensor");
        Tensor o2 = tensor("b.weight", DType.BF16, 7000);
        long kept = r1.kept()[0] + backend.gta(pass("b.weight", b2, List.of(m2), c2, o2, false)).kept()[0];
        assertEquals(6000, kept, "exactly k kept over the model");
    }

    @Test
    void nonFiniteInputsAreReportedAndOverflowIsCounted() {
        Tensor b = base("nf", DType.F32, 3000);
        Tensor m1 = model(b, DType.F32, false), m2 = model(b, DType.F16, false);
        m2.setFloat(2999, Float.POSITIVE_INFINITY);
        Case c = cases(b, List.of(m1, m2)).get(2);
        checkGta(b, List.of(m1, m2), DType.F32, c, backend, "inf in model 2");
        b.setFloat(17, Float.NaN);
        checkGta(b, List.of(m1, m2), DType.F32, c, backend, "NaN in base");
        b.setFloat(17, 0f);
        m2.setFloat(2999, 0f);
        // f16 overflow of the output: 60000 + 2·(δ) beyond 65504
        for (int i = 0; i < 10; i++) {
            b.setFloat(i, 65000f);
            m1.setFloat(i, 65000f + 600f);
            m2.setFloat(i, 65024f);
        }
        Tensor e = tensor("nf", DType.F16, 3000), a = tensor("nf", DType.F16, 3000);
        Case ta = new Case("ta", new Sparsifier[] {Sparsifier.NONE, Sparsifier.NONE}, RescaleMode.NONE, ConsensusMethod.NONE,
                false, 1f, new float[] {1f, 1f});
        GtaResult x = reference.gta(pass("nf", b, List.of(m1, m2), ta, e, false));
        GtaResult r = backend.gta(pass("nf", b, List.of(m1, m2), ta, a, false));
        assertTrue(x.nonFiniteOutputs() > 0);
        assertEquals(x.nonFiniteOutputs(), r.nonFiniteOutputs());
        assertSameBits(e, a, "f16 overflow");
    }

    @Test
    void allowNonfiniteProceedsWithInfinities() {
        Tensor b = base("inf", DType.F32, 500);
        Tensor m = model(b, DType.F32, false);
        m.setFloat(3, Float.POSITIVE_INFINITY);
        m.setFloat(400, Float.NEGATIVE_INFINITY);
        Case c = new Case("ta", new Sparsifier[] {Sparsifier.NONE}, RescaleMode.NONE, ConsensusMethod.SUM, true, 1f,
                new float[] {1f});
        Tensor e = tensor("inf", DType.F32, 500), a = tensor("inf", DType.F32, 500);
        GtaResult x = reference.gta(pass("inf", b, List.of(m), c, e, true));
        GtaResult r = backend.gta(pass("inf", b, List.of(m), c, a, true));
        assertSameBits(e, a, "allow_nonfinite");
        assertEquals(x.nonFiniteOutputs(), r.nonFiniteOutputs());
        assertEquals(-1, r.nonFiniteInput());
    }

    // ---- linear ----

    @Test
    void linearMatchesReferenceForEveryDtype() {
        for (long n : new long[] {1, 2, 31, 70_001, largeSize()}) {
            for (DType out : MERGEABLE) {
                List<Tensor> inputs = List.of(base("lin", DType.BF16, n), base("lin", DType.F16, n), base("lin", DType.F32, n));
                float[] w = {0.3f, -1.25f, 2f};
                for (float divisor : new float[] {1f, 1.05f}) {
                    Tensor e = tensor("lin", out, n), a = tensor("lin", out, n), c = tensor("lin", out, n);
                    LinearResult x = reference.linear(new LinearPass("lin", inputs, w, divisor, e, false));
                    assertEquals(x, backend.linear(new LinearPass("lin", inputs, w, divisor, a, false)));
                    assertEquals(x, chunked.linear(new LinearPass("lin", inputs, w, divisor, c, false)));
                    assertSameBits(e, a, "linear n=" + n + " " + out);
                    assertSameBits(e, c, "chunked linear n=" + n + " " + out);
                }
            }
        }
    }

    @Test
    void linearReportsTheFirstNonFiniteInput() {
        List<Tensor> inputs = List.of(base("lin", DType.F32, 100), base("lin", DType.BF16, 100), base("lin", DType.F16, 100));
        inputs.get(2).setFloat(99, Float.NaN);
        inputs.get(1).setFloat(0, Float.NEGATIVE_INFINITY);
        Tensor out = tensor("lin", DType.F32, 100);
        LinearResult r = backend.linear(new LinearPass("lin", inputs, new float[] {1, 1, 1}, 3f, out, false));
        assertEquals(new LinearResult(1, 0), r);
    }

    @Test
    void roundingMatchesJavaNarrowing() {
        // values straddling bf16/f16 rounding ties: out = base + 0 stores base's float32 value rounded
        float[] tricky = {1.00390625f, 1.01171875f, -1.00390625f, 65519.99f, 65520f, 5.9604645e-8f, 2.9802322e-8f,
                1e-40f, -0f, 3.3895314e38f};
        Tensor b = tensor("round", DType.F32, tricky.length);
        for (int i = 0; i < tricky.length; i++) b.setFloat(i, tricky[i]);
        for (DType out : MERGEABLE) {
            Tensor e = tensor("round", out, tricky.length), a = tensor("round", out, tricky.length);
            Case c = new Case("copy", new Sparsifier[0], RescaleMode.NONE, ConsensusMethod.NONE, false, 1f, new float[0]);
            GtaResult x = reference.gta(pass("round", b, List.of(), c, e, true));
            GtaResult r = backend.gta(pass("round", b, List.of(), c, a, true));
            assertSameBits(e, a, "narrowing to " + out);
            assertEquals(x.nonFiniteOutputs(), r.nonFiniteOutputs());
            for (int i = 0; i < tricky.length; i++) {
                assertEquals(DTypeConversion.roundTo(out, tricky[i]), a.getFloat(i), 0f, "element " + i + " as " + out);
            }
        }
    }
}

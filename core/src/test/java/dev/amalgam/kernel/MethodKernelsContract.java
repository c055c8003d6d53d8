package dev.amalgam.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The kernels of the interpolation, geometric and RAM methods of a backend against the reference:
 * Gram matrices (dots, squared norms; {@link ReferenceReductions}) and per-vector combinations bit
 * for bit, and the element-wise nearswap and RAM kernels ({@link ReferenceElementwise}) bit for
 * bit, on awkward sizes (primes, 1, block edges ± 1, rows and columns crossing a block), every
 * storage dtype, with and without an origin, and fresh random data (never zeros). Subclass it per
 * backend.
 */
public abstract class MethodKernelsContract {

    protected abstract KernelBackend backend();

    private KernelBackend backend;

    @BeforeEach
    void openBackend() {
        backend = backend();
    }

    @AfterEach
    void closeBackend() {
        backend.close();
    }

    private static final DType[] DTYPES = {DType.F32, DType.BF16, DType.F16};

    static Tensor random(String name, DType dtype, long[] shape, SplittableRandom rnd, Tensor near) {
        TensorInfo info = new TensorInfo(name, dtype, shape);
        var data = Arena.ofAuto().allocate(Math.max(1, info.byteSize()), 8).asSlice(0, info.byteSize());
        Tensor t = new Tensor(info, data);
        for (long i = 0; i < t.elementCount(); i++) {
            float v = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(-6, 3)));
            if (near != null) v = near.getFloat(i) + v * 0.01f;
            if (rnd.nextInt(50) == 0) v = 0f;
            t.setFloat(i, v);
        }
        if (t.elementCount() > 0) t.setFloat(rnd.nextLong(t.elementCount()), 0.75f);
        return t;
    }

    private static Tensor output(String name, DType dtype, long[] shape) {
        TensorInfo info = new TensorInfo(name, dtype, shape);
        return new Tensor(info, Arena.ofAuto().allocate(Math.max(1, info.byteSize()), 8).asSlice(0, info.byteSize()));
    }

    private static List<VectorLayout> layouts(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return List.of(VectorLayout.whole(n), VectorLayout.rows(shape), VectorLayout.columns(shape));
    }

    private void assertGramMatches(List<Tensor> inputs, Tensor origin, VectorLayout layout, String context) {
        GramPass pass = new GramPass("t", inputs, origin, layout);
        GramResult expected = ReferenceReductions.gram(pass);
        GramResult actual = backend.gram(pass);
        assertEquals(expected.vectors(), actual.vectors(), context);
        assertEquals(expected.inputs(), actual.inputs(), context);
        for (int i = 0; i < expected.values().length; i++) {
            if (Double.doubleToLongBits(expected.values()[i]) != Double.doubleToLongBits(actual.values()[i])) {
                throw new AssertionError(context + ": dot " + i + " expected " + expected.values()[i] + " got "
                        + actual.values()[i] + " (" + layout + ")");
            }
        }
    }

    static final long[][] SHAPES = {
            {1}, {2}, {7}, {15}, {16}, {17}, {31}, {33}, {1000}, {65_535}, {65_536}, {65_537}, {131_072 + 13},
            {}, {3, 5}, {7, 13}, {16, 16}, {17, 33}, {5, 65_537}, {65_537, 3}, {70_001, 17}, {2, 3, 19}, {1, 29},
            {29, 1}, {64, 48}
    };

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void gramMatchesReferenceOnAwkwardShapes(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long[] shape : SHAPES) {
            int k = 1 + rnd.nextInt(4);
            DType od = DTYPES[rnd.nextInt(3)];
            Tensor origin = random("o", od, shape, rnd, null);
            List<Tensor> inputs = new ArrayList<>();
            for (int j = 0; j < k; j++) inputs.add(random("x" + j, DTYPES[rnd.nextInt(3)], shape, rnd, origin));
            for (VectorLayout layout : layouts(shape)) {
                String context = "shape " + java.util.Arrays.toString(shape) + " k=" + k;
                assertGramMatches(inputs, null, layout, context);
                assertGramMatches(inputs, origin, layout, context + " with origin");
            }
        }
    }

    @Test
    void gramOfAnEmptyTensorIsZero() {
        Tensor a = output("a", DType.F32, new long[] {0});
        GramResult g = backend.gram(new GramPass("t", List.of(a, a), null, VectorLayout.whole(0)));
        assertEquals(0.0, g.dot(0, 0, 1));
        assertEquals(0.0, g.squaredNorm(0, 1));
    }

    @Test
    void gramMatchesReferenceOnSixInputsAndFiveMillionElements() {
        SplittableRandom rnd = new SplittableRandom(17);
        long[] shape = {5_000_011};
        Tensor origin = random("o", DType.BF16, shape, rnd, null);
        List<Tensor> inputs = new ArrayList<>();
        for (int j = 0; j < 6; j++) inputs.add(random("x" + j, DType.BF16, shape, rnd, origin));
        assertGramMatches(inputs, origin, VectorLayout.whole(shape[0]), "5M");
    }

    @Test
    void gramPropagatesNonFiniteInputs() {
        Tensor a = KernelTestData.of("a", DType.F32, 1f, Float.NaN, 2f);
        Tensor b = KernelTestData.of("b", DType.F32, 1f, 1f, 1f);
        GramResult g = backend.gram(new GramPass("t", List.of(a, b), null, VectorLayout.whole(3)));
        assertEquals(Double.NaN, g.dot(0, 0, 1));
        assertEquals(3.0, g.dot(0, 1, 1));
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {4, 5, 6})
    void combineMatchesReferenceOnAwkwardShapes(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long[] shape : SHAPES) {
            int k = 1 + rnd.nextInt(4);
            List<Tensor> inputs = new ArrayList<>();
            for (int j = 0; j < k; j++) inputs.add(random("x" + j, DTYPES[rnd.nextInt(3)], shape, rnd, null));
            for (VectorLayout layout : layouts(shape)) {
                float[] c = new float[(int) layout.count() * k];
                for (int i = 0; i < c.length; i++) c[i] = (float) rnd.nextGaussian();
                DType outType = DTYPES[rnd.nextInt(3)];
                Tensor expected = output("e", outType, shape);
                Tensor actual = output("a", outType, shape);
                LinearResult re = ReferenceReductions.combine(new CombinePass("t", inputs, c, layout, expected, false));
                LinearResult ra = backend.combine(new CombinePass("t", inputs, c, layout, actual, false));
                String context = "shape " + java.util.Arrays.toString(shape) + " " + layout + " k=" + k;
                assertEquals(re, ra, context);
                KernelTestData.assertSameBits(expected, actual, context);
            }
        }
    }

    @Test
    void combineReportsTheFirstNonFiniteInputAndCountsOverflow() {
        Tensor a = KernelTestData.of("a", DType.F32, 1f, 2f, 3f, 4f);
        Tensor b = KernelTestData.of("b", DType.F32, 1f, Float.POSITIVE_INFINITY, 3f, 4f);
        long[] shape = {2, 2};
        Tensor a2 = reshape(a, shape), b2 = reshape(b, shape);
        VectorLayout rows = VectorLayout.rows(shape);
        Tensor out = output("o", DType.F16, shape);
        assertEquals(new LinearResult(1, 0), backend.combine(new CombinePass("t", List.of(a2, b2), new float[] {1, 1, 1, 1}, rows, out, false)));
        Tensor big = reshape(KernelTestData.of("c", DType.F32, 1f, 1f, 60000f, 60000f), shape);
        LinearResult r = backend.combine(new CombinePass("t", List.of(big, big), new float[] {1, 1, 1, 1}, rows, out, false));
        assertEquals(new LinearResult(-1, 2), r, "60000 + 60000 overflows float16 in row 1 only");
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {7, 8})
    void nearswapMatchesReference(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long[] shape : SHAPES) {
            Tensor a = random("a", DTYPES[rnd.nextInt(3)], shape, rnd, null);
            Tensor b = random("b", DTYPES[rnd.nextInt(3)], shape, rnd, rnd.nextBoolean() ? a : null);
            for (float t : new float[] {0f, -0.5f, 1e-3f, 0.05f, 2f}) {
                DType outType = DTYPES[rnd.nextInt(3)];
                Tensor expected = output("e", outType, shape), actual = output("a", outType, shape);
                assertEquals(ReferenceElementwise.nearswap(new NearswapPass("t", a, b, t, expected, false)),
                        backend.nearswap(new NearswapPass("t", a, b, t, actual, false)));
                KernelTestData.assertSameBits(expected, actual, "nearswap " + java.util.Arrays.toString(shape) + " t=" + t);
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {9, 10})
    void ramMatchesReference(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (long[] shape : SHAPES) {
            int t = 1 + rnd.nextInt(4);
            Tensor base = random("b", DTYPES[rnd.nextInt(3)], shape, rnd, null);
            List<Tensor> models = new ArrayList<>();
            for (int m = 0; m < t; m++) {
                Tensor x = random("x" + m, DTYPES[rnd.nextInt(3)], shape, rnd, base);
                // Leave about half of the elements unchanged so that contributions overlap and not.
                for (long i = 0; i < x.elementCount(); i++) if (rnd.nextBoolean()) x.setFloat(i, base.getFloat(i));
                models.add(x);
            }
            float[] scale = new float[t];
            for (int m = 0; m < t; m++) scale[m] = 1f + rnd.nextFloat() * 0.2f;
            float eps = rnd.nextBoolean() ? 1e-5f : 1e-3f;
            RamPass counts = new RamPass("t", base, models, eps, scale, null, true);
            RamPass.Overlap eo = ReferenceElementwise.ramOverlap(counts), ao = backend.ramOverlap(counts);
            String context = "ram " + java.util.Arrays.toString(shape) + " T=" + t;
            org.junit.jupiter.api.Assertions.assertArrayEquals(eo.shared(), ao.shared(), context);
            org.junit.jupiter.api.Assertions.assertArrayEquals(eo.unique(), ao.unique(), context);
            DType outType = DTYPES[rnd.nextInt(3)];
            Tensor expected = output("e", outType, shape), actual = output("a", outType, shape);
            assertEquals(ReferenceElementwise.ram(new RamPass("t", base, models, eps, scale, expected, false)),
                    backend.ram(new RamPass("t", base, models, eps, scale, actual, false)), context);
            KernelTestData.assertSameBits(expected, actual, context);
        }
    }

    @Test
    void elementwiseKernelsReportTheFirstNonFiniteInput() {
        Tensor a = KernelTestData.of("a", DType.F32, 1f, 2f, 3f);
        Tensor b = KernelTestData.of("b", DType.F32, 1f, Float.NaN, 3f);
        Tensor out = output("o", DType.F32, new long[] {3});
        assertEquals(1, backend.nearswap(new NearswapPass("t", a, b, 0.5f, out, false)).nonFiniteInput());
        assertEquals(2, backend.ram(new RamPass("t", a, List.of(a, b), 1e-5f, new float[] {1, 1}, out, false)).nonFiniteInput());
        assertEquals(0, backend.ram(new RamPass("t", b, List.of(a), 1e-5f, new float[] {1}, out, false)).nonFiniteInput());
    }

    static Tensor reshape(Tensor t, long[] shape) {
        return new Tensor(new TensorInfo(t.name(), t.dtype(), shape), t.data());
    }
}

package dev.amalgam.tensor;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * bf16/f16 conversions: exhaustive round trips over all 65536 patterns, every halfway case, the
 * overflow boundaries and f16 subnormals, all checked against an oracle that rounds in double
 * arithmetic (distances to the two neighbours), independent of the bit tricks under test.
 */
class DTypeConversionTest {

    private static final long SEED = 0x5EED_2026_0523L;
    private static final double TWO_128 = 0x1p128;

    // ---------------------------------------------------------------- oracles

    /** RNE to bfloat16 by comparing exact double distances to the two neighbouring bf16 values. */
    static short oracleBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = bits & 0x80000000;
        double a = Math.abs((double) f);
        int loPattern = (bits & 0x7FFFFFFF) >>> 16;                // truncated toward zero
        double lo = Float.intBitsToFloat(loPattern << 16);
        int hiPattern = loPattern + 1;
        double hi = hiPattern == 0x7F80 ? TWO_128 : Float.intBitsToFloat(hiPattern << 16);
        int chosen;
        if (a == lo) chosen = loPattern;
        else {
            double dLo = a - lo, dHi = hi - a; // exact: neighbours of a within one binade step
            chosen = dLo < dHi ? loPattern : dLo > dHi ? hiPattern : ((loPattern & 1) == 0 ? loPattern : hiPattern);
        }
        return (short) ((sign >>> 16) | chosen);
    }

    /** RNE to binary16 on the f16 grid in double: spacing 2^(e−10) for normals, 2^−24 below 2^−14. */
    static double oracleF16Value(float f) {
        double a = Math.abs((double) f);
        double spacing = a < 0x1p-14 ? 0x1p-24 : Math.scalb(1.0, Math.getExponent(a) - 10);
        double q = a / spacing;          // exact: spacing is a power of two
        double n = Math.floor(q);
        double frac = q - n;
        if (frac > 0.5 || (frac == 0.5 && n % 2 != 0)) n += 1;
        double v = n * spacing;
        if (v >= 65536.0) v = Double.POSITIVE_INFINITY; // first grid point past 65504
        return Math.copySign(v, f);
    }

    /** Decodes a binary16 pattern with scalb, independently of Float.float16ToFloat. */
    static double decodeF16(short h) {
        int sign = (h >>> 15) & 1, exp = (h >>> 10) & 0x1F, man = h & 0x3FF;
        double v;
        if (exp == 0x1F) v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        else if (exp == 0) v = Math.scalb((double) man, -24);
        else v = Math.scalb((double) (man | 0x400), exp - 25);
        return sign == 1 ? -v : v;
    }

    private static boolean isBf16NaN(short b) {
        return (b & 0x7F80) == 0x7F80 && (b & 0x007F) != 0;
    }

    private static boolean isF16NaN(short h) {
        return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0;
    }

    private static void assertF16(float f, short actual) {
        double expected = oracleF16Value(f);
        double got = DTypeConversion.f16ToFloat(actual);
        if (Double.compare(expected, got) != 0) { // compare also distinguishes −0.0 from +0.0
            fail(String.format("f16(%s = 0x%08x): expected %s, got %s (0x%04x)", f, Float.floatToRawIntBits(f),
                    expected, got, actual & 0xFFFF));
        }
    }

    private static void assertBf16(float f, short actual) {
        short expected = oracleBf16(f);
        if (expected != actual) {
            fail(String.format("bf16(%s = 0x%08x): expected 0x%04x, got 0x%04x", f, Float.floatToRawIntBits(f),
                    expected & 0xFFFF, actual & 0xFFFF));
        }
    }

    // ---------------------------------------------------------------- exhaustive round trips

    @Test
    void bf16WidenThenNarrowIsIdentityForAllPatterns() {
        int nans = 0;
        for (int q = 0; q < 65536; q++) {
            final int p = q;
            short b = (short) p;
            float f = DTypeConversion.bf16ToFloat(b);
            short back = DTypeConversion.floatToBf16(f);
            if (isBf16NaN(b)) {
                nans++;
                assertTrue(Float.isNaN(f), "widened NaN");
                assertTrue(isBf16NaN(back), () -> String.format("NaN 0x%04x narrowed to 0x%04x", p, back & 0xFFFF));
            } else {
                assertEquals(p << 16, Float.floatToRawIntBits(f), "widening is the high half");
                assertEquals(b, back, () -> String.format("round trip of 0x%04x", p));
            }
        }
        assertEquals(2 * 127, nans);
    }

    @Test
    void f16WidenThenNarrowIsIdentityForAllPatterns() {
        int nans = 0;
        for (int q = 0; q < 65536; q++) {
            final int p = q;
            short h = (short) p;
            float f = DTypeConversion.f16ToFloat(h);
            short back = DTypeConversion.floatToF16(f);
            if (isF16NaN(h)) {
                nans++;
                assertTrue(Float.isNaN(f));
                assertTrue(isF16NaN(back), () -> String.format("NaN 0x%04x narrowed to 0x%04x", p, back & 0xFFFF));
            } else {
                assertEquals(Double.doubleToRawLongBits(decodeF16(h)), Double.doubleToRawLongBits(f),
                        () -> String.format("widening of 0x%04x", p));
                assertEquals(h, back, () -> String.format("round trip of 0x%04x", p));
            }
        }
        assertEquals(2 * 1023, nans);
    }

    // ---------------------------------------------------------------- halfway cases, exhaustive

    @Test
    void bf16HalfwayValuesGoToTheEvenNeighbour() {
        for (int q = 0; q < 65536; q++) {
            final int p = q;
            if ((p & 0x7F80) == 0x7F80) continue; // Inf/NaN have no upper neighbour
            float mid = Float.intBitsToFloat((p << 16) | 0x8000);
            int even = (p & 1) == 0 ? p : p + 1;  // 0x7F7F's upper neighbour is Inf (0x7F80)
            assertEquals((short) even, DTypeConversion.floatToBf16(mid), () -> String.format("midpoint above 0x%04x", p));
            assertBf16(mid, DTypeConversion.floatToBf16(mid));
            float below = Math.nextDown(Math.abs(mid)) * Math.signum(mid);
            float above = Math.nextUp(Math.abs(mid)) * Math.signum(mid);
            assertEquals((short) p, DTypeConversion.floatToBf16(below));
            assertEquals((short) (p + 1), DTypeConversion.floatToBf16(above));
        }
    }

    @Test
    void f16HalfwayValuesGoToTheEvenNeighbour() {
        for (int q = 0; q < 65536; q++) {
            final int p = q;
            if ((p & 0x7C00) == 0x7C00) continue;
            double v = DTypeConversion.f16ToFloat((short) p);
            boolean neg = (p & 0x8000) != 0;
            double w = ((p + 1) & 0x7C00) == 0x7C00 ? (neg ? -65536.0 : 65536.0) : DTypeConversion.f16ToFloat((short) (p + 1));
            float mid = (float) ((v + w) / 2); // 12 significant bits: exact in float
            assertEquals((v + w) / 2, mid, 0.0);
            int even = (p & 1) == 0 ? p : p + 1;
            assertEquals((short) even, DTypeConversion.floatToF16(mid), () -> String.format("midpoint above 0x%04x", p));
            assertF16(mid, DTypeConversion.floatToF16(mid));
            float inward = neg ? Math.nextUp(mid) : Math.nextDown(mid);
            float outward = neg ? Math.nextDown(mid) : Math.nextUp(mid);
            assertEquals((short) p, DTypeConversion.floatToF16(inward));
            assertEquals((short) (p + 1), DTypeConversion.floatToF16(outward));
        }
    }

    // ---------------------------------------------------------------- random floats vs oracle

    @Test
    void randomFloatsMatchTheOracle() {
        System.out.printf("DTypeConversionTest seed = 0x%x%n", SEED);
        SplittableRandom rnd = new SplittableRandom(SEED);
        for (int i = 0; i < 1_000_000; i++) {
            // all exponents (uniform bits) and, half the time, the f16 range (2^-26 .. 2^17)
            float f = (i & 1) == 0 ? Float.intBitsToFloat(rnd.nextInt())
                    : Math.scalb(1.0f + rnd.nextInt(1 << 23) * 0x1p-23f, rnd.nextInt(-26, 17)) * (rnd.nextBoolean() ? 1 : -1);
            if (Float.isNaN(f)) {
                assertTrue(isBf16NaN(DTypeConversion.floatToBf16(f)));
                assertTrue(isF16NaN(DTypeConversion.floatToF16(f)));
                continue;
            }
            assertBf16(f, DTypeConversion.floatToBf16(f));
            assertF16(f, DTypeConversion.floatToF16(f));
        }
    }

    @Test
    void nanPayloadsStayNaN() {
        // low payload bits only: a bit-trick rounding without a NaN check would make these Inf
        for (int bits : new int[] {0x7F800001, 0xFF800001, 0x7F807FFF, 0x7FC00000, 0x7FFFFFFF, 0xFFFFFFFF, 0x7F801000}) {
            float nan = Float.intBitsToFloat(bits);
            assertTrue(isBf16NaN(DTypeConversion.floatToBf16(nan)), Integer.toHexString(bits));
            assertTrue(isF16NaN(DTypeConversion.floatToF16(nan)), Integer.toHexString(bits));
            assertTrue(Float.isNaN(DTypeConversion.roundTo(DType.BF16, nan)));
            assertTrue(Float.isNaN(DTypeConversion.roundTo(DType.F16, nan)));
        }
    }

    // ---------------------------------------------------------------- boundaries

    @Test
    void bf16OverflowBoundaries() {
        float max = DTypeConversion.bf16ToFloat((short) 0x7F7F);
        assertEquals(0x1.FEp127f, max);
        assertEquals((short) 0x7F7F, DTypeConversion.floatToBf16(max));
        float mid = Float.intBitsToFloat(0x7F7F8000); // halfway to 2^128: ties to even = Inf
        assertEquals((short) 0x7F80, DTypeConversion.floatToBf16(mid));
        assertEquals((short) 0x7F7F, DTypeConversion.floatToBf16(Math.nextDown(mid)));
        assertEquals((short) 0x7F80, DTypeConversion.floatToBf16(Float.MAX_VALUE));
        assertEquals((short) 0xFF80, DTypeConversion.floatToBf16(-Float.MAX_VALUE));
        assertEquals((short) 0xFF7F, DTypeConversion.floatToBf16(-Math.nextDown(mid)));
        assertEquals((short) 0x7F80, DTypeConversion.floatToBf16(Float.POSITIVE_INFINITY));
        assertEquals((short) 0xFF80, DTypeConversion.floatToBf16(Float.NEGATIVE_INFINITY));
        // smallest: float subnormals round into bf16 subnormals, which share the float exponent
        assertEquals((short) 0x0001, DTypeConversion.floatToBf16(Float.intBitsToFloat(0x00010000)));
        assertEquals((short) 0x0000, DTypeConversion.floatToBf16(Float.MIN_VALUE));
        assertEquals((short) 0x8000, DTypeConversion.floatToBf16(-Float.MIN_VALUE));
    }

    @Test
    void f16OverflowBoundaries() {
        assertEquals((short) 0x7BFF, DTypeConversion.floatToF16(65504f));
        assertEquals((short) 0x7BFF, DTypeConversion.floatToF16(Math.nextDown(65520f)));
        assertEquals((short) 0x7C00, DTypeConversion.floatToF16(65520f)); // halfway to 65536: even = Inf
        assertEquals((short) 0x7C00, DTypeConversion.floatToF16(65536f));
        assertEquals((short) 0x7C00, DTypeConversion.floatToF16(1e10f));
        assertEquals((short) 0xFC00, DTypeConversion.floatToF16(-65520f));
        assertEquals((short) 0xFBFF, DTypeConversion.floatToF16(-Math.nextDown(65520f)));
        assertEquals(Float.POSITIVE_INFINITY, DTypeConversion.roundTo(DType.F16, 70000f));
        assertEquals(65504f, DTypeConversion.roundTo(DType.F16, 65510f));
    }

    @Test
    void f16Subnormals() {
        assertEquals((short) 0x0001, DTypeConversion.floatToF16(0x1p-24f));           // smallest subnormal
        assertEquals((short) 0x0000, DTypeConversion.floatToF16(0x1p-25f));           // tie with 0: even = 0
        assertEquals((short) 0x8000, DTypeConversion.floatToF16(-0x1p-25f));          // keeps the sign
        assertEquals((short) 0x0001, DTypeConversion.floatToF16(Math.nextUp(0x1p-25f)));
        assertEquals((short) 0x0002, DTypeConversion.floatToF16(3 * 0x1p-25f));       // tie 1|2: even = 2
        assertEquals((short) 0x0002, DTypeConversion.floatToF16(5 * 0x1p-25f));       // tie 2|3: even = 2
        assertEquals((short) 0x03FF, DTypeConversion.floatToF16(1023 * 0x1p-24f));    // largest subnormal
        assertEquals((short) 0x0400, DTypeConversion.floatToF16(1023.5f * 0x1p-24f));  // tie to min normal (even)
        assertEquals((short) 0x0400, DTypeConversion.floatToF16(0x1p-14f));
        assertEquals(0x1p-24f, DTypeConversion.f16ToFloat((short) 0x0001));
        assertEquals(1023 * 0x1p-24f, DTypeConversion.f16ToFloat((short) 0x03FF));
        assertEquals((short) 0x0000, DTypeConversion.floatToF16(Float.MIN_VALUE));
        for (int m = 1; m < 1024; m++) {
            float v = m * 0x1p-24f;
            assertEquals((short) m, DTypeConversion.floatToF16(v));
            assertEquals((short) (0x8000 | m), DTypeConversion.floatToF16(-v));
        }
    }

    @Test
    void oracleAgreesWithHandValues() {
        // guards the oracle itself
        assertEquals(1.0, oracleF16Value(1.0f));
        assertEquals(1.0, oracleF16Value(1.0f + 0x1p-11f));              // tie: even (1.0)
        assertEquals(1.0 + 0x1p-9, oracleF16Value(1.0f + 3 * 0x1p-11f)); // tie: even (…+2 ulp)
        assertEquals(Double.POSITIVE_INFINITY, oracleF16Value(65520f));
        assertEquals((short) 0x3F80, oracleBf16(1.0f));
        assertEquals((short) 0x3F80, oracleBf16(Float.intBitsToFloat(0x3F808000))); // tie: even
        assertEquals((short) 0x3F82, oracleBf16(Float.intBitsToFloat(0x3F818000))); // tie: even (up)
        assertEquals((short) 0x7F80, oracleBf16(Float.MAX_VALUE));
    }
}

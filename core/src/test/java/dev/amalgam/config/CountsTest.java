package dev.amalgam.config;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CountsTest {

    @Test
    void truncatesTheDoubleProductLikePythonInt() {
        // 0.29·100 = 28.999999999999996 in double: truncation gives 28, rounding would give 29
        assertEquals(28, Counts.fromFraction(0.29, 100));
        assertEquals(28.999999999999996, 0.29 * 100);
        assertEquals(56, Counts.fromFraction(0.57, 100)); // 56.99999999999999
        assertEquals(57, Counts.fromFraction(0.58, 100)); // 57.99999999999999
        assertEquals(30, Counts.fromFraction(0.3, 100)); // exactly 30.0
    }

    @Test
    void handComputedCounts() {
        assertEquals(0, Counts.fromFraction(0.0, 1000));
        assertEquals(0, Counts.fromFraction(0.2, 4)); // 0.8 → 0
        assertEquals(1, Counts.fromFraction(0.2, 5));
        assertEquals(3, Counts.fromFraction(0.3, 10));
        assertEquals(2, Counts.fromFraction(0.5, 5)); // 2.5 truncates, no half-even rounding
        assertEquals(999_999_999L, Counts.fromFraction(0.999999999, 1_000_000_000L));
    }

    @Test
    void largeModelScopeCountsDoNotOverflowInt() {
        long n = 70_000_000_000L;
        assertEquals(14_000_000_000L, Counts.fromFraction(0.2, n));
    }

    @Test
    void fractionOfOneOrMoreKeepsAll() {
        assertEquals(7, Counts.fromFraction(1.0, 7));
        assertEquals(7, Counts.fromFraction(1.5, 7));
        assertEquals(0, Counts.fromFraction(0.5, 0));
    }

    @Test
    void negativeOrNaNFractionIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Counts.fromFraction(-0.1, 10));
        assertThrows(IllegalArgumentException.class, () -> Counts.fromFraction(Double.NaN, 10));
        assertThrows(IllegalArgumentException.class, () -> Counts.fromFraction(0.5, -1));
    }
}

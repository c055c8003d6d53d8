package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Tall form, variant choice, schedule sizes and tolerance of a Jacobi shape. */
class JacobiShapeTest {

    @Test
    void tallFormOfTallAndWideMatrices() {
        JacobiShape tall = new JacobiShape(40, 13), wide = new JacobiShape(9, 31);
        assertEquals(40, tall.p());
        assertEquals(13, tall.q());
        assertFalse(tall.wide());
        assertEquals(31, wide.p());
        assertEquals(9, wide.q());
        assertTrue(wide.wide());
        assertFalse(new JacobiShape(5, 5).wide());
        assertThrows(IllegalArgumentException.class, () -> new JacobiShape(0, 3));
    }

    @Test
    void sharedVariantForWhatFitsTheBlock() {
        // 64×64: (4096 + 4096)·4 = 32 KiB: fits the default 48 KiB.
        JacobiShape s = new JacobiShape(64, 64);
        assertEquals(32768, s.sharedBytes());
        assertTrue(s.fitsShared(JacobiShape.DEFAULT_SHARED_LIMIT));
        // 150×70: (10500 + 4900)·4 = 61600 B: only with the opt-in limit (H100: 227 KiB).
        JacobiShape t = new JacobiShape(150, 70);
        assertEquals(61600, t.sharedBytes());
        assertFalse(t.fitsShared(JacobiShape.DEFAULT_SHARED_LIMIT));
        assertTrue(t.fitsShared(227 * 1024));
        // 768×768 never fits: the blocked variant.
        assertFalse(new JacobiShape(768, 768).fitsShared(227 * 1024));
    }

    @Test
    void blockedScheduleSizes() {
        JacobiShape s = new JacobiShape(3072, 768);  // 48 blocks of 16: 47 steps of 24 block pairs
        assertEquals(48, s.blocks());
        assertEquals(47, s.blockSteps());
        assertEquals(24, s.blockPairs());
        JacobiShape odd = new JacobiShape(100, 70);  // 5 blocks (the last has 6 columns) + a dummy
        assertEquals(5, odd.blocks());
        assertEquals(5, odd.blockSteps());
        assertEquals(3, odd.blockPairs());
        JacobiShape one = new JacobiShape(20, 7);  // one block, paired with the dummy
        assertEquals(1, one.blocks());
        assertEquals(1, one.blockSteps());
        assertEquals(1, one.blockPairs());
    }

    @Test
    void toleranceGrowsWithTheColumnLength() {
        assertEquals((float) 0x1p-21, new JacobiShape(4, 4).tolerance());
        assertEquals((float) (Math.sqrt(150) * 0x1p-23), new JacobiShape(150, 70).tolerance());
        assertEquals((float) (Math.sqrt(3072) * 0x1p-23), new JacobiShape(768, 3072).tolerance());
        assertTrue(new JacobiShape(3072, 768).tolerance() < 7e-6f);
    }
}

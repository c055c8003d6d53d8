package dev.amalgam.random;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Known answers of spec §1.9 (Random123 KAT vectors, FNV-1a, the keyed draws) and the keep bound. */
class Philox4x32Test {

    private static final String DOWN_PROJ = "model.layers.0.mlp.down_proj.weight";

    @Test
    void random123KnownAnswerZeros() {
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                Philox4x32.block(0, 0, 0, 0, 0, 0));
    }

    @Test
    void random123KnownAnswerAllOnes() {
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                Philox4x32.block(-1, -1, -1, -1, -1, -1));
    }

    @Test
    void word0IsTheFirstWordOfTheBlock() {
        long seed = 0x9A11_0C0DEL;
        System.out.printf("Philox4x32Test seed = 0x%x%n", seed);
        SplittableRandom r = new SplittableRandom(seed);
        for (int n = 0; n < 1000; n++) {
            int c0 = r.nextInt(), c1 = r.nextInt(), c2 = r.nextInt(), c3 = r.nextInt(), k0 = r.nextInt(), k1 = r.nextInt();
            assertEquals(Philox4x32.block(c0, c1, c2, c3, k0, k1)[0], Philox4x32.word0(c0, c1, c2, c3, k0, k1));
        }
    }

    @Test
    void fnv1aKnownAnswers() {
        assertEquals(0x811c9dc5, Fnv1a32.hash(""));
        assertEquals(0xe40c292c, Fnv1a32.hash("a"));
        assertEquals(0xca7d69f5, Fnv1a32.hash(DOWN_PROJ));
    }

    @Test
    void keyedDrawKnownAnswers() {
        int h = Fnv1a32.hash(DOWN_PROJ);
        // counter = (i lo, i hi, m, h), key = (seed lo, seed hi)
        assertEquals(0x5baacc8f, Philox4x32.word0(0, 0, 1, h, 42, 0));
        assertEquals(6007500, new BernoulliMask(42, 1, h).draw(0));
        assertEquals(0x5baacc8f >>> 8, 6007500);
        assertEquals(0x31916e49, Philox4x32.word0(0, 0, 1, h, 0, 0));
        assertEquals(0x31916e49 >>> 8, new BernoulliMask(0, 1, h).draw(0));
        long i = (1L << 32) + 3;
        int head = Fnv1a32.hash("lm_head.weight");
        assertEquals(0xeaf75660, Philox4x32.word0(3, 1, 0, head, 42, 0));
        assertEquals(0xeaf75660 >>> 8, new BernoulliMask(42, 0, head).draw(i));
    }

    @Test
    void seedUsesBothKeyWords() {
        int h = Fnv1a32.hash(DOWN_PROJ);
        long seed = 0x0000_0001_0000_002AL; // k0 = 42, k1 = 1
        assertEquals(Philox4x32.word0(0, 0, 1, h, 42, 1) >>> 8, new BernoulliMask(seed, 1, h).draw(0));
        long negative = -2L; // two's complement: k0 = 0xFFFFFFFE, k1 = 0xFFFFFFFF
        assertEquals(Philox4x32.word0(0, 0, 1, h, 0xFFFFFFFE, 0xFFFFFFFF) >>> 8, new BernoulliMask(negative, 1, h).draw(0));
    }

    @Test
    void keepBoundEdgeCases() {
        assertEquals(0, BernoulliMask.keepBound(0.0));
        assertEquals(0, BernoulliMask.keepBound(-0.0));
        assertEquals(0, BernoulliMask.keepBound(-0.5));
        assertEquals(0, BernoulliMask.keepBound(Double.NaN));
        assertEquals(1L << 24, BernoulliMask.keepBound(1.0));
        assertEquals(1L << 24, BernoulliMask.keepBound(1.5));
        assertEquals(1L << 23, BernoulliMask.keepBound(0.5));
        // 0.66·2^24 = 11072962.56 → 11072963 (mergekit's bf16 draw would use 0.66015625)
        assertEquals(11072963, BernoulliMask.keepBound(0.66));
        assertEquals(1, BernoulliMask.keepBound(1e-300));          // tiny p: only j = 0 (u = 0 < p) is kept
        assertEquals(1, BernoulliMask.keepBound(Double.MIN_VALUE));
        assertEquals(3, BernoulliMask.keepBound(3 * 0x1p-24));     // p·2^24 integral: j < 3 ⇔ j·2^-24 < p
        assertEquals(4, BernoulliMask.keepBound(Math.nextUp(3 * 0x1p-24)));
        assertEquals(1 << 22, BernoulliMask.keepBound(0.25));
        assertEquals((1 << 24) - 1, BernoulliMask.keepBound(1 - 0x1p-24));
        assertEquals(1 << 24, BernoulliMask.keepBound(Math.nextDown(1.0)));
    }

    @Test
    void keepIsExactlyUBelowP() {
        long seed = 0xB0B_0F_DA7EL;
        System.out.printf("Philox4x32Test keep seed = 0x%x%n", seed);
        SplittableRandom r = new SplittableRandom(seed);
        BigDecimal twoTo24 = BigDecimal.valueOf(1L << 24);
        BernoulliMask mask = new BernoulliMask(7, 2, Fnv1a32.hash(DOWN_PROJ));
        for (int n = 0; n < 20_000; n++) {
            // p near a draw's u exercises the boundary; otherwise uniform
            long i = r.nextLong(1L << 40);
            int j = mask.draw(i);
            double p = switch (n % 4) {
                case 0 -> j * 0x1p-24;                 // u == p: not kept
                case 1 -> Math.nextUp(j * 0x1p-24);    // just above u: kept
                case 2 -> Math.nextDown(j * 0x1p-24);  // just below u: not kept (j = 0: p < 0)
                default -> r.nextDouble();
            };
            boolean exact = new BigDecimal(j).divide(twoTo24).compareTo(new BigDecimal(p)) < 0;
            assertEquals(exact, mask.keep(i, BernoulliMask.keepBound(p)), () -> "j=" + j + " p=" + p);
        }
    }

    @Test
    void drawsAreTwentyFourBits() {
        BernoulliMask mask = new BernoulliMask(123, 0, Fnv1a32.hash("x"));
        for (long i = 0; i < 10_000; i++) {
            int j = mask.draw(i);
            assertEquals(j & 0xFFFFFF, j);
        }
    }
}

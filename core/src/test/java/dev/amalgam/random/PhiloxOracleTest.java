package dev.amalgam.random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The independent Philox of the tests ({@link PhiloxOracle}) against the spec's known answers (§1.9),
 * and the production generator and masks against it on random counters, keys, seeds and names.
 */
class PhiloxOracleTest {

    private static final String DOWN_PROJ = "model.layers.0.mlp.down_proj.weight";

    @Test
    void oracleMeetsTheSpecKnownAnswers() {
        assertArrayEquals(new long[] {0x6627e8d5L, 0xe169c58dL, 0xbc57ac4cL, 0x9b00dbd8L}, PhiloxOracle.block(0, 0, 0, 0, 0, 0));
        long ones = 0xFFFF_FFFFL;
        assertArrayEquals(new long[] {0x408f276dL, 0x41c83b0eL, 0xa20bc7c6L, 0x6d5451fdL},
                PhiloxOracle.block(ones, ones, ones, ones, ones, ones));
        assertEquals(0x811c9dc5L, PhiloxOracle.fnv1a32(""));
        assertEquals(0xe40c292cL, PhiloxOracle.fnv1a32("a"));
        assertEquals(0xca7d69f5L, PhiloxOracle.fnv1a32(DOWN_PROJ));
        assertEquals(0x5baacc8fL, PhiloxOracle.word0(42, 1, DOWN_PROJ, 0));
        assertEquals(6007500, PhiloxOracle.draw(42, 1, DOWN_PROJ, 0));
        assertEquals(0x31916e49L, PhiloxOracle.word0(0, 1, DOWN_PROJ, 0));
        assertEquals(0xeaf75660L, PhiloxOracle.word0(42, 0, "lm_head.weight", (1L << 32) + 3));
        // §1.9: keep iff u < p, so j = 6007500 is dropped at p = j·2^-24 and kept just above.
        assertEquals(false, PhiloxOracle.keep(42, 1, DOWN_PROJ, 0, 6007500 * 0x1p-24));
        assertEquals(true, PhiloxOracle.keep(42, 1, DOWN_PROJ, 0, Math.nextUp(6007500 * 0x1p-24)));
    }

    @Test
    void fastOracleAgreesWithTheBigIntegerOne() {
        SplittableRandom r = new SplittableRandom(0x0F1A_C1E5L);
        for (int n = 0; n < 2000; n++) {
            long seed = r.nextLong();
            int m = n % 7 == 0 ? r.nextInt() : r.nextInt(8);
            long i = n % 3 == 0 ? r.nextLong(1L << 40) : r.nextLong(1 << 20);
            String name = "t" + r.nextInt(1000);
            assertEquals(PhiloxOracle.word0(seed, m, name, i), PhiloxOracle.word0Fast(seed, m, PhiloxOracle.fnv1a32(name), i),
                    "seed " + seed + ", m " + m + ", " + name + ", i " + i);
        }
    }

    @Test
    void productionBlockMatchesTheOracleOnRandomCountersAndKeys() {
        SplittableRandom r = new SplittableRandom(0x5EED_B10CL);
        for (int n = 0; n < 500; n++) {
            int c0 = r.nextInt(), c1 = r.nextInt(), c2 = r.nextInt(), c3 = r.nextInt(), k0 = r.nextInt(), k1 = r.nextInt();
            long[] expected = PhiloxOracle.block(u(c0), u(c1), u(c2), u(c3), u(k0), u(k1));
            int[] actual = Philox4x32.block(c0, c1, c2, c3, k0, k1);
            for (int w = 0; w < 4; w++) assertEquals(expected[w], u(actual[w]), "word " + w + " of case " + n);
            assertEquals(expected[0], u(Philox4x32.word0(c0, c1, c2, c3, k0, k1)), "word0 of case " + n);
        }
    }

    @Test
    void productionFnvMatchesTheOracleOnUnicodeNames() {
        for (String name : new String[] {"", "a", DOWN_PROJ, "lm_head.weight", "ÿ", "é.weight", "\uD83D\uDE00", "模型.权重", "\u0000"}) {
            assertEquals(PhiloxOracle.fnv1a32(name), u(Fnv1a32.hash(name)), name);
        }
    }

    @Test
    void productionMasksMatchTheOracleAcrossSeedsModelsAndDensities() {
        SplittableRandom r = new SplittableRandom(0xDA4E_3A5CL);
        String[] names = {DOWN_PROJ, "lm_head.weight", "model.embed_tokens.weight", "w"};
        // Densities include the edges (0, 1), a value whose p·2^24 is integral, and random ones.
        double[] densities = {0, 1e-9, 3 * 0x1p-24, 0.1, 0.5, 0.66, 0.9, 1 - 0x1p-24, 1, r.nextDouble(), r.nextDouble()};
        for (int c = 0; c < 40; c++) {
            long seed = c < 3 ? new long[] {0, 42, -1}[c] : r.nextLong();
            int m = r.nextInt(6);
            String name = names[c % names.length];
            double p = densities[c % densities.length];
            BernoulliMask mask = new BernoulliMask(seed, m, Fnv1a32.hash(name));
            long bound = BernoulliMask.keepBound(p);
            for (int k = 0; k < 200; k++) {
                long i = k < 100 ? k : r.nextLong(1L << 36);
                boolean expected = PhiloxOracle.keep(seed, m, name, i, p);
                assertEquals(expected, mask.keep(i, bound), "seed " + seed + ", m " + m + ", " + name + ", i " + i + ", p " + p);
            }
        }
    }

    private static long u(int word) {
        return word & 0xFFFF_FFFFL;
    }
}

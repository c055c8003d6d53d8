package dev.amalgam.random;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;

/**
 * A second, independent implementation of the DARE draw of spec §1.9, for tests only: Philox4x32-10,
 * FNV-1a-32 and the keep rule written with {@link BigInteger} words (every step reduced mod 2^32
 * explicitly) and an exact {@link BigDecimal} comparison u &lt; p. It shares nothing with
 * {@link Philox4x32}, {@link Fnv1a32} or {@link BernoulliMask}, so tests that build expected DARE masks
 * with it check the production masks against the spec, not against themselves. Slow (BigInteger per
 * round): use it on small tensors.
 */
public final class PhiloxOracle {

    private static final BigInteger MOD = BigInteger.ONE.shiftLeft(32);
    private static final BigInteger M0 = new BigInteger("D2511F53", 16);
    private static final BigInteger M1 = new BigInteger("CD9E8D57", 16);
    private static final BigInteger W0 = new BigInteger("9E3779B9", 16);
    private static final BigInteger W1 = new BigInteger("BB67AE85", 16);
    private static final BigInteger FNV_OFFSET = new BigInteger("811C9DC5", 16);
    private static final BigInteger FNV_PRIME = new BigInteger("01000193", 16);
    private static final BigDecimal TWO_TO_24 = new BigDecimal(1 << 24);

    private PhiloxOracle() {
    }

    /** Philox4x32-10 of counter (c0..c3) and key (k0, k1), all unsigned 32-bit words as longs in [0, 2^32). */
    public static long[] block(long c0, long c1, long c2, long c3, long k0, long k1) {
        BigInteger[] c = {big(c0), big(c1), big(c2), big(c3)};
        BigInteger key0 = big(k0), key1 = big(k1);
        for (int round = 0; round < 10; round++) {
            BigInteger p0 = M0.multiply(c[0]);   // 64-bit products: hi = p / 2^32, lo = p mod 2^32
            BigInteger p1 = M1.multiply(c[2]);
            BigInteger hi0 = p0.shiftRight(32), lo0 = p0.mod(MOD);
            BigInteger hi1 = p1.shiftRight(32), lo1 = p1.mod(MOD);
            c = new BigInteger[] {hi1.xor(c[1]).xor(key0), lo1, hi0.xor(c[3]).xor(key1), lo0};
            key0 = key0.add(W0).mod(MOD);
            key1 = key1.add(W1).mod(MOD);
        }
        return new long[] {c[0].longValueExact(), c[1].longValueExact(), c[2].longValueExact(), c[3].longValueExact()};
    }

    /**
     * The same word0 with unsigned words held in {@code long}s (masked to 32 bits after every step):
     * fast enough for whole tensors, and checked against {@link #block} in {@code PhiloxOracleTest}.
     */
    public static long word0Fast(long seed, int modelIndex, long nameHash, long i) {
        final long mask = 0xFFFF_FFFFL;
        long c0 = i & mask, c1 = i >>> 32, c2 = modelIndex & mask, c3 = nameHash & mask;
        long k0 = seed & mask, k1 = seed >>> 32;
        for (int round = 0; round < 10; round++) {
            long p0 = 0xD2511F53L * c0, p1 = 0xCD9E8D57L * c2;  // < 2^64 but may exceed 2^63: unsigned shift
            long n0 = ((p1 >>> 32) ^ c1 ^ k0) & mask, n2 = ((p0 >>> 32) ^ c3 ^ k1) & mask;
            c1 = p1 & mask;
            c3 = p0 & mask;
            c0 = n0;
            c2 = n2;
            k0 = (k0 + 0x9E3779B9L) & mask;
            k1 = (k1 + 0xBB67AE85L) & mask;
        }
        return c0;
    }

    /** Keep iff (word0 &gt;&gt;&gt; 8)·2^-24 &lt; p, with {@link #word0Fast}; the comparison exact in double (p·2^24 scales exactly). */
    public static boolean keepFast(long seed, int modelIndex, long nameHash, long i, double p) {
        long j = word0Fast(seed, modelIndex, nameHash, i) >>> 8;
        return j < p * 16777216.0;  // j and p·2^24 (a power-of-two scaling) are exact in double
    }

    /** FNV-1a-32 of the UTF-8 bytes of {@code s}, unsigned. */
    public static long fnv1a32(String s) {
        BigInteger h = FNV_OFFSET;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) h = h.xor(BigInteger.valueOf(b & 0xFF)).multiply(FNV_PRIME).mod(MOD);
        return h.longValueExact();
    }

    /**
     * word0 of the draw for element i of model m in tensor {@code name}: counter (i mod 2^32, i / 2^32, m, h),
     * key (seed mod 2^32, seed / 2^32) with seed as 64-bit two's complement.
     */
    public static long word0(long seed, int modelIndex, String name, long i) {
        BigInteger s = BigInteger.valueOf(seed).mod(MOD.multiply(MOD));
        BigInteger index = BigInteger.valueOf(i);
        return block(index.mod(MOD).longValueExact(), index.shiftRight(32).longValueExact(),
                BigInteger.valueOf(modelIndex).mod(MOD).longValueExact(), fnv1a32(name),
                s.mod(MOD).longValueExact(), s.shiftRight(32).longValueExact())[0];
    }

    /** j = word0 &gt;&gt;&gt; 8, the 24-bit draw. */
    public static int draw(long seed, int modelIndex, String name, long i) {
        return (int) (word0(seed, modelIndex, name, i) >>> 8);
    }

    /** Keep iff u = j·2^-24 &lt; p, compared exactly (§1.9). */
    public static boolean keep(long seed, int modelIndex, String name, long i, double p) {
        if (Double.isNaN(p)) return false;
        BigDecimal u = new BigDecimal(draw(seed, modelIndex, name, i)).divide(TWO_TO_24);
        return u.compareTo(new BigDecimal(p)) < 0;
    }

    /** The keep mask of elements 0..n−1; density ≥ 1 keeps everything without draws (§6). */
    public static boolean[] mask(long seed, int modelIndex, String name, int n, double density) {
        boolean[] keep = new boolean[n];
        for (int i = 0; i < n; i++) keep[i] = density >= 1 || keep(seed, modelIndex, name, i, density);
        return keep;
    }

    private static BigInteger big(long unsigned) {
        if (unsigned < 0 || unsigned >= (1L << 32)) throw new IllegalArgumentException("not a 32-bit word: " + unsigned);
        return BigInteger.valueOf(unsigned);
    }
}

package dev.amalgam.cuda.internal;

/**
 * The parallel pair ordering of the batched Jacobi SVD, exactly as {@code round_robin_pair} in
 * {@code kernels-cuda/src/svd_schedule.cuh} (a host test compiles that header with a C++ compiler
 * and compares every pair).
 *
 * <p>Implementation notes. Circle method over n (even) players: player n−1 is fixed, pair 0 of
 * step s is (s, n−1), pair k ≥ 1 is ((s+k) mod (n−1), (s−k) mod (n−1)). The n−1 steps of n/2
 * disjoint pairs visit every unordered pair exactly once. An odd number of columns is padded with
 * one dummy player, the last, which therefore only ever appears as the second of a pair.
 */
public final class RoundRobin {

    private RoundRobin() {
    }

    /** Players for {@code columns} columns: the count rounded up to even. */
    public static int players(int columns) {
        return columns + (columns & 1);
    }

    /** Pair {@code k} of step {@code s} for {@code n} (even) players, as {first, second} with first &lt; second. */
    public static int[] pair(int n, int s, int k) {
        if (n < 2 || (n & 1) != 0) throw new IllegalArgumentException("round robin needs an even player count ≥ 2, got " + n);
        if (s < 0 || s >= n - 1 || k < 0 || k >= n / 2) throw new IllegalArgumentException("no pair " + k + " in step " + s + " of " + n);
        int m = n - 1;
        int a, b;
        if (k == 0) {
            a = s;
            b = m;
        } else {
            a = (s + k) % m;
            b = (s + m - k) % m;
        }
        return new int[] {Math.min(a, b), Math.max(a, b)};
    }
}

package dev.amalgam.kernel;

/**
 * The one summation order for L1 norms over a tensor (Σ|x| in double, §1.9 rescale), shared by
 * every backend so that parallel, vectorized backends reproduce the reference bit for bit.
 *
 * <p>Implementation notes. The flat index range is cut into blocks of {@link #BLOCK} elements
 * (the last may be shorter). Within a block, element i (offset from the block start) goes to
 * partial sum {@code i % LANES}; each partial sum is a sequential double sum starting at +0.0.
 * A block's value is {@code ((p0 + p1) + p2) + … + p7}. Block values are added in block order,
 * starting at +0.0. The order does not depend on thread count or vector width: a backend with
 * 4- or 8-lane double vectors maps the partial sums onto lanes directly, and block sums can be
 * computed in parallel and combined in block order. Padding with +0.0 never changes a sum
 * (every term is ≥ +0.0 or NaN).
 */
public final class BlockedL1Sum {

    /** An empty sum (+0.0) at position 0. */
    public BlockedL1Sum() {
    }

    /** Elements per block; also the chunk size of the fast CPU backend. */
    public static final int BLOCK = 1 << 16;
    /** Interleaved partial sums per block. */
    public static final int LANES = 8;

    private final double[] partial = new double[LANES];
    private double total;
    private long position;

    /** Adds |x| of the next element in flat order. */
    public void add(float x) {
        partial[(int) (position % LANES)] += Math.abs(x);
        position++;
        if (position % BLOCK == 0) flushBlock();
    }

    /** The sum of everything added so far (closes a partial last block). */
    public double sum() {
        if (position % BLOCK != 0) flushBlock();
        return total;
    }

    private void flushBlock() {
        total += combineLanes(partial);
        java.util.Arrays.fill(partial, 0.0);
    }

    /** {@code ((p0 + p1) + p2) + … + p7}: the value of one block from its partial sums. */
    public static double combineLanes(double[] p) {
        double s = p[0];
        for (int j = 1; j < LANES; j++) s += p[j];
        return s;
    }
}

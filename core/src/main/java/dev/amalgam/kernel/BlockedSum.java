package dev.amalgam.kernel;

/**
 * The one summation order of float64 reductions over a vector (dots and squared norms of §12,
 * §1.3), shared by every backend so that vectorized, parallel backends reproduce the reference
 * bit for bit. It is the order of {@link BlockedL1Sum}, for arbitrary terms.
 *
 * <p>Implementation notes. Positions 0, 1, … of the vector are cut into blocks of
 * {@link BlockedL1Sum#BLOCK}; within a block, position p goes to partial sum {@code p % 8}, each a
 * sequential double sum from +0.0; a block's value is {@code ((p0 + p1) + p2) + … + p7}; the
 * total is +0.0 plus the block values in block order. Products of two float32 values are exact
 * in double, so a dot product's only roundings are the additions of this order.
 */
public final class BlockedSum {

    private final double[] partial = new double[BlockedL1Sum.LANES];
    private double total;
    private long position;

    /** Adds the term of the next position. */
    public void add(double term) {
        partial[(int) (position % BlockedL1Sum.LANES)] += term;
        position++;
        if (position % BlockedL1Sum.BLOCK == 0) flushBlock();
    }

    /** The sum of everything added so far (closes a partial last block). */
    public double sum() {
        if (position % BlockedL1Sum.BLOCK != 0) flushBlock();
        return total;
    }

    private void flushBlock() {
        total += BlockedL1Sum.combineLanes(partial);
        java.util.Arrays.fill(partial, 0.0);
    }
}

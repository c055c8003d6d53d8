package dev.amalgam.kernel;

/**
 * How a tensor of n elements is cut into the vectors that per-vector reductions and
 * combinations work on (spec §12: "each tensor is one flattened vector", or rows, or columns).
 *
 * <p>Implementation notes. Vector v, position p (0 ≤ p &lt; length) is flat element
 * {@code v·length + p} for {@link Kind#WHOLE} and {@link Kind#ROWS}, and {@code p·count + v} for
 * {@link Kind#COLUMNS} (vectors along dimension 0, as torch's {@code transpose(0, -1)} then
 * {@code dim=-1}). A tensor with no elements has one empty vector.
 *
 * @param kind   which cut
 * @param count  number of vectors
 * @param length elements per vector
 */
public record VectorLayout(Kind kind, long count, long length) {

    /** The three ways to cut a tensor into vectors. */
    public enum Kind {
        /** The whole tensor is one vector. */
        WHOLE,
        /** Contiguous rows along the last dimension (a 1-D tensor is one row). */
        ROWS,
        /** Strided vectors along dimension 0 (one per index of the other dimensions). */
        COLUMNS
    }

    /** Checks count ≥ 1 and length ≥ 0. */
    public VectorLayout {
        if (count < 1 || length < 0) throw new IllegalArgumentException("layout " + kind + " " + count + " x " + length);
    }

    /** One vector over all n elements. */
    public static VectorLayout whole(long n) {
        return new VectorLayout(Kind.WHOLE, 1, n);
    }

    /** Rows along the last dimension of {@code shape} (0-D and 1-D: one row). */
    public static VectorLayout rows(long[] shape) {
        long n = elements(shape);
        if (shape.length <= 1 || n == 0) return new VectorLayout(Kind.ROWS, 1, n);
        long len = shape[shape.length - 1];
        return new VectorLayout(Kind.ROWS, n / len, len);
    }

    /** Vectors along dimension 0 of {@code shape} (0-D and 1-D: one vector). */
    public static VectorLayout columns(long[] shape) {
        long n = elements(shape);
        if (shape.length <= 1 || n == 0) return new VectorLayout(Kind.COLUMNS, 1, n);
        return new VectorLayout(Kind.COLUMNS, n / shape[0], shape[0]);
    }

    /** Total elements covered. */
    public long elementCount() {
        return count * length;
    }

    /** The flat index of position p of vector v. */
    public long index(long v, long p) {
        return kind == Kind.COLUMNS ? p * count + v : v * length + p;
    }

    /** The vector that flat element i belongs to. */
    public long vectorOf(long i) {
        return kind == Kind.COLUMNS ? i % count : length == 0 ? 0 : i / length;
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }
}

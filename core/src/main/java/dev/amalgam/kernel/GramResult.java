package dev.amalgam.kernel;

/**
 * Float64 Gram matrices of a {@link GramPass}: {@code dot(v, i, j)} = ⟨v_i, v_j⟩ over vector v.
 *
 * <p>Implementation notes. Stored densely, symmetric, {@code values[(v·k + i)·k + j]}. A
 * non-finite input element makes the dots it enters NaN or ±Inf; callers decide (the linear pass
 * that follows names the offending model).
 *
 * @param vectors number of vectors
 * @param inputs  k, number of inputs
 * @param values  vectors·k·k dots
 */
public record GramResult(int vectors, int inputs, double[] values) {

    /** Checks that {@code values} holds vectors·k·k dots. */
    public GramResult {
        if (values.length != (long) vectors * inputs * inputs) throw new IllegalArgumentException("gram size");
    }

    /** ⟨v_i, v_j⟩ over vector v. */
    public double dot(int v, int i, int j) {
        return values[(v * inputs + i) * inputs + j];
    }

    /** ‖v_i‖² over vector v. */
    public double squaredNorm(int v, int i) {
        return dot(v, i, i);
    }

    /** ‖v_i‖ over vector v (square root of the blocked sum of squares). */
    public double norm(int v, int i) {
        return Math.sqrt(dot(v, i, i));
    }
}

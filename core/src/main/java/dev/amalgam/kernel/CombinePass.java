package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * A per-vector linear combination: for every element of vector v,
 * out = Σ_j c[v·k + j]·x_j with float32 products summed from 0f in input order (no FMA) — the
 * {@link LinearPass} arithmetic with divisor 1 and coefficients that change from vector to
 * vector (row-wise Model Stock, row- or column-wise NuSLERP).
 *
 * @param tensorName     for messages
 * @param inputs         k tensors, same element count
 * @param coefficients   layout.count()·k float32 coefficients, vector-major
 * @param layout         the vectors the coefficients belong to
 * @param out            output in its storage dtype (RNE narrowing)
 * @param allowNonfinite false: a non-finite input is reported and nothing is promised about out
 */
public record CombinePass(String tensorName, List<Tensor> inputs, float[] coefficients, VectorLayout layout, Tensor out,
                          boolean allowNonfinite) {

    /** Checks the coefficient count and that every tensor has the layout's element count. */
    public CombinePass {
        inputs = List.copyOf(inputs);
        if (coefficients.length != layout.count() * inputs.size()) {
            throw new IllegalArgumentException("tensor " + tensorName + ": " + coefficients.length + " coefficients for "
                    + layout.count() + " vectors of " + inputs.size() + " inputs");
        }
        for (Tensor x : inputs) {
            if (x.elementCount() != out.elementCount()) throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
        if (layout.elementCount() != out.elementCount()) throw new IllegalArgumentException("tensor " + tensorName + ": layout size differs");
    }
}

package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * {@code linear} for one tensor: out = (Σ_i w_i·x_i) / divisor, products and sum in float32
 * in input order, then one float32 division (divisor 1 when not normalizing).
 */
public record LinearPass(String tensorName, List<Tensor> inputs, float[] weights, float divisor, Tensor out,
                         boolean allowNonfinite) {

    /** Checks the per-input arrays and element counts. */
    public LinearPass {
        inputs = List.copyOf(inputs);
        if (weights.length != inputs.size()) {
            throw new IllegalArgumentException("tensor " + tensorName + ": " + weights.length + " weights for " + inputs.size() + " inputs");
        }
        for (Tensor x : inputs) {
            if (x.elementCount() != out.elementCount()) {
                throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
            }
        }
    }
}

package dev.amalgam.kernel;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/**
 * The reductions of one tensor (kernel family "reductions"): for every vector of
 * {@code layout} and every pair i ≤ j of inputs, the float64 dot product
 * ⟨v_i, v_j⟩ with v_i = x_i − origin (float32 subtraction, no origin = x_i itself). The diagonal
 * gives squared L2 norms. Summation follows {@link BlockedSum} per vector.
 *
 * @param tensorName for messages
 * @param inputs     the vectors' tensors (any mergeable storage dtype), same element count
 * @param origin     subtracted from every input first, or null
 * @param layout     how the tensor is cut into vectors
 */
public record GramPass(String tensorName, List<Tensor> inputs, Tensor origin, VectorLayout layout) {

    /** Checks that there is an input and that every tensor has the layout's element count. */
    public GramPass {
        inputs = List.copyOf(inputs);
        if (inputs.isEmpty()) throw new IllegalArgumentException("tensor " + tensorName + ": no inputs");
        long n = layout.elementCount();
        for (Tensor x : inputs) {
            if (x.elementCount() != n) throw new IllegalArgumentException("tensor " + tensorName + ": element counts differ");
        }
        if (origin != null && origin.elementCount() != n) {
            throw new IllegalArgumentException("tensor " + tensorName + ": origin element count differs");
        }
    }
}

package dev.amalgam.merge;

/**
 * What happened to one output tensor.
 *
 * @param name          tensor name
 * @param action        {@code merged}, {@code copied} (integer/bool tensors, no task vectors), …
 * @param elements      output element count
 * @param keptDensity   mean over models of the kept fraction after sparsification (1 without)
 * @param signConflicts elements where a nonzero contribution disagreed with the elected sign
 * @param nanos         time spent on it
 * @param keptPerModel  per task model (plan order), the kept fraction after sparsification;
 *                      {@code null} when the method does not sparsify per model
 */
public record TensorReport(String name, String action, long elements, double keptDensity, long signConflicts, long nanos,
                           double[] keptPerModel) {

    /** A report without per-model kept fractions. */
    public TensorReport(String name, String action, long elements, double keptDensity, long signConflicts, long nanos) {
        this(name, action, elements, keptDensity, signConflicts, nanos, null);
    }
}

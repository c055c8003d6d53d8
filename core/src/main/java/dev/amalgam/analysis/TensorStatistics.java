package dev.amalgam.analysis;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Task-vector statistics of one tensor, every sum accumulated in float64 in element order
 * within fixed chunks and then over chunks in order (deterministic for a given input).
 * δ_m = θ_m − θ0 is formed in float32 as the merge forms it; "models" are the task models in
 * plan order (the base excluded).
 *
 * @param name              tensor name
 * @param layer             layer index (§1.1), −1 outside layers
 * @param kind              attention, MLP, norm, embedding or other
 * @param elements          element count (after any embedding crop)
 * @param baseNormSq        ‖θ0‖²
 * @param modelNormSq       ‖θ_m‖² per model
 * @param deltaNormSq       ‖δ_m‖² per model
 * @param deltaDot          ⟨δ_i, δ_j⟩ as a row-major T×T matrix (its diagonal is {@code deltaNormSq})
 * @param conflictElements  elements where one δ is positive and another negative
 * @param activeElements    elements where some δ is nonzero
 * @param keptFraction      per model, the fraction the merge's sparsifier kept ({@code null}: no sparsifier or no merge)
 * @param mergeConflicts    elements where a kept contribution disagreed with the elected sign (−1: no merge or no election)
 * @param mergedDeltaNormSq ‖out − θ0‖² (NaN: no merge)
 * @param mergedToModelSq   ‖out − θ_m‖² per model ({@code null}: no merge)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TensorStatistics(String name, int layer, TensorKind kind, long elements, double baseNormSq,
                               double[] modelNormSq, double[] deltaNormSq, double[] deltaDot, long conflictElements,
                               long activeElements, double[] keptFraction, long mergeConflicts, double mergedDeltaNormSq,
                               double[] mergedToModelSq) {

    /** Number of task models. */
    public int models() {
        return deltaNormSq.length;
    }

    /** ⟨δ_i, δ_j⟩. */
    public double dot(int i, int j) {
        return deltaDot[i * models() + j];
    }

    /** Whether the statistics include the merged output. */
    public boolean merged() {
        return mergedToModelSq != null;
    }
}

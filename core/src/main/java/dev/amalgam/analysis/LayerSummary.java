package dev.amalgam.analysis;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * Statistics of a group of tensors (one layer and kind, one layer, or the whole model), from
 * the sums of its tensors' {@link TensorStatistics}: norms are square roots of summed squares,
 * so a group behaves like its tensors concatenated into one vector.
 *
 * @param layer              layer index, −1 for tensors outside layers, −2 for the whole model
 * @param kind               the kind, or {@code null} for all kinds
 * @param elements           elements in the group
 * @param relativeNorm       per model ‖δ_m‖ / ‖θ0‖ (NaN when ‖θ0‖ = 0)
 * @param cosine             row-major T×T cosine similarity of the task vectors (NaN for a zero δ)
 * @param conflictRate       fraction of elements where the task vectors' signs conflict
 * @param keptFraction       per model, the fraction kept by the merge's sparsifier ({@code null}: none)
 * @param mergeConflictRate  fraction of elements where a kept contribution disagreed with the elected sign (NaN: none)
 * @param changeVsBase       ‖out − θ0‖ / ‖θ0‖ (NaN: no merge)
 * @param changeVsModel      per model ‖out − θ_m‖ / ‖θ_m‖ ({@code null}: no merge)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LayerSummary(int layer, TensorKind kind, long elements, double[] relativeNorm, double[] cosine,
                           double conflictRate, double[] keptFraction, double mergeConflictRate, double changeVsBase,
                           double[] changeVsModel) {

    /** The whole-model group's layer value. */
    public static final int WHOLE_MODEL = -2;

    /** Cosine similarity of models i and j. */
    public double cosine(int i, int j) {
        return cosine[i * relativeNorm.length + j];
    }
}

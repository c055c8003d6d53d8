package dev.amalgam.kernel;

/**
 * What a {@link GtaPass} reports besides its output.
 *
 * @param kept             per model, elements that survived sparsification
 * @param keepTies         per model, elements whose key equals the keep threshold's key (before
 *                         the tie budget), so a model-wide tie budget can be carried on
 * @param signConflicts    elements where at least one nonzero contribution disagreed with the
 *                         elected sign
 * @param nonFiniteInput   -1 if every input was finite; 0 for the base; 1 + position in
 *                         {@code models} for a model (first found)
 * @param nonFiniteOutputs count of non-finite output elements (after dtype conversion)
 *
 * <p>When {@code nonFiniteInput ≥ 0} the pass failed: every other count is zero and the
 * output's content is unspecified (a fused backend finds the NaN while writing).
 */
public record GtaResult(long[] kept, long[] keepTies, long signConflicts, int nonFiniteInput, long nonFiniteOutputs) {
}

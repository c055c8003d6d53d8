package dev.amalgam.kernel;

/**
 * @param nonFiniteInput   -1 if all inputs were finite, else the position of the first input with NaN/Inf
 * @param nonFiniteOutputs count of non-finite output elements
 *
 * <p>When {@code nonFiniteInput ≥ 0} the output's content is unspecified and
 * {@code nonFiniteOutputs} is zero.
 */
public record LinearResult(int nonFiniteInput, long nonFiniteOutputs) {
}

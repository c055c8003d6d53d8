package dev.amalgam.kernel;

/**
 * @param nonFiniteInput   -1 if all inputs were finite, else the position of the first input with NaN/Inf
 * @param nonFiniteOutputs count of non-finite output elements
 */
public record LinearResult(int nonFiniteInput, long nonFiniteOutputs) {
}

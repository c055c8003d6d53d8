/**
 * SVD kernels on heap matrices ({@link dev.amalgam.kernel.svd.FloatMatrix}): thin, truncated,
 * polar factors and products, with a double-precision reference.
 */
package dev.amalgam.kernel.svd;

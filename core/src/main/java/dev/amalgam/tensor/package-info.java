/**
 * Tensors: {@link dev.amalgam.tensor.TensorInfo} headers, {@link dev.amalgam.tensor.Tensor}
 * little-endian views over memory segments, dtypes and their conversions.
 */
package dev.amalgam.tensor;

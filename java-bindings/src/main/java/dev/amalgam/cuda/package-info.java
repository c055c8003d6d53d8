/**
 * The CUDA backend: {@link dev.amalgam.cuda.CudaKernelProvider} (backend name {@code cuda}),
 * the kernels on host memory ({@link dev.amalgam.cuda.CudaKernels},
 * {@link dev.amalgam.cuda.CudaSvdKernels}) and on device memory the caller owns
 * ({@link dev.amalgam.cuda.DeviceTensor}, {@link dev.amalgam.cuda.DeviceGtaPass},
 * {@link dev.amalgam.cuda.DeviceLinearPass}). Thread-safety is stated per type.
 */
package dev.amalgam.cuda;

/**
 * The kernel SPI: {@link dev.amalgam.kernel.KernelBackend} (selection, the fused GTA pass,
 * linear, SVD), its inputs and results, the providers and their selection
 * ({@link dev.amalgam.kernel.KernelBackends}), and the pure-Java reference that is the oracle.
 */
package dev.amalgam.kernel;

package dev.amalgam.kernel;

/** Rescaling of a sparsified δ (§1.9). */
public enum RescaleMode {
    /** No rescale. */
    NONE,
    /** Multiply kept values by Σ|δ| / Σ|δ̂| (double), unless either is below 1e-7. */
    L1,
    /** DARE only: divide kept values by the density. */
    INVERSE_DENSITY
}

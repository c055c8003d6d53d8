package dev.amalgam.config;

/**
 * {@code density_scope} of {@code ties}: where the magnitude trim's k is counted (spec §3).
 *
 * <p>Thread-safety: immutable.
 */
public enum DensityScope {
    /** k = density × the tensor's element count, per tensor (mergekit's behaviour). */
    TENSOR,
    /** k = density × the model's merged element count, one threshold over all its tensors. */
    MODEL;

    /** @return the YAML spelling ({@code tensor}, {@code model}) */
    public String configName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

package dev.amalgam.merge;

/** How a GTA method sparsifies each unweighted δ before weighting (§1.4 step 2). */
public enum SparsifierKind {
    /** δ kept whole (task_arithmetic). */
    NONE,
    /** Magnitude trim to the k largest |δ| (ties, §1.6). */
    MAGNITUDE,
    /** Philox-keyed Bernoulli drop (dare_*, §1.9). */
    BERNOULLI,
    /** Breadcrumbs band: drop the largest outliers and the smallest (§7). */
    BAND
}

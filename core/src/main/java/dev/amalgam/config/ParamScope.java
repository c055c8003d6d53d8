package dev.amalgam.config;

/** Where a parameter may be set (spec §1.1 lookup). */
public enum ParamScope {
    /** {@code *} in spec §2: {@code models[i].parameters}, then top-level {@code parameters}, then the default. */
    PER_MODEL,
    /** Top-level {@code parameters}, then the default; setting it on a model is an error. */
    GLOBAL
}

package dev.amalgam.config;

/** The value type of a parameter, checked at every leaf of its value (spec §1.1 value forms). */
public enum ParamKind {
    /** A number (integer or float); scalars, gradients and filtered lists. */
    NUMBER,
    /** A whole number (e.g. {@code random_seed}); scalar only. */
    INTEGER,
    /** true/false; scalars, index gradients and filtered lists. */
    BOOL,
    /** One string of a fixed set of choices; scalars, index gradients and filtered lists. */
    CHOICE,
    /** A free string (e.g. a file path); scalars and filtered lists. */
    STRING,
    /** A literal list of strings ({@code exclude}); never a gradient. */
    STRING_LIST,
    /** A literal mapping ({@code lines}); never a gradient. */
    MAPPING
}

package dev.amalgam.config;

/** What a merge method does with {@code base_model} (spec §2 "base model" column). */
public enum BaseModelRule {
    /** Must be set; task vectors are taken against it. */
    REQUIRED,
    /** May be set (e.g. nuslerp's third model, multislerp's origin). */
    OPTIONAL,
    /** Not a reference point; see {@link MethodSpec#baseAddedAsInput()} for whether a set base becomes an input. */
    UNUSED,
    /** Must not be set (passthrough). */
    NONE
}

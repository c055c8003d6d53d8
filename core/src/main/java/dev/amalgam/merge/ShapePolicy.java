package dev.amalgam.merge;

/** How a method treats embeddings whose vocabulary differs between models (§1.2). */
public enum ShapePolicy {
    /** Every shape must match. */
    EXACT,
    /** GTA family: a larger non-base embedding is cropped to the base; a smaller one is an error. */
    CROP_TO_BASE,
    /** linear, slerp, …: every input is cropped to the common [min rows, min cols]. */
    CROP_TO_COMMON
}

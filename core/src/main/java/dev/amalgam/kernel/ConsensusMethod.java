package dev.amalgam.kernel;

/** Sign election (§1.7); NONE = no election, every contribution is summed. */
public enum ConsensusMethod {
    /** No election: every contribution is summed. */
    NONE,
    /** The sign of the sum of the contributions (a zero sum elects +). */
    SUM,
    /** The sign of the count of positive minus negative contributions. */
    COUNT
}

package dev.amalgam.kernel;

/** Sign election (§1.7); NONE = no election, every contribution is summed. */
public enum ConsensusMethod {
    NONE, SUM, COUNT
}

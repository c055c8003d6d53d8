package dev.amalgam.merge;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.config.ModelRef;

/**
 * One opened input checkpoint.
 *
 * @param ref        the model as the config names it (path as written, model index, base or not)
 * @param checkpoint its tensors (a memory-mapped folder, in-memory tensors, …)
 */
public record MergeInput(ModelRef ref, Checkpoint checkpoint) {

    /** The path as written in the config, for messages. */
    public String label() {
        return ref.path();
    }

    /** 0-based position in {@code models:}, or -1 for a base that is not listed. */
    public int modelIndex() {
        return ref.index();
    }

    /**
     * The same as {@link #checkpoint()}; the name from when inputs could only be folders.
     *
     * @return the checkpoint
     * @deprecated use {@link #checkpoint()}
     */
    @Deprecated
    public Checkpoint folder() {
        return checkpoint;
    }

    @Override
    public String toString() {
        return label();
    }
}

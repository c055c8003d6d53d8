package dev.amalgam.merge;

import dev.amalgam.config.ModelRef;
import dev.amalgam.io.ModelFolder;

/**
 * One opened input checkpoint.
 *
 * @param ref    the model as the config names it (path as written, model index, base or not)
 * @param folder its tensors (memory-mapped, lazy)
 */
public record MergeInput(ModelRef ref, ModelFolder folder) {

    /** The path as written in the config, for messages. */
    public String label() {
        return ref.path();
    }

    /** 0-based position in {@code models:}, or -1 for a base that is not listed. */
    public int modelIndex() {
        return ref.index();
    }

    @Override
    public String toString() {
        return label();
    }
}

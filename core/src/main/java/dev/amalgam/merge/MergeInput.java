package dev.amalgam.merge;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.config.ModelRef;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * One opened input checkpoint.
 *
 * @param ref        the model as the config names it (path as written, model index, base or not)
 * @param checkpoint its tensors (a memory-mapped folder, in-memory tensors, …)
 */
public record MergeInput(ModelRef ref, Checkpoint checkpoint) {

    /**
     * Tensor {@code name} as the merge pass reads it: from a model folder, through the file into
     * the folder's staging buffer ({@link ModelFolder#readTensor}), valid until the next call on
     * this input, so that an input changed by another process fails the merge naming the file
     * instead of crashing the JVM; from any other checkpoint, its view.
     *
     * @throws UncheckedIOException wrapping the read failure, e.g. {@link dev.amalgam.io.InputChangedException}
     */
    public Tensor tensor(String name) {
        try {
            return checkpoint instanceof ModelFolder folder ? folder.readTensor(name) : checkpoint.tensor(name);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

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

package dev.amalgam.config;

import java.nio.file.Path;
import java.util.Objects;

/**
 * One input model of a merge: its model index (spec §0: 0-based position in {@code models:} as
 * written; {@link #NO_INDEX} for a base that is set but not listed), its path as written (for
 * messages) and resolved against the config file's directory.
 *
 * @param index        model index m, or {@link #NO_INDEX} for an implicitly added base
 * @param path         the path as written in the YAML
 * @param resolvedPath absolute, normalized local folder
 * @param base         true for the {@code base_model}
 * @param keyPath      where its parameters live in the YAML, e.g. {@code models[1]},
 *                     {@code slices[0].sources[1]} or {@code base_model}
 */
public record ModelRef(int index, String path, Path resolvedPath, boolean base, String keyPath) {

    /** Index of an implicitly added base model (not listed in {@code models}). */
    public static final int NO_INDEX = -1;

    public ModelRef {
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(resolvedPath, "resolvedPath");
        if (index < NO_INDEX) throw new IllegalArgumentException("bad model index " + index);
        if (index == NO_INDEX && !base) throw new IllegalArgumentException("only the base may be unlisted");
        if (keyPath == null) keyPath = index != NO_INDEX ? "models[" + index + "]" : "base_model";
    }

    /** A model of {@code models:} (or an unlisted base). */
    public ModelRef(int index, String path, Path resolvedPath, boolean base) {
        this(index, path, resolvedPath, base, null);
    }

    /** True if the model is listed in {@code models} (it has a model index). */
    public boolean listed() {
        return index != NO_INDEX;
    }

    @Override
    public String toString() {
        return path + " (" + keyPath + ")";
    }
}

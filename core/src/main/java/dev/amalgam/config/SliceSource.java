package dev.amalgam.config;

import java.util.Objects;

/**
 * One source of an output slice (spec §16.2): layers {@code [layerStart, layerEnd)} of a model.
 *
 * @param model      the model; its index is the position in the slice's {@code sources}
 * @param layerStart first layer (inclusive)
 * @param layerEnd   end layer (exclusive)
 */
public record SliceSource(ModelRef model, int layerStart, int layerEnd) {

    /** Checks 0 &lt;= layerStart &lt; layerEnd. */
    public SliceSource {
        Objects.requireNonNull(model, "model");
        if (layerStart < 0 || layerEnd <= layerStart) {
            throw new IllegalArgumentException("bad layer_range [" + layerStart + ", " + layerEnd + ")");
        }
    }

    /** L = layerEnd − layerStart. */
    public int layerCount() {
        return layerEnd - layerStart;
    }

    @Override
    public String toString() {
        return model.path() + "[" + layerStart + ", " + layerEnd + ")";
    }
}

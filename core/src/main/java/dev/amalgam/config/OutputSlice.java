package dev.amalgam.config;

import java.util.List;
import java.util.Optional;

/**
 * One entry of {@code slices:} (spec §16.2): sources of equal length L whose layer k becomes
 * output layer {@code firstOutputLayer + k}.
 *
 * @param index            position in {@code slices}
 * @param sources          the sources; a source's model index is its position here
 * @param base             the slice's {@code base_model}, else the top-level one; null if neither
 * @param firstOutputLayer output layers of the slices before this one
 * @param parameters       lookup source → slice → top level → default
 */
public record OutputSlice(int index, List<SliceSource> sources, ModelRef base, int firstOutputLayer,
                          ParameterResolver parameters) {

    /** Copies the sources; a slice needs at least one. */
    public OutputSlice {
        sources = List.copyOf(sources);
        if (sources.isEmpty()) throw new IllegalArgumentException("a slice needs a source");
    }

    /** L, the number of layers the slice outputs. */
    public int layerCount() {
        return sources.getFirst().layerCount();
    }

    /** The slice's base model, if any. */
    public Optional<ModelRef> baseModel() {
        return Optional.ofNullable(base);
    }

    /** The YAML key of this slice, e.g. {@code slices[2]}. */
    public String keyPath() {
        return "slices[" + index + "]";
    }
}

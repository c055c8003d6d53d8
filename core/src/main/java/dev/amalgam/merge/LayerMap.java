package dev.amalgam.merge;

import java.util.List;

/**
 * Where each output layer of a {@code slices:} merge comes from (spec §16.2): what
 * {@code --dry-run} prints and what rebuilds per-layer lists in {@code config.json}.
 *
 * @param layers one row per output layer, in order
 */
public record LayerMap(List<Layer> layers) {

    public LayerMap {
        layers = List.copyOf(layers);
    }

    /** One input layer behind an output layer. */
    public record Source(MergeInput model, int layer) {
        @Override
        public String toString() {
            return model.label() + ":" + layer;
        }
    }

    /**
     * @param output  output layer index
     * @param slice   position of its slice in {@code slices}
     * @param sources the input layer of each source, in source order
     */
    public record Layer(int output, int slice, List<Source> sources) {
        public Layer {
            sources = List.copyOf(sources);
        }
    }

    public int size() {
        return layers.size();
    }

    /** The map in words, one line per output layer. */
    public String describe() {
        StringBuilder sb = new StringBuilder("output layers: ").append(layers.size()).append('\n');
        for (Layer l : layers) {
            sb.append("  layer ").append(l.output()).append(" <- slices[").append(l.slice()).append("]: ");
            for (int i = 0; i < l.sources().size(); i++) {
                if (i > 0) sb.append(", ");
                sb.append(l.sources().get(i));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}

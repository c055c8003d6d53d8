package dev.amalgam.config;

import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * Layer position t of a tensor (spec §1.1): a tensor is in layer i if its name contains
 * {@code <c>.<i>.} with c ∈ {layers, h, blocks, block, layer} as a whole dotted component (first
 * match from the left, e.g. {@code model.layers.3.mlp.up_proj.weight} → 3). With n = the number of
 * distinct layer indices in the reference name set (the base model's), t = i/(n−1), or 1 if n = 1.
 * Tensors outside layers (embeddings, final norm, lm_head) get t = 0.
 *
 * <p>Implementation notes: immutable; {@link #t} is a string scan with no allocation beyond the
 * digit parse. Indices need not be contiguous; t uses the count of distinct indices, as mergekit.
 */
public final class LayerPosition {

    private static final Set<String> CONTAINERS = Set.of("layers", "h", "blocks", "block", "layer");

    private final int layerCount;

    private LayerPosition(int layerCount) {
        this.layerCount = layerCount;
    }

    /** Counts the distinct layer indices among {@code tensorNames} (the base model's, else the first model's). */
    public static LayerPosition of(Collection<String> tensorNames) {
        Set<Integer> indices = new HashSet<>();
        for (String name : tensorNames) {
            int i = layerIndex(name);
            if (i >= 0) indices.add(i);
        }
        return new LayerPosition(indices.size());
    }

    /** A layer position for a known number of layers. */
    public static LayerPosition ofLayerCount(int layerCount) {
        if (layerCount < 0) throw new IllegalArgumentException("layerCount < 0: " + layerCount);
        return new LayerPosition(layerCount);
    }

    /** The number of distinct layer indices. */
    public int layerCount() {
        return layerCount;
    }

    /** t ∈ [0, 1] for names of the reference set; 0 outside layers, 1 for every layer of a single-layer model. */
    public double t(String tensorName) {
        int i = layerIndex(tensorName);
        if (i < 0) return 0.0;
        if (layerCount <= 1) return 1.0;
        return (double) i / (layerCount - 1);
    }

    /** The layer index of a tensor name, or −1 if it is outside layers. */
    public static int layerIndex(String name) {
        long span = layerDigits(name);
        return span < 0 ? -1 : Integer.parseInt(name, (int) (span >>> 32), (int) span, 10);
    }

    /**
     * Where the layer index of a tensor name is: {@code (start << 32) | end} of its digits, or −1
     * outside layers. The prefix {@code P C.} is {@code name.substring(0, start)}, the rest R
     * after {@code end + 1}.
     */
    public static long layerDigits(String name) {
        int start = 0;
        int n = name.length();
        while (start < n) {
            int end = name.indexOf('.', start);
            if (end < 0) return -1; // last component: no "<c>.<i>." can start here
            if (CONTAINERS.contains(name.substring(start, end))) {
                int digitsEnd = end + 1;
                while (digitsEnd < n && isAsciiDigit(name.charAt(digitsEnd))) digitsEnd++;
                int digits = digitsEnd - end - 1;
                if (digits > 0 && digits <= 9 && digitsEnd < n && name.charAt(digitsEnd) == '.') {
                    return ((long) (end + 1) << 32) | digitsEnd;
                }
            }
            start = end + 1;
        }
        return -1;
    }

    private static boolean isAsciiDigit(char c) {
        return c >= '0' && c <= '9';
    }
}

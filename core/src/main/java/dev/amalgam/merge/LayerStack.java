package dev.amalgam.merge;

import dev.amalgam.config.LayerPosition;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A model's layer stack as read from its tensor names (spec §16.1): layer tensors are
 * {@code P C.i.R} with one prefix {@code P C.} and indices 0..n−1 without gaps; the other tensors
 * are post tensors (final norm, LM head: {@link #POST_PREFIXES}) or pre tensors (embeddings).
 *
 * <p>Implementation notes: immutable; built from names only (headers), so it costs nothing on
 * big models. The container rule is {@link LayerPosition}'s, so both agree on what a layer is.
 */
public final class LayerStack {

    /** Name prefixes of the tensors after the last layer; extend as architectures need. */
    public static final List<String> POST_PREFIXES = List.of("lm_head.", "embed_out.", "model.norm.", "norm.",
            "transformer.ln_f.", "ln_f.", "model.final_layernorm.", "gpt_neox.final_layer_norm.", "final_layer_norm.",
            "model.decoder.final_layer_norm.");

    private final String prefix;
    private final TreeMap<Integer, List<String>> restsByLayer;
    private final List<String> pre;
    private final List<String> post;

    private LayerStack(String prefix, TreeMap<Integer, List<String>> restsByLayer, List<String> pre, List<String> post) {
        this.prefix = prefix;
        this.restsByLayer = restsByLayer;
        this.pre = List.copyOf(pre);
        this.post = List.copyOf(post);
    }

    /**
     * @param model label for messages
     * @throws MergeException for two numbered stacks, a gap in the indices, or no stack at all
     */
    public static LayerStack of(String model, Collection<String> tensorNames) {
        String prefix = null;
        TreeMap<Integer, List<String>> rests = new TreeMap<>();
        List<String> pre = new ArrayList<>(), post = new ArrayList<>();
        for (String name : new TreeSet<>(tensorNames)) {
            long span = LayerPosition.layerDigits(name);
            if (span < 0) {
                (isPost(name) ? post : pre).add(name);
                continue;
            }
            int start = (int) (span >>> 32), end = (int) span;
            String p = name.substring(0, start);
            if (prefix == null) {
                prefix = p;
            } else if (!prefix.equals(p)) {
                throw new MergeException("model " + model + " has two numbered layer stacks, `" + prefix + "N.` and `" + p
                        + "N.`; slices need a single stack");
            }
            rests.computeIfAbsent(Integer.parseInt(name, start, end, 10), k -> new ArrayList<>()).add(name.substring(end + 1));
        }
        if (prefix == null) {
            throw new MergeException("model " + model + " has no numbered layer stack (tensors such as model.layers.0.…); "
                    + "slices need one");
        }
        int i = 0;
        for (int layer : rests.keySet()) {
            if (layer != i) {
                throw new MergeException("model " + model + ": layer " + i + " of `" + prefix + "N.` is missing (layers "
                        + rests.firstKey() + ".." + rests.lastKey() + " found)");
            }
            i++;
        }
        return new LayerStack(prefix, rests, pre, post);
    }

    static boolean isPost(String name) {
        for (String p : POST_PREFIXES) if (name.startsWith(p)) return true;
        return false;
    }

    /** {@code P C.}, e.g. {@code model.layers.}. */
    public String prefix() {
        return prefix;
    }

    public int layerCount() {
        return restsByLayer.size();
    }

    /** The rests R of layer {@code i}'s tensors, in name order. */
    public List<String> rests(int layer) {
        return restsByLayer.get(layer);
    }

    /** The name of layer {@code i}'s tensor with rest R. */
    public String name(int layer, String rest) {
        return prefix + layer + "." + rest;
    }

    /** Non-layer tensors before the stack (embeddings), in name order. */
    public List<String> pre() {
        return pre;
    }

    /** Non-layer tensors after the stack (final norm, LM head), in name order. */
    public List<String> post() {
        return post;
    }
}

package dev.amalgam.analysis;

import dev.amalgam.merge.EmbeddingNames;
import java.util.Locale;

/** What part of a network a tensor belongs to, read from its name (for grouping in reports). */
public enum TensorKind {
    ATTENTION("attention"),
    MLP("MLP"),
    NORM("norms"),
    EMBEDDING("embeddings"),
    OTHER("other");

    private final String label;

    TensorKind(String label) {
        this.label = label;
    }

    /** The name shown in reports. */
    public String label() {
        return label;
    }

    /** Classifies a tensor name of the common decoder and encoder layouts. */
    public static TensorKind of(String tensorName) {
        if (EmbeddingNames.isEmbedding(tensorName) || tensorName.contains("embed") || tensorName.contains("wpe.")) {
            return EMBEDDING;
        }
        String n = tensorName.toLowerCase(Locale.ROOT);
        // Norms first: "post_attention_layernorm" is a norm, not attention.
        if (n.contains("norm") || n.contains(".ln_") || n.contains("ln_f.") || n.matches(".*\\.ln\\d*\\..*")) return NORM;
        if (n.contains("attn") || n.contains("attention") || n.contains("q_proj") || n.contains("k_proj")
                || n.contains("v_proj") || n.contains("o_proj") || n.contains("qkv")) {
            return ATTENTION;
        }
        if (n.contains("mlp") || n.contains("ffn") || n.contains("feed_forward") || n.contains("gate_proj")
                || n.contains("up_proj") || n.contains("down_proj") || n.contains(".fc") || n.contains("experts")) {
            return MLP;
        }
        return OTHER;
    }
}

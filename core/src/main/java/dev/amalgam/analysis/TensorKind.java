package dev.amalgam.analysis;

import dev.amalgam.merge.EmbeddingNames;
import java.util.Locale;

/** What part of a network a tensor belongs to, read from its name (for grouping in reports). */
public enum TensorKind {
    /** Attention projections ({@code self_attn}, {@code q_proj}, {@code qkv}, …). */
    ATTENTION("attention"),
    /** Feed-forward blocks ({@code mlp}, {@code gate_proj}, {@code up_proj}, {@code down_proj}, experts, …). */
    MLP("MLP"),
    /** Normalisation weights and biases (any name with {@code norm} or {@code ln_}). */
    NORM("norms"),
    /** Token and position embeddings and the LM head. */
    EMBEDDING("embeddings"),
    /** Anything else. */
    OTHER("other");

    private final String label;

    TensorKind(String label) {
        this.label = label;
    }

    /** @return the name shown in reports */
    public String label() {
        return label;
    }

    /**
     * Classifies a tensor name of the common decoder and encoder layouts.
     *
     * @param tensorName the tensor's name
     * @return its kind
     */
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

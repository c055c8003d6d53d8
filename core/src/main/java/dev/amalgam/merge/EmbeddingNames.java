package dev.amalgam.merge;

import java.util.List;

/**
 * Which tensors are the input token embedding or the LM head (mergekit's {@code is_embed}):
 * their vocabulary dimension may differ between models (§1.2). mergekit reads this from
 * architecture templates; the names below cover the standard decoders.
 */
public final class EmbeddingNames {

    private static final List<String> PATTERNS = List.of(
            "embed_tokens.weight", "lm_head.weight", "wte.weight", "word_embeddings.weight",
            "embed_out.weight", "tok_embeddings.weight", "embed_in.weight");

    private EmbeddingNames() {
    }

    public static boolean isEmbedding(String tensorName) {
        for (String p : PATTERNS) {
            if (tensorName.equals(p) || tensorName.endsWith("." + p)) return true;
        }
        return tensorName.equals("output.weight");
    }
}

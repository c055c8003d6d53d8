package dev.amalgam.source.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the output vocabulary is built (mergekit's {@code TokenizerConfig},
 * {@code mergekit/tokenizer/config.py}): {@code tokenizer_source: union}, or a
 * {@code tokenizer:} section with {@code source} ({@code union} (default), {@code base} or a
 * model as written), {@code tokens} (per-token embedding sources) and
 * {@code pad_to_multiple_of}.
 *
 * @param source          {@code union}, {@code base}, or a model value as written in the config
 * @param tokens          per-token settings, by token
 * @param padToMultipleOf pad the embedding rows to a multiple of this (empty: no padding)
 */
public record TokenizerSpec(String source, Map<String, TokenSource> tokens, Optional<Integer> padToMultipleOf) {

    /** Keys of the {@code tokenizer:} section. */
    public static final List<String> KEYS = List.of("source", "tokens", "pad_to_multiple_of");

    /**
     * Where one token's embedding row comes from when a model lacks it (or always, with
     * {@code force}). Exactly one of the kinds: {@code model} (that model's row of the token),
     * {@code zero}, or {@code model_token} ({@code model}'s row of {@code token} or {@code tokenId}).
     *
     * @param model   a model as written, or null for zero / default
     * @param zero    a zero row
     * @param token   another token of {@code model}
     * @param tokenId a row of {@code model}
     * @param force   use this source even for models that have the token
     */
    public record TokenSource(String model, boolean zero, String token, Integer tokenId, boolean force) {
        /** No source configured: the default rules apply. */
        public boolean isDefault() {
            return model == null && !zero;
        }
    }

    /** Copies {@code tokens} (insertion order kept). */
    public TokenizerSpec {
        tokens = Collections.unmodifiableMap(new LinkedHashMap<>(tokens));
    }

    /** {@code tokenizer_source: union}. */
    public static TokenizerSpec union() {
        return new TokenizerSpec("union", Map.of(), Optional.empty());
    }

    /**
     * Parses a {@code tokenizer:} section.
     *
     * @param node the section
     * @return the spec
     * @throws IllegalArgumentException whose message starts with the key path below {@code tokenizer}
     *                                  (e.g. {@code tokens.<t>.source: …})
     */
    public static TokenizerSpec parse(JsonNode node) {
        if (!node.isObject()) throw new IllegalArgumentException(": must be a mapping with keys " + String.join(", ", KEYS));
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) throw new IllegalArgumentException("." + k + ": unknown key `" + k + "` in `tokenizer`; valid keys: " + String.join(", ", KEYS));
        }
        String source = "union";
        JsonNode s = node.get("source");
        if (s != null && !s.isNull()) {
            if (!s.isTextual() || s.asText().isBlank()) throw new IllegalArgumentException(".source: must be union, base or a model");
            source = s.asText();
        }
        Map<String, TokenSource> tokens = new LinkedHashMap<>();
        JsonNode t = node.get("tokens");
        if (t != null && !t.isNull()) {
            if (!t.isObject()) throw new IllegalArgumentException(".tokens: must be a mapping of token to {source, force}");
            for (Iterator<Map.Entry<String, JsonNode>> it = t.fields(); it.hasNext(); ) {
                var e = it.next();
                tokens.put(e.getKey(), token(e.getKey(), e.getValue()));
            }
        }
        Optional<Integer> pad = Optional.empty();
        JsonNode p = node.get("pad_to_multiple_of");
        if (p != null && !p.isNull()) {
            if (!p.canConvertToInt() || !p.isIntegralNumber() || p.asInt() <= 0) {
                throw new IllegalArgumentException(".pad_to_multiple_of: must be a positive integer, got " + p);
            }
            pad = Optional.of(p.asInt());
        }
        return new TokenizerSpec(source, tokens, pad);
    }

    private static TokenSource token(String tok, JsonNode n) {
        String where = ".tokens." + tok;
        if (!n.isObject()) throw new IllegalArgumentException(where + ": must be a mapping {source, force}");
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("source") && !k.equals("force")) {
                throw new IllegalArgumentException(where + "." + k + ": unknown key `" + k + "`; valid keys: source, force");
            }
        }
        boolean force = false;
        if (n.has("force")) {
            if (!n.get("force").isBoolean()) throw new IllegalArgumentException(where + ".force: must be true or false");
            force = n.get("force").asBoolean();
        }
        JsonNode s = n.get("source");
        if (s == null || s.isNull()) return new TokenSource(null, false, null, null, force);
        if (s.isTextual()) return new TokenSource(s.asText(), false, null, null, force);
        if (!s.isObject() || !s.path("kind").isTextual()) {
            throw new IllegalArgumentException(where + ".source: must be a model or {kind: zero | model_token, ...}");
        }
        switch (s.get("kind").asText()) {
            case "zero" -> {
                return new TokenSource(null, true, null, null, force);
            }
            case "model_token" -> {
                if (!s.path("model").isTextual()) throw new IllegalArgumentException(where + ".source.model: is required for model_token");
                boolean hasTok = s.has("token"), hasId = s.has("token_id");
                if (hasTok == hasId) throw new IllegalArgumentException(where + ".source: give exactly one of token and token_id");
                if (hasId && (!s.get("token_id").canConvertToInt() || s.get("token_id").asInt() < 0)) {
                    throw new IllegalArgumentException(where + ".source.token_id: must be a non-negative integer");
                }
                return new TokenSource(s.get("model").asText(), false, hasTok ? s.get("token").asText() : null,
                        hasId ? s.get("token_id").asInt() : null, force);
            }
            default -> throw new IllegalArgumentException(where + ".source.kind: must be zero or model_token, got "
                    + s.get("kind").asText());
        }
    }
}

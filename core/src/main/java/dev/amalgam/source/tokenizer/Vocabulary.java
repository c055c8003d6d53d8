package dev.amalgam.source.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.io.AmalgamIOException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model's tokenizer vocabulary as {@code transformers}' {@code get_vocab()} sees it: token
 * to id for the model vocabulary ({@code tokenizer.json}'s {@code model.vocab} for BPE,
 * WordLevel and WordPiece, its position for Unigram; else {@code vocab.json} or
 * {@code vocab.txt}) plus the added tokens ({@code tokenizer.json}'s {@code added_tokens},
 * {@code tokenizer_config.json}'s {@code added_tokens_decoder}, {@code added_tokens.json}),
 * keeping each added token's settings. Ids at or above the model's {@code vocab_size} are
 * dropped (mergekit's {@code get_stripped_tokenizer}).
 *
 * @param ids   token to id, in id order
 * @param added the added tokens' settings ({@code content}, {@code special}, …) by token, in id order
 */
public record Vocabulary(Map<String, Integer> ids, Map<String, ObjectNode> added) {

    static final ObjectMapper JSON = new ObjectMapper();

    /** Wraps both maps unmodifiable (their order kept). */
    public Vocabulary {
        ids = Collections.unmodifiableMap(ids);
        added = Collections.unmodifiableMap(added);
    }

    /**
     * Reads the vocabulary of a model folder.
     *
     * @param folder    the model folder
     * @param vocabSize ids at or above it are dropped; {@code Integer.MAX_VALUE} for none
     * @return the vocabulary
     * @throws IOException naming the file if there is no tokenizer or it is malformed
     */
    public static Vocabulary read(Path folder, int vocabSize) throws IOException {
        Map<Integer, String> byId = new TreeMap<>();
        Map<String, ObjectNode> added = new LinkedHashMap<>();
        Path tj = folder.resolve("tokenizer.json");
        Path where = tj;
        if (Files.isRegularFile(tj)) {
            JsonNode root = json(tj);
            JsonNode model = root.path("model");
            String type = model.path("type").asText("");
            JsonNode vocab = model.path("vocab");
            if (type.equals("Unigram") || vocab.isArray()) {
                for (int i = 0; i < vocab.size(); i++) {
                    JsonNode e = vocab.get(i);
                    if (!e.isArray() || e.isEmpty() || !e.get(0).isTextual()) throw bad(tj, "model.vocab[" + i + "] is not [piece, score]");
                    put(byId, i, e.get(0).asText(), tj);
                }
            } else if (vocab.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                    var e = it.next();
                    if (!e.getValue().canConvertToInt()) throw bad(tj, "model.vocab['" + e.getKey() + "'] is not an id");
                    put(byId, e.getValue().asInt(), e.getKey(), tj);
                }
            } else {
                throw bad(tj, "model.vocab is missing (model type " + type + ")");
            }
            for (JsonNode a : root.path("added_tokens")) {
                if (!a.path("id").canConvertToInt() || !a.path("content").isTextual()) throw bad(tj, "an added_tokens entry lacks id or content");
                addAdded(byId, added, a.get("id").asInt(), (ObjectNode) a.deepCopy(), tj);
            }
        } else if (Files.isRegularFile(folder.resolve("vocab.json"))) {
            where = folder.resolve("vocab.json");
            JsonNode v = json(where);
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                var e = it.next();
                if (!e.getValue().canConvertToInt()) throw bad(where, "'" + e.getKey() + "' has no integer id");
                put(byId, e.getValue().asInt(), e.getKey(), where);
            }
        } else if (Files.isRegularFile(folder.resolve("vocab.txt"))) {
            where = folder.resolve("vocab.txt");
            List<String> lines = Files.readAllLines(where, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) put(byId, i, lines.get(i), where);
        } else {
            throw new AmalgamIOException(folder, "no tokenizer.json, vocab.json or vocab.txt: cannot merge its vocabulary");
        }
        Path tc = folder.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tc)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = json(tc).path("added_tokens_decoder").fields(); it.hasNext(); ) {
                var e = it.next();
                int id;
                try {
                    id = Integer.parseInt(e.getKey());
                } catch (NumberFormatException ex) {
                    throw bad(tc, "added_tokens_decoder key '" + e.getKey() + "' is not an id");
                }
                if (!e.getValue().path("content").isTextual()) throw bad(tc, "added_tokens_decoder['" + id + "'] lacks content");
                ObjectNode info = ((ObjectNode) e.getValue()).deepCopy();
                if (!added.containsKey(info.get("content").asText())) addAdded(byId, added, id, info, tc);
            }
        }
        Path at = folder.resolve("added_tokens.json");
        if (Files.isRegularFile(at)) {
            for (Iterator<Map.Entry<String, JsonNode>> it = json(at).fields(); it.hasNext(); ) {
                var e = it.next();
                if (added.containsKey(e.getKey())) continue;
                ObjectNode info = JSON.createObjectNode().put("content", e.getKey()).put("special", false);
                addAdded(byId, added, e.getValue().asInt(), info, at);
            }
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (var e : byId.entrySet()) {
            if (e.getKey() < vocabSize && e.getKey() >= 0) ids.putIfAbsent(e.getValue(), e.getKey());
        }
        Map<String, ObjectNode> keptAdded = new LinkedHashMap<>();
        added.forEach((tok, info) -> {
            if (ids.containsKey(tok)) keptAdded.put(tok, info);
        });
        if (ids.isEmpty()) throw bad(where, "the vocabulary is empty");
        return new Vocabulary(ids, keptAdded);
    }

    private static void addAdded(Map<Integer, String> byId, Map<String, ObjectNode> added, int id, ObjectNode info, Path file)
            throws IOException {
        String tok = info.get("content").asText();
        info.remove("id");
        String prev = byId.get(id);
        if (prev != null && !prev.equals(tok)) throw bad(file, "id " + id + " is both '" + prev + "' and '" + tok + "'");
        byId.put(id, tok);
        added.putIfAbsent(tok, info);
    }

    private static void put(Map<Integer, String> byId, int id, String tok, Path file) throws IOException {
        if (id < 0) throw bad(file, "token '" + tok + "' has a negative id");
        String prev = byId.putIfAbsent(id, tok);
        if (prev != null && !prev.equals(tok)) throw bad(file, "id " + id + " is both '" + prev + "' and '" + tok + "'");
    }

    static JsonNode json(Path file) throws IOException {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || !n.isObject()) throw bad(file, "not a JSON object");
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad(file, "invalid JSON: " + e.getOriginalMessage());
        }
    }

    static AmalgamIOException bad(Path file, String message) {
        return new AmalgamIOException(file, message);
    }

    /** The number of tokens. */
    public int size() {
        return ids.size();
    }

    /** Whether the ids are exactly 0..size−1. */
    public boolean contiguous() {
        int expect = 0;
        for (int id : ids.values()) if (id != expect++) return false;
        return true;
    }
}

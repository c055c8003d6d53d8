package dev.amalgam.source.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Writes the output's tokenizer files for a {@link VocabularyMerge} and the output's
 * {@code config.json} with {@code vocab_size} updated, into a scratch folder whose files then
 * replace the copied ones of the same name. The files start from the source model's:
 * {@code tokenizer.json} (ids renumbered to the output's, new tokens appended to
 * {@code added_tokens}, as {@code transformers}' {@code add_tokens} does),
 * {@code tokenizer_config.json} ({@code added_tokens_decoder}), {@code vocab.json} (renumbered;
 * new tokens in {@code added_tokens.json}) and {@code vocab.txt} (new tokens appended).
 */
public final class TokenizerOutput {

    private TokenizerOutput() {
    }

    /**
     * @param merge     the vocabulary merge
     * @param configDir the folder whose {@code config.json} the output copies (the base, else the first model)
     * @param scratch   an empty folder that receives the files
     * @return the files written
     * @throws IOException for unreadable inputs or a failed write
     */
    public static List<Path> write(VocabularyMerge merge, Path configDir, Path scratch) throws IOException {
        List<Path> out = new ArrayList<>();
        Path src = merge.sourceModel().folder();
        Map<String, Integer> vocab = merge.vocabulary();
        Path tj = src.resolve("tokenizer.json");
        if (Files.isRegularFile(tj)) out.add(write(scratch.resolve("tokenizer.json"), tokenizerJson(Vocabulary.json(tj), merge)));
        Path tc = src.resolve("tokenizer_config.json");
        if (Files.isRegularFile(tc) || !merge.addedTokens().isEmpty()) {
            ObjectNode c = Files.isRegularFile(tc) ? (ObjectNode) Vocabulary.json(tc) : Vocabulary.JSON.createObjectNode();
            ObjectNode dec = Vocabulary.JSON.createObjectNode();
            TreeMap<Integer, ObjectNode> byId = new TreeMap<>();
            merge.addedTokens().forEach((tok, info) -> {
                Integer id = vocab.get(tok);
                if (id != null) byId.put(id, info);
            });
            byId.forEach((id, info) -> dec.set(String.valueOf(id), decoderEntry(info)));
            c.set("added_tokens_decoder", dec);
            out.add(write(scratch.resolve("tokenizer_config.json"), c));
        }
        Vocabulary sv = merge.sourceVocabulary();
        List<String> fresh = new ArrayList<>();
        for (String t : vocab.keySet()) if (!sv.ids().containsKey(t)) fresh.add(t);
        Path vj = src.resolve("vocab.json");
        if (Files.isRegularFile(vj)) {
            ObjectNode v = Vocabulary.JSON.createObjectNode();
            JsonNode old = Vocabulary.json(vj);
            for (Iterator<String> it = old.fieldNames(); it.hasNext(); ) {
                String t = it.next();
                if (vocab.containsKey(t) && !merge.addedTokens().containsKey(t)) v.put(t, vocab.get(t));
            }
            out.add(write(scratch.resolve("vocab.json"), v));
            ObjectNode added = Vocabulary.JSON.createObjectNode();
            for (String t : vocab.keySet()) if (merge.addedTokens().containsKey(t) || !v.has(t)) added.put(t, vocab.get(t));
            if (!added.isEmpty() || Files.isRegularFile(src.resolve("added_tokens.json"))) {
                out.add(write(scratch.resolve("added_tokens.json"), added));
            }
        }
        Path vt = src.resolve("vocab.txt");
        if (Files.isRegularFile(vt)) {
            Path f = scratch.resolve("vocab.txt");
            Files.write(f, vocab.keySet(), StandardCharsets.UTF_8);
            out.add(f);
        }
        Path cfg = configDir.resolve("config.json");
        if (Files.isRegularFile(cfg)) {
            ObjectNode c = (ObjectNode) Vocabulary.json(cfg);
            if (!c.has("vocab_size") && c.path("text_config").has("vocab_size")) {
                ((ObjectNode) c.get("text_config")).put("vocab_size", merge.rows());
            } else {
                c.put("vocab_size", merge.rows());
            }
            out.add(write(scratch.resolve("config.json"), c));
        }
        return out;
    }

    /** The source's tokenizer.json with the output's ids. */
    static ObjectNode tokenizerJson(JsonNode root, VocabularyMerge merge) {
        ObjectNode r = (ObjectNode) root.deepCopy();
        Map<String, Integer> vocab = merge.vocabulary();
        ObjectNode model = (ObjectNode) r.path("model");
        JsonNode v = model.path("vocab");
        if (v.isArray()) {
            ArrayNode kept = Vocabulary.JSON.createArrayNode();
            for (JsonNode e : v) if (vocab.containsKey(e.get(0).asText()) && !merge.addedTokens().containsKey(e.get(0).asText())) kept.add(e);
            // Unigram ids are positions: keep the pieces in output id order (they are a prefix of it)
            model.set("vocab", kept);
        } else if (v.isObject()) {
            ObjectNode nv = Vocabulary.JSON.createObjectNode();
            TreeMap<Integer, String> byId = new TreeMap<>();
            for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
                String t = it.next();
                if (vocab.containsKey(t) && !merge.addedTokens().containsKey(t)) byId.put(vocab.get(t), t);
            }
            byId.forEach((id, t) -> nv.put(t, id));
            model.set("vocab", nv);
        }
        java.util.Set<String> inModel = new java.util.HashSet<>();
        if (model.path("vocab").isObject()) model.path("vocab").fieldNames().forEachRemaining(inModel::add);
        else for (JsonNode p : model.path("vocab")) inModel.add(p.get(0).asText());
        ArrayNode added = Vocabulary.JSON.createArrayNode();
        for (var e : vocab.entrySet()) {
            String t = e.getKey();
            if (inModel.contains(t)) continue;
            ObjectNode info = merge.addedTokens().get(t);
            ObjectNode a = Vocabulary.JSON.createObjectNode();
            a.put("id", e.getValue());
            a.put("content", t);
            a.put("single_word", info != null && info.path("single_word").asBoolean(false));
            a.put("lstrip", info != null && info.path("lstrip").asBoolean(false));
            a.put("rstrip", info != null && info.path("rstrip").asBoolean(false));
            a.put("normalized", info == null || info.path("normalized").asBoolean(!info.path("special").asBoolean(false)));
            a.put("special", info != null && info.path("special").asBoolean(false));
            added.add(a);
        }
        r.set("added_tokens", added);
        return r;
    }

    private static ObjectNode decoderEntry(ObjectNode info) {
        ObjectNode d = Vocabulary.JSON.createObjectNode();
        d.put("content", info.get("content").asText());
        d.put("lstrip", info.path("lstrip").asBoolean(false));
        d.put("normalized", info.path("normalized").asBoolean(!info.path("special").asBoolean(false)));
        d.put("rstrip", info.path("rstrip").asBoolean(false));
        d.put("single_word", info.path("single_word").asBoolean(false));
        d.put("special", info.path("special").asBoolean(false));
        return d;
    }

    static Path write(Path file, JsonNode node) throws IOException {
        Files.writeString(file, Vocabulary.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
        return file;
    }

    /**
     * The copied files with same-named generated ones replacing them.
     *
     * @param copied    files the output would copy
     * @param generated files written for it
     * @return the merged list
     */
    public static List<Path> replace(List<Path> copied, List<Path> generated) {
        List<Path> out = new ArrayList<>();
        for (Path p : copied) {
            boolean replaced = generated.stream().anyMatch(g -> g.getFileName().equals(p.getFileName()));
            if (!replaced) out.add(p);
        }
        out.addAll(generated);
        return out;
    }

    /** The tokenizer merge behind a checkpoint, if it is a permuted one. */
    public static Optional<VocabularyMerge> mergeOf(dev.amalgam.checkpoint.Checkpoint c) {
        return c instanceof PermutedCheckpoint p ? Optional.of(p.merge()) : Optional.empty();
    }
}

package dev.amalgam.source.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.io.AmalgamIOException;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The output vocabulary of a merge and, for every model, where each output embedding row comes
 * from: mergekit's {@code build_tokenizer} and {@code PermutedEmbeddings}
 * ({@code mergekit/tokenizer/build.py}, {@code embed.py}).
 *
 * <ul>
 *   <li>{@code union}: the base's vocabulary with its ids (made contiguous if they are not),
 *       then every other token of the models' vocabularies (base first, then the models in
 *       order, each in id order), then their added tokens (first settings win); {@code base}:
 *       the base's vocabulary; a model: that model's vocabulary. Ids at or above a model's
 *       {@code vocab_size} are not part of its vocabulary.</li>
 *   <li>A model that has a token keeps its own row (unless the token's config says
 *       {@code force}); otherwise the row is the token's default: its configured source; else
 *       the one model that has it; else the base's row if the base has it; else the mean of
 *       the rows of the models that have it; zero if none has it.</li>
 *   <li>Rows past the vocabulary ({@code pad_to_multiple_of}) are the mean of the model's
 *       new vocabulary rows.</li>
 * </ul>
 * Means are computed in double and rounded once to the tensor's dtype.
 *
 * <p>Thread-safety: immutable after {@link #build}.
 */
public final class VocabularyMerge {

    /** One input model. {@code folder} holds its tokenizer and config.json. */
    public record Model(String label, Path folder, Checkpoint checkpoint, boolean base) {
    }

    /** Where an output row comes from for the models that lack the token (or for all with force). */
    sealed interface Default permits Zero, Row, Mean {
    }

    /** A zero row. */
    record Zero() implements Default {
    }

    /** Row {@code row} of model {@code model}. */
    record Row(int model, int row) implements Default {
    }

    /** The mean of rows, one per model. */
    record Mean(List<Row> rows) implements Default {
    }

    private final List<Model> models;
    private final Map<String, Integer> vocab;
    private final Map<String, ObjectNode> addedTokens;
    private final Vocabulary sourceVocab;
    private final int sourceModel;
    private final int rows;
    private final int[][] own;           // [model][out id] → its row, or -1
    private final Default[] defaults;    // [out id] → default, or null if every model has it and none is forced
    private final boolean[] forced;

    private VocabularyMerge(List<Model> models, Map<String, Integer> vocab, Map<String, ObjectNode> addedTokens,
                            Vocabulary sourceVocab, int sourceModel, int rows, int[][] own, Default[] defaults, boolean[] forced) {
        this.models = models;
        this.vocab = vocab;
        this.addedTokens = addedTokens;
        this.sourceVocab = sourceVocab;
        this.sourceModel = sourceModel;
        this.rows = rows;
        this.own = own;
        this.defaults = defaults;
        this.forced = forced;
    }

    /**
     * @param models the inputs (at most one base)
     * @param spec   the tokenizer settings
     * @return the plan
     * @throws IOException naming the file or model for unreadable tokenizers
     * @throws IllegalArgumentException naming the {@code tokenizer} key for a bad token source
     */
    public static VocabularyMerge build(List<Model> models, TokenizerSpec spec) throws IOException {
        List<Vocabulary> vocabs = new ArrayList<>();
        for (Model m : models) vocabs.add(Vocabulary.read(m.folder(), vocabSize(m)));
        int base = -1;
        for (int i = 0; i < models.size(); i++) if (models.get(i).base()) base = i;
        int first = base >= 0 ? base : 0;
        int source;
        Map<String, Integer> out = new LinkedHashMap<>();
        Map<String, ObjectNode> added = new LinkedHashMap<>();
        switch (spec.source()) {
            case "union" -> {
                source = first;
                Vocabulary b = vocabs.get(first);
                for (String t : b.ids().keySet()) out.put(t, out.size());
                added.putAll(b.added());
                List<Integer> order = new ArrayList<>();
                order.add(first);
                for (int i = 0; i < models.size(); i++) if (i != first) order.add(i);
                Map<String, ObjectNode> allAdded = new LinkedHashMap<>();
                for (int i : order) vocabs.get(i).added().forEach(allAdded::putIfAbsent);
                for (int i : order) {
                    for (String t : vocabs.get(i).ids().keySet()) {
                        if (!allAdded.containsKey(t) && !out.containsKey(t)) out.put(t, out.size());
                    }
                }
                for (var e : allAdded.entrySet()) {
                    if (!out.containsKey(e.getKey())) out.put(e.getKey(), out.size());
                    added.putIfAbsent(e.getKey(), e.getValue());
                }
            }
            case "base" -> {
                if (base < 0) throw new IllegalArgumentException(".source: `base` needs a base_model");
                source = base;
                for (String t : vocabs.get(base).ids().keySet()) out.put(t, out.size());
                added.putAll(vocabs.get(base).added());
            }
            default -> {
                source = indexOf(models, spec.source(), ".source");
                for (String t : vocabs.get(source).ids().keySet()) out.put(t, out.size());
                added.putAll(vocabs.get(source).added());
            }
        }
        int n = out.size();
        int rows = n;
        if (spec.padToMultipleOf().isPresent() && n % spec.padToMultipleOf().get() != 0) {
            int k = spec.padToMultipleOf().get();
            rows = (n / k + 1) * k;
        }
        int[][] own = new int[models.size()][n];
        for (int m = 0; m < models.size(); m++) {
            Map<String, Integer> ids = vocabs.get(m).ids();
            int mm = m;
            out.forEach((t, id) -> own[mm][id] = ids.getOrDefault(t, -1));
        }
        Default[] defaults = new Default[n];
        boolean[] forced = new boolean[n];
        for (var e : out.entrySet()) {
            String tok = e.getKey();
            int id = e.getValue();
            TokenizerSpec.TokenSource cfg = spec.tokens().get(tok);
            if (cfg != null && !cfg.isDefault()) {
                defaults[id] = configured(models, vocabs, own, tok, id, cfg);
                forced[id] = cfg.force();
                continue;
            }
            if (cfg != null && cfg.force()) throw new IllegalArgumentException(".tokens." + tok + ": force needs a source");
            List<Row> present = new ArrayList<>();
            for (int m = 0; m < models.size(); m++) if (own[m][id] >= 0) present.add(new Row(m, own[m][id]));
            if (present.size() == models.size()) continue;
            if (present.isEmpty()) defaults[id] = new Zero();
            else if (present.size() == 1) defaults[id] = present.getFirst();
            else if (base >= 0 && own[base][id] >= 0) defaults[id] = new Row(base, own[base][id]);
            else defaults[id] = new Mean(List.copyOf(present));
        }
        for (String tok : spec.tokens().keySet()) {
            if (!out.containsKey(tok)) throw new IllegalArgumentException(".tokens." + tok + ": the token is not in the output vocabulary");
        }
        return new VocabularyMerge(List.copyOf(models), Collections.unmodifiableMap(out), added, vocabs.get(source), source,
                rows, own, defaults, forced);
    }

    private static Default configured(List<Model> models, List<Vocabulary> vocabs, int[][] own, String tok, int id,
                                      TokenizerSpec.TokenSource cfg) {
        String where = ".tokens." + tok + ".source";
        if (cfg.zero()) return new Zero();
        int m = indexOf(models, cfg.model(), where);
        if (cfg.tokenId() != null) return new Row(m, cfg.tokenId());
        if (cfg.token() != null) {
            Integer r = vocabs.get(m).ids().get(cfg.token());
            if (r == null) throw new IllegalArgumentException(where + ".token: '" + cfg.token() + "' is not in " + cfg.model());
            return new Row(m, r);
        }
        if (own[m][id] < 0) throw new IllegalArgumentException(where + ": token '" + tok + "' is not in " + cfg.model());
        return new Row(m, own[m][id]);
    }

    private static int indexOf(List<Model> models, String written, String where) {
        for (int i = 0; i < models.size(); i++) if (models.get(i).label().equals(written)) return i;
        if (written.equals("base")) for (int i = 0; i < models.size(); i++) if (models.get(i).base()) return i;
        List<String> names = models.stream().map(Model::label).toList();
        throw new IllegalArgumentException(where + ": `" + written + "` is not one of the merged models: " + String.join(", ", names));
    }

    /** A model's vocab_size: config.json's ({@code vocab_size}, else {@code text_config.vocab_size}), else its embedding rows. */
    static int vocabSize(Model m) throws IOException {
        Path cfg = m.folder().resolve("config.json");
        if (Files.isRegularFile(cfg)) {
            JsonNode c = Vocabulary.json(cfg);
            JsonNode v = c.has("vocab_size") ? c.get("vocab_size") : c.path("text_config").get("vocab_size");
            if (v != null && v.canConvertToInt()) return v.asInt();
        }
        for (TensorInfo t : m.checkpoint().tensors()) {
            if (isEmbedding(t)) return (int) t.dim(0);
        }
        return Integer.MAX_VALUE;
    }

    static boolean isEmbedding(TensorInfo t) {
        return t.rank() == 2 && EMBEDDINGS.test(t.name());
    }

    /** The embedding and LM-head names (mergekit's is_embed), from the merge package's table. */
    private static final Predicate<String> EMBEDDINGS = dev.amalgam.merge.EmbeddingNames::isEmbedding;

    /** The output vocabulary, token to id (ids 0..size−1). */
    public Map<String, Integer> vocabulary() {
        return vocab;
    }

    /** The settings of the output's added tokens, by token. */
    Map<String, ObjectNode> addedTokens() {
        return addedTokens;
    }

    /** The vocabulary whose tokenizer files the output starts from. */
    Vocabulary sourceVocabulary() {
        return sourceVocab;
    }

    /** The model whose tokenizer files the output starts from. */
    public Model sourceModel() {
        return models.get(sourceModel);
    }

    /** Embedding rows of the output (the vocabulary, padded). */
    public int rows() {
        return rows;
    }

    /** The inputs, in order. */
    public List<Model> models() {
        return models;
    }

    /** Model {@code m}'s own row for output id {@code id}, or -1. */
    int own(int m, int id) {
        return own[m][id];
    }

    /** The default of output id {@code id}, or null. */
    Default defaultOf(int id) {
        return defaults[id];
    }

    /** Whether output id {@code id} always takes its default. */
    boolean forced(int id) {
        return forced[id];
    }

    /** Model {@code m}'s checkpoint with its embedding rows permuted to the output vocabulary. */
    public Checkpoint permuted(int m) {
        return new PermutedCheckpoint(this, m);
    }

    /** Fails if a model's rows do not cover its vocabulary or its embedding widths differ from the others'. */
    void checkShapes(String tensor) throws AmalgamIOException {
        long width = -1;
        for (int m = 0; m < models.size(); m++) {
            Checkpoint c = models.get(m).checkpoint();
            if (!c.contains(tensor)) continue;
            TensorInfo t = c.info(tensor);
            if (width >= 0 && t.dim(1) != width) {
                throw new AmalgamIOException(models.get(m).folder(), "tensor " + tensor + " is " + TensorInfo.shapeString(t.shape())
                        + " but other models' rows have " + width + " columns: embedding widths must match for a tokenizer merge");
            }
            width = t.dim(1);
            for (int id = 0; id < vocab.size(); id++) {
                if (own[m][id] >= t.dim(0)) {
                    throw new AmalgamIOException(models.get(m).folder(), "tensor " + tensor + " has " + t.dim(0)
                            + " rows but the tokenizer has id " + own[m][id] + "; set vocab_size in config.json");
                }
            }
        }
    }
}

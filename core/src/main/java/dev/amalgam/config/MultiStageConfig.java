package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A multi-stage config (mergekit-multi): several YAML documents, each a merge config with a
 * {@code name}; a later document may use an earlier name wherever it names a model, and reads
 * that stage's output. Stages run in document order; the last document is the output and may
 * omit its name.
 *
 * <p>Implementation notes: every document is validated at load, so a typo in the last stage
 * fails before the first merge. A document without a name (other than the last), a duplicate
 * name, or a name used before (or by) its own document is an error naming the document and key.
 * Stage outputs are {@code intermediateDir/NAME}; nothing is created here.
 */
public final class MultiStageConfig {

    /** One document. {@code name} is null only for an unnamed last document. */
    public record Stage(int document, String name, MergeConfig config) {
    }

    private final List<Stage> stages;
    private final Path intermediateDir;

    private MultiStageConfig(List<Stage> stages, Path intermediateDir) {
        this.stages = List.copyOf(stages);
        this.intermediateDir = intermediateDir;
    }

    /** The number of YAML documents (configs) in a file; 1 for an ordinary config. */
    public static int documentCount(Path file) throws IOException {
        Path abs = file.toAbsolutePath().normalize();
        return MergeConfig.readDocuments(Files.readString(abs), abs.getFileName().toString()).size();
    }

    /** Loads every stage; earlier stages' outputs are {@code intermediateDir/NAME}. */
    public static MultiStageConfig load(Path file, Path intermediateDir) throws IOException {
        Path abs = file.toAbsolutePath().normalize();
        String source = abs.getFileName().toString();
        List<JsonNode> docs = MergeConfig.readDocuments(Files.readString(abs), source);
        if (docs.isEmpty()) throw new ConfigException(source, "", "the config is empty");
        Path stageDir = intermediateDir.toAbsolutePath().normalize();

        List<String> names = new ArrayList<>();
        Map<String, Integer> firstDoc = new HashMap<>();
        for (int i = 0; i < docs.size(); i++) {
            String where = source + ", document " + (i + 1);
            JsonNode doc = docs.get(i);
            JsonNode n = doc.isObject() ? doc.get(MergeConfig.NAME_KEY) : null;
            String name = null;
            if (n != null && !n.isNull()) {
                if (!n.isTextual() || n.textValue().isBlank() || n.textValue().contains("/") || n.textValue().equals("..")
                        || n.textValue().equals(".")) {
                    throw new ConfigException(where, "name", "must be a plain name (no `/`), got " + ValueParser.show(n));
                }
                name = n.textValue();
                Integer prev = firstDoc.putIfAbsent(name, i);
                if (prev != null) {
                    throw new ConfigException(where, "name", "stage name `" + name + "` is already used by document " + (prev + 1));
                }
            } else if (i < docs.size() - 1 && docs.size() > 1) {
                throw new ConfigException(where, "name", "is required: every stage but the last needs a `name` "
                        + "that later stages use as a model");
            }
            names.add(name);
        }

        List<Stage> stages = new ArrayList<>();
        Map<String, Path> earlier = new LinkedHashMap<>();
        for (int i = 0; i < docs.size(); i++) {
            String where = docs.size() > 1 ? source + ", document " + (i + 1) : source;
            JsonNode doc = docs.get(i);
            if (doc.isObject()) {
                checkNoLaterNames(doc, "", i, firstDoc, where);
                doc = ((ObjectNode) doc).deepCopy();
                ((ObjectNode) doc).remove(MergeConfig.NAME_KEY);
            }
            MergeConfig c = MergeConfig.stage(doc, abs.getParent(), where, abs, earlier);
            stages.add(new Stage(i + 1, names.get(i), c));
            if (names.get(i) != null) earlier.put(names.get(i), stageDir.resolve(names.get(i)));
        }
        return new MultiStageConfig(stages, stageDir);
    }

    /** A model string naming a stage of this or a later document is used before it is defined. */
    private static void checkNoLaterNames(JsonNode node, String path, int doc, Map<String, Integer> firstDoc, String where) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
                boolean modelKey = e.getKey().equals("model") || e.getKey().equals("base_model")
                        || e.getKey().equals("tokenizer_source");
                if (modelKey && e.getValue().isTextual()) {
                    Integer defined = firstDoc.get(e.getValue().textValue());
                    if (defined != null && defined >= doc) {
                        throw new ConfigException(where, p, "`" + e.getValue().textValue() + "` is the name of "
                                + (defined == doc ? "this stage" : "document " + (defined + 1))
                                + "; a stage can only use the outputs of earlier documents");
                    }
                } else if (!e.getKey().equals("parameters")) {
                    checkNoLaterNames(e.getValue(), p, doc, firstDoc, where);
                }
            });
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) checkNoLaterNames(node.get(i), path + "[" + i + "]", doc, firstDoc, where);
        }
    }

    /** The stages in document order. */
    public List<Stage> stages() {
        return stages;
    }

    /** Where stage {@code name} writes its output. */
    public Path stageOutput(String name) {
        return intermediateDir.resolve(name);
    }

    /** Where named stages write their outputs. */
    public Path intermediateDir() {
        return intermediateDir;
    }

    /** The stage named {@code name}. */
    public Optional<Stage> stage(String name) {
        return stages.stream().filter(s -> name.equals(s.name())).findFirst();
    }
}

package dev.amalgam.merge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.ModelRef;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The files mergekit writes next to the weights, made in a scratch folder and handed to the
 * shard writer's file-copy step (so they land atomically with the weights):
 * <ul>
 *   <li>{@code config.json}: the reference model's, with {@code torch_dtype} (and {@code dtype}
 *       if present) set to the output dtype, and for {@code slices:} the layer count
 *       ({@link #LAYER_COUNT_KEYS}, first present) set to the output layers and every list
 *       whose length was the old layer count (e.g. {@code layer_types}) rebuilt from the
 *       layers each output layer came from (first source; spec §16.2);</li>
 *   <li>{@code mergekit_config.yml}: the config as run, normalised ({@link MergeConfig#tree()});</li>
 *   <li>{@code README.md}: a Hugging Face model card (front matter {@code base_model},
 *       {@code library_name}, {@code tags}; then method, models and the config).</li>
 * </ul>
 * The reference's own README.md is not copied when a card is written.
 */
final class OutputMetadata {

    static final List<String> LAYER_COUNT_KEYS = List.of("num_hidden_layers", "n_layer", "num_layers", "n_layers");
    static final String CONFIG_JSON = "config.json";
    static final String CONFIG_YAML = "mergekit_config.yml";
    static final String MODEL_CARD = "README.md";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private OutputMetadata() {
    }

    /** The files to copy into the output: {@code files} with config.json replaced, plus the card and config when asked. */
    static List<Path> write(Path scratch, MergeJob.Opened opened, MergeJob.Options options, List<Path> files) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path f : files) {
            String name = f.getFileName().toString();
            if (name.equals(CONFIG_JSON)) {
                out.add(rewriteConfigJson(f, scratch.resolve(CONFIG_JSON), opened));
            } else if (options.writeModelCard() && (name.equals(MODEL_CARD) || name.equals(CONFIG_YAML))) {
                continue; // ours replaces the reference's
            } else {
                out.add(f);
            }
        }
        if (options.writeModelCard()) {
            String yaml = configYaml(opened.config());
            Path cfg = scratch.resolve(CONFIG_YAML);
            Files.writeString(cfg, yaml, StandardCharsets.UTF_8);
            out.add(cfg);
            Path card = scratch.resolve(MODEL_CARD);
            Files.writeString(card, modelCard(opened.config(), yaml, options.output()), StandardCharsets.UTF_8);
            out.add(card);
        }
        return out;
    }

    static void deleteScratch(Path scratch) throws IOException {
        if (!Files.exists(scratch)) return;
        try (Stream<Path> s = Files.walk(scratch)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    // ---- config.json ----

    private static Path rewriteConfigJson(Path source, Path target, MergeJob.Opened opened) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(source.toFile());
        } catch (IOException e) {
            return source; // not ours to judge: copied as is
        }
        if (!(root instanceof ObjectNode cfg)) return source;
        ObjectNode before = cfg.deepCopy();
        String dtype = outputDtype(opened);
        if (dtype != null) {
            // Set when the config names a dtype (as mergekit does) or to correct a stated one.
            if (opened.config().outputDtype().isPresent() || cfg.has("torch_dtype")) cfg.put("torch_dtype", dtype);
            if (cfg.has("dtype") && cfg.get("dtype").isTextual()) cfg.put("dtype", dtype);
        }
        if (opened.layerMap() != null) rewriteLayers(cfg, opened.layerMap());
        if (cfg.equals(before)) return source; // unchanged: copied byte for byte
        Files.writeString(target, JSON.writeValueAsString(cfg) + "\n", StandardCharsets.UTF_8);
        return target;
    }

    /** The config's output dtype, else the one dtype every merged tensor is written in, else null. */
    private static String outputDtype(MergeJob.Opened opened) {
        if (opened.config().outputDtype().isPresent()) return opened.config().outputDtype().get().configName();
        Set<DType> seen = new LinkedHashSet<>();
        for (PlanEntry e : opened.entries()) {
            if (e.action() == PlanEntry.Action.MERGE) seen.add(e.output().dtype());
        }
        return seen.size() == 1 ? seen.iterator().next().configName() : null;
    }

    private static void rewriteLayers(ObjectNode cfg, LayerMap map) {
        String key = null;
        for (String k : LAYER_COUNT_KEYS) {
            if (cfg.has(k) && cfg.get(k).canConvertToInt()) {
                key = k;
                break;
            }
        }
        int oldCount = key == null ? -1 : cfg.get(key).intValue();
        cfg.put(key == null ? "num_hidden_layers" : key, map.size());
        if (oldCount <= 0) return;
        Map<Path, ObjectNode> sourceConfigs = new HashMap<>();
        List<String> listKeys = new ArrayList<>();
        cfg.fields().forEachRemaining(e -> {
            if (e.getValue().isArray() && e.getValue().size() == oldCount) listKeys.add(e.getKey());
        });
        for (String k : listKeys) {
            ArrayNode rebuilt = JSON.createArrayNode();
            for (LayerMap.Layer l : map.layers()) {
                LayerMap.Source src = l.sources().getFirst();
                JsonNode list = sourceList(sourceConfigs, src.model().ref(), k);
                if (list == null || src.layer() >= list.size()) list = cfg.get(k);
                rebuilt.add(src.layer() < list.size() ? list.get(src.layer()) : list.get(list.size() - 1));
            }
            cfg.set(k, rebuilt);
        }
    }

    /** The per-layer list {@code key} of the model's own config.json, if it has one. */
    private static JsonNode sourceList(Map<Path, ObjectNode> cache, ModelRef ref, String key) {
        ObjectNode c = cache.computeIfAbsent(ref.resolvedPath(), p -> {
            Path dir = Files.isDirectory(p) ? p : p.getParent();
            try {
                return JSON.readTree(dir.resolve(CONFIG_JSON).toFile()) instanceof ObjectNode o ? o : JSON.createObjectNode();
            } catch (IOException e) {
                return JSON.createObjectNode();
            }
        });
        JsonNode v = c.get(key);
        return v != null && v.isArray() ? v : null;
    }

    // ---- mergekit_config.yml and README.md ----

    static String configYaml(MergeConfig config) throws IOException {
        YAMLMapper yaml = new YAMLMapper(YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .build());
        return yaml.writeValueAsString(config.tree());
    }

    static String modelCard(MergeConfig config, String yaml, Path output) {
        List<String> models = referencedModels(config);
        String base = config.baseModel().map(ModelRef::path).orElse(null);
        StringBuilder sb = new StringBuilder("---\nbase_model:\n");
        for (String m : models) sb.append("- ").append(yamlScalar(m)).append('\n');
        sb.append("library_name: transformers\ntags:\n- merge\n- mergekit\n- amalgam\n---\n");
        // Not the output folder's name (mergekit's title): identical configs give identical files (§14.16).
        sb.append("# ").append(config.mergeMethod()).append(" merge\n\n");
        sb.append("This is a merge of pre-trained language models made with Amalgam from a "
                + "[mergekit](https://github.com/arcee-ai/mergekit)-compatible configuration.\n\n");
        sb.append("## Merge Details\n### Merge Method\n\n");
        sb.append("This model was merged using the `").append(config.mergeMethod()).append("` merge method");
        if (base != null) sb.append(" using ").append(base).append(" as a base");
        sb.append(".\n\n### Models Merged\n\nThe following models were included in the merge:\n");
        for (String m : models) if (!m.equals(base)) sb.append("* ").append(m).append('\n');
        sb.append("\n### Configuration\n\nThe following YAML configuration was used to produce this model:\n\n```yaml\n")
                .append(yaml.endsWith("\n") ? yaml : yaml + "\n").append("```\n");
        return sb.toString();
    }

    /** Model paths as written: the base first, then every listed model or slice source in order. */
    static List<String> referencedModels(MergeConfig config) {
        Set<String> out = new LinkedHashSet<>();
        config.baseModel().ifPresent(b -> out.add(b.path()));
        if (config.sliced()) {
            config.slices().forEach(s -> {
                s.sources().forEach(src -> out.add(src.model().path()));
                s.baseModel().ifPresent(b -> out.add(b.path()));
            });
        } else {
            config.models().forEach(m -> out.add(m.path()));
        }
        return List.copyOf(out);
    }

    private static String yamlScalar(String s) {
        return s.matches("[A-Za-z0-9_./-]+") && !s.startsWith("-") ? s : "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}

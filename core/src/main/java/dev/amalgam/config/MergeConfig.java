package dev.amalgam.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.amalgam.source.ModelResolver;
import dev.amalgam.source.tokenizer.ChatTemplates;
import dev.amalgam.source.tokenizer.TokenizerSpec;
import dev.amalgam.tensor.DType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A validated merge configuration (spec §1.1, mergekit-compatible YAML).
 *
 * <p>Implementation notes: immutable once loaded. All validation happens in {@link #parse}; a
 * config is checked in full against its method's spec before a planned (not yet implemented)
 * method is refused. A config that loads is one whose method is implemented, whose keys, parameters and value types
 * are valid, and whose required parameters are set for every model that needs them (filtered
 * lists can still leave a value unset for some tensor: {@link ParameterResolver} reports that
 * with the tensor name). Model paths are resolved against the config file's directory and
 * compared after normalization; folders are not opened here.
 */
public final class MergeConfig {

    static final List<String> TOP_LEVEL_KEYS = List.of(
            "models", "slices", "base_model", "merge_method", "parameters", "dtype", "out_dtype", "tokenizer_source",
            "tokenizer", "chat_template");
    static final List<String> MODEL_KEYS = List.of("model", "parameters");
    static final List<String> SLICE_KEYS = List.of("sources", "base_model", "parameters");
    static final List<String> SOURCE_KEYS = List.of("model", "layer_range", "parameters");
    static final List<String> DTYPES = List.of("bfloat16", "float16", "float32");
    /** The stage name of a multi-stage (mergekit-multi) file; elsewhere accepted without effect. */
    static final String NAME_KEY = "name";
    /** mergekit keys Amalgam does not implement, with why (an error, not a silent difference). */
    static final Map<String, String> UNSUPPORTED_KEYS = Map.of(
            "modules", "per-module configs (mergekit `modules:`) are not supported; use `models` or `slices`");
    /**
     * Keys mergekit accepts and never reads ({@code residual_weight}: in its slice schema, unused
     * by every merge; its pydantic models also drop unknown fields): a warning saying so, an error under
     * {@code --strict}. Any other unknown key stays an error, so typos are still caught.
     */
    static final List<String> IGNORED_KEYS = List.of("residual_weight");

    /** Where the output's tokenizer files come from. */
    public record TokenizerSource(String asWritten, Path resolvedPath) {
    }

    private final Path file;
    private final MethodSpec method;
    private final List<ModelRef> models;
    private final ModelRef base;
    private final DType dtype;
    private final DType outDtype;
    private final TokenizerSource tokenizerSource;
    private final ParameterResolver parameters;
    private final List<String> warnings;
    private Map<String, ModelResolver.Resolved> sources = Map.of();
    private TokenizerSpec tokenizerSpec;
    private String chatTemplate;
    private final List<OutputSlice> slices;
    private final JsonNode tree;

    private MergeConfig(Path file, MethodSpec method, List<ModelRef> models, ModelRef base, DType dtype,
                        DType outDtype, TokenizerSource tokenizerSource, ParameterResolver parameters,
                        List<String> warnings, List<OutputSlice> slices, JsonNode tree) {
        this.file = file;
        this.method = method;
        this.models = List.copyOf(models);
        this.base = base;
        this.dtype = dtype;
        this.outDtype = outDtype;
        this.tokenizerSource = tokenizerSource;
        this.parameters = parameters;
        this.warnings = List.copyOf(warnings);
        this.slices = List.copyOf(slices);
        this.tree = tree;
    }

    /** Reads and validates a YAML file; model paths resolve against its directory. */
    public static MergeConfig load(Path file) throws IOException {
        Path abs = file.toAbsolutePath().normalize();
        String yaml = Files.readString(abs);
        return parse(yaml, abs.getParent(), abs.getFileName().toString(), abs);
    }

    /** Parses YAML text; {@code baseDir} resolves relative model paths, {@code sourceName} prefixes messages. */
    public static MergeConfig parse(String yaml, Path baseDir, String sourceName) {
        return parse(yaml, baseDir, sourceName, null);
    }

    private static MergeConfig parse(String yaml, Path baseDir, String sourceName, Path file) {
        List<JsonNode> docs = readDocuments(yaml, sourceName);
        if (docs.size() > 1) {
            throw new ConfigException(sourceName, "", "the file holds " + docs.size() + " YAML documents (a multi-stage "
                    + "config); run it with `amalgam merge` (MultiStageConfig), which merges every stage in order");
        }
        return fromTree(docs.isEmpty() ? null : docs.getFirst(), baseDir, sourceName, file);
    }

    /**
     * Validates a parsed tree (the form the YAML parser produces: mappings, lists, scalars);
     * model paths resolve against {@code baseDir} (then the current directory).
     */
    public static MergeConfig fromTree(JsonNode root, Path baseDir, String sourceName, Path file) {
        return new Loader(sourceName, baseDir.toAbsolutePath().normalize(), Map.of(), false).load(root, file);
    }

    /** As {@link #fromTree}, for one stage of a multi-stage file: {@code stages} maps earlier names to their outputs. */
    static MergeConfig stage(JsonNode root, Path baseDir, String sourceName, Path file, Map<String, Path> stages) {
        return new Loader(sourceName, baseDir.toAbsolutePath().normalize(), stages, true).load(root, file);
    }

    /** Every YAML document of a file (a single config is one document). */
    static List<JsonNode> readDocuments(String yaml, String sourceName) {
        YAMLMapper mapper = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        List<JsonNode> docs = new ArrayList<>();
        // One tree per document (MappingIterator would unwrap a top-level list into "documents").
        try (JsonParser p = mapper.getFactory().createParser(yaml)) {
            while (p.nextToken() != null) {
                JsonNode n = mapper.readTree(p);
                if (n != null && !n.isMissingNode() && !n.isNull()) docs.add(n); // a trailing `---` is no stage
            }
        } catch (JsonProcessingException e) {
            throw yamlError(sourceName, e);
        } catch (IOException e) {
            throw new ConfigException(sourceName, "", "invalid YAML: " + e.getMessage(), e);
        }
        return docs;
    }

    private static ConfigException yamlError(String sourceName, JsonProcessingException e) {
        String key = currentKey(e);
        String where = e.getLocation() == null ? ""
                : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": ";
        String hint = e.getOriginalMessage().startsWith("Malformed numeric value")
                ? " (NaN and infinities are not valid parameter values)" : "";
        return new ConfigException(sourceName, key == null ? "" : key,
                    "invalid YAML at " + where + e.getOriginalMessage() + hint, e);
    }

    /**
     * A config written in code, validated like YAML at {@link MergeConfigBuilder#build()}.
     *
     * @param mergeMethod the {@code merge_method} name
     * @return a builder
     */
    public static MergeConfigBuilder builder(String mergeMethod) {
        return new MergeConfigBuilder(mergeMethod);
    }

    /** Validates a parsed YAML tree (the builder's path into the one validator). */
    static MergeConfig fromTree(JsonNode root, Path baseDir, String sourceName) {
        return fromTree(root, baseDir, sourceName, null);
    }

    private static String currentKey(JsonProcessingException e) {
        try {
            return e.getProcessor() instanceof JsonParser p ? p.currentName() : null;
        } catch (IOException ignored) {
            return null;
        }
    }

    /**
     * Where a model's value points (local folder, hub id, {@code FOLDER+ADAPTER}; spec §16.4).
     *
     * @param ref one of this config's models
     * @return its resolved value
     */
    public ModelResolver.Resolved source(ModelRef ref) {
        ModelResolver.Resolved r = sources.get(ref.path());
        return r != null ? r : new ModelResolver.Resolved(ref.path(),
                new ModelResolver.Location(ref.path(), ref.resolvedPath(), Optional.empty()), Optional.empty());
    }

    /** The vocabulary merge ({@code tokenizer_source: union} or the {@code tokenizer:} section), if any. */
    public Optional<TokenizerSpec> tokenizerSpec() {
        return Optional.ofNullable(tokenizerSpec);
    }

    /** The {@code chat_template} value as written (spec §16.5), if set. */
    public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /** The YAML file, if loaded from one. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    public MethodSpec method() {
        return method;
    }

    /** The {@code merge_method} name. */
    public String mergeMethod() {
        return method.name();
    }

    /** The models as listed, model index = list position (a listed base included). */
    public List<ModelRef> models() {
        return models;
    }

    /** The base model: the listed entry if it is listed, else an unlisted ref (index {@link ModelRef#NO_INDEX}). */
    public Optional<ModelRef> baseModel() {
        return Optional.ofNullable(base);
    }

    /** Listed models that are not the base, in model-index order (the task-vector models of GTA methods). */
    public List<ModelRef> nonBaseModels() {
        return models.stream().filter(m -> !m.base()).toList();
    }

    /**
     * The models the method combines: for methods whose base is a reference point (REQUIRED,
     * OPTIONAL), the listed non-base models; for methods that add a set base as an input
     * (linear, karcher), every listed model plus an unlisted base appended last; otherwise every
     * listed model.
     */
    public List<ModelRef> inputs() {
        return switch (method.baseRule()) {
            case REQUIRED, OPTIONAL -> nonBaseModels();
            case UNUSED -> method.baseAddedAsInput() && base != null && !base.listed()
                    ? append(models, base) : models;
            case NONE -> models;
        };
    }

    /**
     * Every model folder the merge reads: the listed models, then an unlisted base. For
     * {@code slices:}, the first reference to each distinct folder in slice and source order
     * (slices' base models included), then a top-level base that no slice reads.
     */
    public List<ModelRef> allModels() {
        if (!slices.isEmpty()) {
            Map<Path, ModelRef> seen = new LinkedHashMap<>();
            for (OutputSlice sl : slices) {
                for (SliceSource src : sl.sources()) seen.putIfAbsent(src.model().resolvedPath(), src.model());
                if (sl.base() != null) seen.putIfAbsent(sl.base().resolvedPath(), sl.base());
            }
            if (base != null) seen.putIfAbsent(base.resolvedPath(), base);
            return List.copyOf(seen.values());
        }
        return base != null && !base.listed() ? append(models, base) : models;
    }

    /** True for a {@code slices:} config (then {@link #models()} is empty and {@link #slices()} is not). */
    public boolean sliced() {
        return !slices.isEmpty();
    }

    /** The output slices of a {@code slices:} config, in order; empty for {@code models:}. */
    public List<OutputSlice> slices() {
        return slices;
    }

    /** Output layers of a {@code slices:} config: Σ L over the slices (0 for {@code models:}). */
    public int outputLayerCount() {
        return slices.stream().mapToInt(OutputSlice::layerCount).sum();
    }

    /**
     * The config as run, normalised (written as {@code mergekit_config.yml}): the parsed tree
     * with {@code torch.} dtype prefixes removed and a stage {@code name} dropped.
     */
    public JsonNode tree() {
        return tree.deepCopy();
    }

    public Optional<DType> dtype() {
        return Optional.ofNullable(dtype);
    }

    public Optional<DType> outDtype() {
        return Optional.ofNullable(outDtype);
    }

    /** {@code out_dtype}, else {@code dtype}; empty = the tensor's stored dtype in the base (else the first model). */
    public Optional<DType> outputDtype() {
        return Optional.ofNullable(outDtype != null ? outDtype : dtype);
    }

    public TokenizerSource tokenizerSource() {
        return tokenizerSource;
    }

    public ParameterResolver parameters() {
        return parameters;
    }

    /** Non-fatal findings (e.g. a parameter without effect for this method). */
    public List<String> warnings() {
        return warnings;
    }

    private static List<ModelRef> append(List<ModelRef> list, ModelRef extra) {
        List<ModelRef> out = new ArrayList<>(list);
        out.add(extra);
        return List.copyOf(out);
    }

    // ---------------------------------------------------------------------------------------


    /** Where a parameter block sits: the top level, a slice, or a model/source entry. */
    private enum Level { TOP, SLICE, MODEL }

    /** One parse: holds the source name for messages and collects warnings. */
    private static final class Loader {
        private final String source;
        private final Path baseDir;
        private final Map<String, Path> stages;
        private final boolean multiStage;
        private final ValueParser values;
        private final List<String> warnings = new ArrayList<>();
        private final Map<String, ModelResolver.Resolved> sources = new HashMap<>();

        Loader(String source, Path baseDir, Map<String, Path> stages, boolean multiStage) {
            this.source = source;
            this.baseDir = baseDir;
            this.stages = stages;
            this.multiStage = multiStage;
            this.values = new ValueParser(source);
        }

        MergeConfig load(JsonNode root, Path file) {
            if (root == null || root.isMissingNode() || root.isNull()) throw error("", "the config is empty");
            if (!root.isObject()) throw error("", "the config must be a mapping of keys; valid keys: " + join(TOP_LEVEL_KEYS));
            checkTopLevelKeys(root);

            MethodSpec method = method(root.get("merge_method"));
            boolean hasModels = present(root, "models");
            boolean hasSlices = present(root, "slices");
            if (hasModels && hasSlices) {
                throw error("slices", "set either `models` or `slices`, not both");
            }
            DType dtype = dtype(root, "dtype");
            DType outDtype = dtype(root, "out_dtype");
            ParsedParameters top = parameters(root.get("parameters"), "parameters", method, Level.TOP);

            MergeConfig config = hasSlices ? loadSlices(root, file, method, dtype, outDtype, top)
                    : loadModels(root, file, method, dtype, outDtype, top);

            // Last, so that a config for a planned method is still checked in full.
            if (!method.implemented()) {
                throw error("merge_method", "merge_method `" + method.name() + "` is not available yet (planned); "
                        + "available now: " + join(MethodRegistry.implementedNames()));
            }
            return config;
        }

        private MergeConfig loadModels(JsonNode root, Path file, MethodSpec method, DType dtype, DType outDtype,
                                       ParsedParameters top) {
            List<String> written = modelPaths(root.get("models"));
            List<Path> resolved = new ArrayList<>();
            Map<Path, Integer> seen = new HashMap<>();
            for (int i = 0; i < written.size(); i++) {
                Path p = resolve(written.get(i), "models[" + i + "].model");
                Integer prev = seen.putIfAbsent(p, i);
                if (prev != null) {
                    throw error("models[" + i + "].model", "model `" + written.get(i) + "` is listed twice (models["
                            + prev + "] and models[" + i + "]); list each model once");
                }
                resolved.add(p);
            }

            String baseWritten = optionalString(root, "base_model");
            Path baseResolved = baseWritten == null ? null : resolve(baseWritten, "base_model");
            int baseIndex = baseResolved == null ? -1 : resolved.indexOf(baseResolved);
            List<ModelRef> models = new ArrayList<>();
            for (int i = 0; i < written.size(); i++) {
                models.add(new ModelRef(i, written.get(i), resolved.get(i), i == baseIndex));
            }
            ModelRef base = baseWritten == null ? null
                    : baseIndex >= 0 ? models.get(baseIndex)
                    : new ModelRef(ModelRef.NO_INDEX, baseWritten, baseResolved, true);
            checkBaseRule(method, base);
            String countError = method.inputs().countError((int) models.stream().filter(m -> !m.base()).count());
            if (countError != null) {
                throw error("models", "merge_method `" + method.name() + "` " + countError
                        + (method.baseRule() == BaseModelRule.NONE && models.size() > 1 ? "; to stack layers of several models use `slices`" : ""));
            }

            TokenizerSource tokenizer = tokenizer(root, base, models.getFirst());

            List<Map<String, ParameterValue>> perModel = new ArrayList<>();
            JsonNode modelsNode = root.get("models");
            for (int i = 0; i < models.size(); i++) {
                ParsedParameters p = parameters(modelsNode.get(i).get("parameters"),
                        "models[" + i + "].parameters", method, Level.MODEL);
                perModel.add(p.values);
            }

            checkRequired(method, models, base, top.values, perModel);
            checkDensityScope(method, List.of(top.values), List.of("parameters.density"), perModel,
                    "models[%d].parameters.density");
            collectWarnings(method, top.values, perModel, "models[%d].parameters.");
            if (base != null && method.baseRule() == BaseModelRule.REQUIRED && models.stream().allMatch(ModelRef::base)) {
                warnings.add("models lists only the base model: every tensor equals the base");
            }
            ParameterResolver resolver = new ParameterResolver(source, method, top.values, perModel,
                    top.stringLists, top.mappings);
            MergeConfig config = new MergeConfig(file, method, models, base, dtype, outDtype, tokenizer, resolver, warnings,
                    List.of(), normalisedTree(root));
            config.sources = Map.copyOf(sources);
            config.tokenizerSpec = tokenizerSection(root, tokenizer, models, base);
            config.chatTemplate = chatTemplate(root);
            return config;
        }

        private MergeConfig loadSlices(JsonNode root, Path file, MethodSpec method, DType dtype, DType outDtype,
                                       ParsedParameters top) {
            JsonNode node = root.get("slices");
            if (!node.isArray()) throw error("slices", "must be a list of {sources, base_model, parameters}, got " + ValueParser.show(node));
            if (node.isEmpty()) throw error("slices", "lists no slice");
            String topBaseWritten = optionalString(root, "base_model");
            ModelRef topBase = topBaseWritten == null ? null
                    : new ModelRef(ModelRef.NO_INDEX, topBaseWritten, resolve(topBaseWritten, "base_model"), true);
            if (topBase != null && (method.baseRule() == BaseModelRule.NONE || method.baseRule() == BaseModelRule.UNUSED)
                    && !method.baseAddedAsInput()) {
                warnings.add("base_model: has no effect for merge_method `" + method.name() + "` (mergekit ignores it too)");
            }
            List<OutputSlice> slices = new ArrayList<>();
            int firstLayer = 0;
            for (int i = 0; i < node.size(); i++) {
                OutputSlice sl = slice(node.get(i), i, firstLayer, method, topBase, top);
                slices.add(sl);
                firstLayer += sl.layerCount();
            }
            collectWarnings(method, top.values, List.of(), "models[%d].parameters."); // the top level's own
            ModelRef tokenizerDefault = topBase != null ? topBase : slices.getFirst().sources().getFirst().model();
            TokenizerSource tokenizer = tokenizer(root, topBase, tokenizerDefault);
            ParameterResolver resolver = new ParameterResolver(source, method, top.values, List.of(),
                    top.stringLists, top.mappings);
            return new MergeConfig(file, method, List.of(), topBase, dtype, outDtype, tokenizer, resolver, warnings,
                    slices, normalisedTree(root));
        }

        private OutputSlice slice(JsonNode n, int i, int firstLayer, MethodSpec method, ModelRef topBase,
                                  ParsedParameters top) {
            String where = "slices[" + i + "]";
            if (!n.isObject()) throw error(where, "must be a mapping {sources, base_model, parameters}, got " + ValueParser.show(n));
            checkKeys(n, SLICE_KEYS, where + ".", "`" + where + "`");
            JsonNode sourcesNode = n.get("sources");
            if (sourcesNode == null || sourcesNode.isNull()) throw error(where + ".sources", "is required: a list of {model, layer_range}");
            if (!sourcesNode.isArray()) throw error(where + ".sources", "must be a list of {model, layer_range}, got " + ValueParser.show(sourcesNode));
            if (sourcesNode.isEmpty()) throw error(where + ".sources", "lists no source");

            String sliceBaseWritten = optionalString(n, "base_model", where + ".base_model");
            Path baseResolved = sliceBaseWritten != null ? resolve(sliceBaseWritten, where + ".base_model")
                    : topBase != null ? topBase.resolvedPath() : null;
            String baseWritten = sliceBaseWritten != null ? sliceBaseWritten : topBase != null ? topBase.path() : null;

            List<String> written = new ArrayList<>();
            List<Path> resolved = new ArrayList<>();
            List<int[]> ranges = new ArrayList<>();
            for (int j = 0; j < sourcesNode.size(); j++) {
                JsonNode s = sourcesNode.get(j);
                String sw = where + ".sources[" + j + "]";
                if (!s.isObject()) throw error(sw, "must be a mapping {model, layer_range, parameters}, got " + ValueParser.show(s));
                checkKeys(s, SOURCE_KEYS, sw + ".", "`" + sw + "`");
                JsonNode m = s.get("model");
                if (m == null || m.isNull()) throw error(sw + ".model", "is required");
                if (!m.isTextual() || m.textValue().isBlank()) throw error(sw + ".model", "must be a folder path, got " + ValueParser.show(m));
                Path p = resolve(m.textValue(), sw + ".model");
                int prev = resolved.indexOf(p);
                if (prev >= 0) {
                    throw error(sw + ".model", "model `" + m.textValue() + "` is listed twice in " + where + ".sources (["
                            + prev + "] and [" + j + "]); a slice reads each model once");
                }
                written.add(m.textValue());
                resolved.add(p);
                ranges.add(layerRange(s.get("layer_range"), sw + ".layer_range"));
            }
            int length = ranges.getFirst()[1] - ranges.getFirst()[0];
            for (int j = 1; j < ranges.size(); j++) {
                int l = ranges.get(j)[1] - ranges.get(j)[0];
                if (l != length) {
                    throw error(where + ".sources[" + j + "].layer_range", "spans " + l + " layers but " + where
                            + ".sources[0] spans " + length + "; all sources of a slice must span the same number of layers");
                }
            }
            int baseIndex = baseResolved == null ? -1 : resolved.indexOf(baseResolved);
            if (baseIndex < 0 && baseResolved != null && written.size() == 1 && method.baseRule() == BaseModelRule.REQUIRED
                    && method.inputs().minOthers() == 0 && method.inputs().maxOthers() == 1) {
                // mergekit's slerp returns a lone input as it is: a one-source slice passes through.
                baseIndex = 0;
                baseResolved = resolved.getFirst();
                baseWritten = written.getFirst();
            }
            boolean baseCounts = method.baseRule() == BaseModelRule.REQUIRED || method.baseRule() == BaseModelRule.OPTIONAL;
            String countError = method.inputs().countError(written.size() - (baseCounts && baseIndex >= 0 ? 1 : 0));
            if (countError != null) {
                throw error(where + ".sources", "merge_method `" + method.name() + "` " + countError.replace("listed", "in this slice")
                        .replace("model;", "source;").replace("models;", "sources;"));
            }
            List<SliceSource> sources = new ArrayList<>();
            for (int j = 0; j < written.size(); j++) {
                ModelRef ref = new ModelRef(j, written.get(j), resolved.get(j), j == baseIndex, where + ".sources[" + j + "]");
                sources.add(new SliceSource(ref, ranges.get(j)[0], ranges.get(j)[1]));
            }
            ModelRef base = baseResolved == null ? null
                    : baseIndex >= 0 ? sources.get(baseIndex).model()
                    : new ModelRef(ModelRef.NO_INDEX, baseWritten, baseResolved, true,
                    sliceBaseWritten != null ? where + ".base_model" : "base_model");
            switch (method.baseRule()) {
                case REQUIRED -> {
                    if (base == null) {
                        throw error(where, "merge_method `" + method.name() + "` requires a base_model (top level or "
                                + where + ".base_model)");
                    }
                    if (!base.listed()) throw baseNotASource(where, method, base);
                }
                case OPTIONAL -> {
                    if (base != null && !base.listed()) throw baseNotASource(where, method, base);
                }
                case UNUSED, NONE -> {
                    if (sliceBaseWritten != null && !method.baseAddedAsInput()) {
                        warnings.add(where + ".base_model: has no effect for merge_method `" + method.name()
                                + "` (mergekit ignores it too)");
                    }
                }
            }

            ParsedParameters sliceParams = parameters(n.get("parameters"), where + ".parameters", method, Level.SLICE);
            List<Map<String, ParameterValue>> perSource = new ArrayList<>();
            for (int j = 0; j < sources.size(); j++) {
                perSource.add(parameters(sourcesNode.get(j).get("parameters"), where + ".sources[" + j + "].parameters",
                        method, Level.MODEL).values);
            }
            checkRequiredInSlice(method, where, sources, sliceParams.values, top.values, perSource);
            checkDensityScope(method, List.of(sliceParams.values, top.values),
                    List.of(where + ".parameters.density", "parameters.density"), perSource,
                    where + ".sources[%d].parameters.density");
            collectWarnings(method, sliceParams.values, perSource, where + ".sources[%d].parameters.");

            Map<String, List<String>> lists = new LinkedHashMap<>(top.stringLists);
            lists.putAll(sliceParams.stringLists);
            Map<String, Map<String, Double>> maps = new LinkedHashMap<>(top.mappings);
            maps.putAll(sliceParams.mappings);
            ParameterResolver resolver = new ParameterResolver(source, method, List.of(sliceParams.values, top.values),
                    perSource, lists, maps, "the source's parameters, then " + where + ".parameters, then top-level parameters");
            return new OutputSlice(i, sources, base, firstLayer, resolver);
        }

        private ConfigException baseNotASource(String where, MethodSpec method, ModelRef base) {
            return error(where + ".sources", "base_model `" + base.path() + "` is not one of the slice's sources; merge_method `"
                    + method.name() + "` reads the base from the slice, so list it with a layer_range");
        }

        private int[] layerRange(JsonNode n, String path) {
            if (n == null || n.isNull()) throw error(path, "is required: [first, end) layer indices, e.g. [0, 16]");
            if (!n.isArray() || n.size() != 2 || !n.get(0).isIntegralNumber() || !n.get(1).isIntegralNumber()) {
                throw error(path, "must be two integers [first, end), got " + (n.isArray() ? n.toString() : ValueParser.show(n)));
            }
            long a = n.get(0).longValue(), b = n.get(1).longValue();
            if (a < 0 || b <= a || b > Integer.MAX_VALUE) {
                throw error(path, "[" + a + ", " + b + "] is not a range: need 0 <= first < end (end is exclusive)");
            }
            return new int[] {(int) a, (int) b};
        }

        private void checkTopLevelKeys(JsonNode root) {
            for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (TOP_LEVEL_KEYS.contains(k)) continue;
                if (k.equals(NAME_KEY)) {
                    if (!multiStage) warnings.add("name: has no effect outside a multi-stage (multi-document) config");
                    continue;
                }
                if (IGNORED_KEYS.contains(k)) {
                    warnings.add(ignoredKeyWarning(k));
                    continue;
                }
                String why = UNSUPPORTED_KEYS.get(k);
                if (why != null) throw error(k, why);
                throw error(k, "unknown key `" + k + "` in the top level; valid keys: " + join(TOP_LEVEL_KEYS)
                        + Suggestions.didYouMean(k, TOP_LEVEL_KEYS));
            }
        }

        private static String ignoredKeyWarning(String path) {
            return path + ": has no effect (mergekit accepts it and ignores it too)";
        }

        private static boolean present(JsonNode root, String key) {
            JsonNode n = root.get(key);
            return n != null && !n.isNull();
        }

        /** The tree as run: dtypes without {@code torch.}, no stage {@code name}. */
        private static JsonNode normalisedTree(JsonNode root) {
            com.fasterxml.jackson.databind.node.ObjectNode t = ((com.fasterxml.jackson.databind.node.ObjectNode) root).deepCopy();
            t.remove(NAME_KEY);
            for (String k : List.of("dtype", "out_dtype")) {
                JsonNode d = t.get(k);
                if (d != null && d.isTextual()) t.put(k, stripTorch(d.textValue()));
            }
            return t;
        }

        private static String stripTorch(String dtype) {
            return dtype.startsWith("torch.") ? dtype.substring("torch.".length()) : dtype;
        }

        private MethodSpec method(JsonNode node) {
            if (node == null || node.isNull()) {
                throw error("merge_method", "is required; valid methods: " + join(MethodRegistry.names()));
            }
            if (!node.isTextual()) throw error("merge_method", "must be a string, got " + ValueParser.show(node));
            String name = node.textValue();
            return MethodRegistry.find(name).orElseThrow(() -> error("merge_method",
                    "unknown merge_method `" + name + "`; valid methods: " + join(MethodRegistry.names())
                            + Suggestions.didYouMean(name, MethodRegistry.names())));
        }

        private List<String> modelPaths(JsonNode node) {
            if (node == null || node.isNull()) {
                throw error("models", "is required: a list of {model, parameters} (or `slices`: a list of {sources})");
            }
            if (!node.isArray()) throw error("models", "must be a list of {model, parameters}, got " + ValueParser.show(node));
            if (node.isEmpty()) throw error("models", "lists no model");
            List<String> out = new ArrayList<>();
            for (int i = 0; i < node.size(); i++) {
                JsonNode e = node.get(i);
                String where = "models[" + i + "]";
                if (!e.isObject()) throw error(where, "must be a mapping {model, parameters}, got " + ValueParser.show(e));
                checkKeys(e, MODEL_KEYS, where + ".", "`" + where + "`");
                JsonNode m = e.get("model");
                if (m == null || m.isNull()) throw error(where + ".model", "is required");
                if (!m.isTextual() || m.textValue().isBlank()) {
                    throw error(where + ".model", "must be a folder path, got " + ValueParser.show(m));
                }
                out.add(m.textValue());
            }
            return out;
        }

        /**
         * mergekit's rule: an earlier stage's name, else an absolute path, else relative to the
         * config file's folder, then to the current directory; both existing and different is
         * ambiguous. Nothing existing resolves against the config's folder (opening it fails later
         * with the path).
         */
        private Path resolve(String written, String key) {
            Path stage = stages.get(written);
            if (stage != null) return stage;
            // FOLDER+ADAPTER and hub ids (spec §16.4) through ModelResolver; MergeJob opens them via source(ref).
            ModelResolver.Resolved r = ModelResolver.resolve(written, baseDir);
            sources.put(written, r);
            if (r.adapter().isPresent()) return baseDir.resolve(written).toAbsolutePath().normalize();
            if (r.model().hub().isPresent() && r.model().existsLocally()
                    && !Files.exists(baseDir.resolve(written)) && !Files.exists(Path.of(written))) {
                return r.model().local(); // a cached hub snapshot
            }
            Path p;
            try {
                p = Path.of(written);
            } catch (java.nio.file.InvalidPathException e) {
                throw error(key, "`" + written + "` is not a valid path: " + e.getMessage());
            }
            if (p.isAbsolute()) return p.normalize();
            Path fromConfig = baseDir.resolve(p).toAbsolutePath().normalize();
            Path fromCwd = Path.of("").toAbsolutePath().resolve(p).normalize();
            if (fromConfig.equals(fromCwd)) return fromConfig;
            boolean configExists = Files.exists(fromConfig), cwdExists = Files.exists(fromCwd);
            if (configExists && cwdExists && !sameFile(fromConfig, fromCwd)) {
                throw error(key, "`" + written + "` is ambiguous: it exists relative to the config file (" + fromConfig
                        + ") and to the current directory (" + fromCwd + "); write an absolute path or ./ relative to one");
            }
            return configExists || !cwdExists ? fromConfig : fromCwd;
        }

        private static boolean sameFile(Path a, Path b) {
            try {
                return Files.isSameFile(a, b);
            } catch (IOException e) {
                return false;
            }
        }

        private String optionalString(JsonNode root, String key) {
            return optionalString(root, key, key);
        }

        private String optionalString(JsonNode root, String key, String path) {
            JsonNode n = root.get(key);
            if (n == null || n.isNull()) return null;
            if (!n.isTextual() || n.textValue().isBlank()) throw error(path, "must be a string, got " + ValueParser.show(n));
            return n.textValue();
        }

        private void checkBaseRule(MethodSpec method, ModelRef base) {
            switch (method.baseRule()) {
                case REQUIRED -> {
                    if (base == null) throw error("base_model", "merge_method `" + method.name() + "` requires a base_model");
                }
                case NONE -> {
                    if (base != null) {
                        warnings.add("base_model: has no effect for merge_method `" + method.name() + "` (mergekit ignores it too)");
                    }
                }
                case UNUSED -> {
                    if (base != null && !method.baseAddedAsInput()) {
                        warnings.add("base_model is not used by merge_method `" + method.name() + "`");
                    }
                }
                case OPTIONAL -> {
                }
            }
        }

        private DType dtype(JsonNode root, String key) {
            JsonNode n = root.get(key);
            if (n == null || n.isNull()) return null;
            String name = n.isTextual() ? stripTorch(n.textValue()) : null;
            if (name == null || !DTYPES.contains(name)) {
                throw error(key, "invalid value " + ValueParser.show(n) + "; valid values: " + join(DTYPES)
                        + " (a `torch.` prefix is accepted)");
            }
            return DType.fromConfigName(name);
        }

        private TokenizerSource tokenizer(JsonNode root, ModelRef base, ModelRef first) {
            String t = optionalString(root, "tokenizer_source");
            if (t == null) {
                ModelRef from = base != null ? base : first;
                return new TokenizerSource(from.path(), from.resolvedPath());
            }
            if (t.equals("union")) return new TokenizerSource(t, null);
            if (t.equals("base")) {
                if (base == null) throw error("tokenizer_source", "`base` needs a base_model");
                return new TokenizerSource(base.path(), base.resolvedPath());
            }
            return new TokenizerSource(t, resolve(t, "tokenizer_source"));
        }

        /** {@code tokenizer_source: union} or the {@code tokenizer:} section (mergekit's TokenizerConfig). */
        private TokenizerSpec tokenizerSection(JsonNode root, TokenizerSource source, List<ModelRef> models, ModelRef base) {
            JsonNode node = root.get("tokenizer");
            if (node == null || node.isNull()) return source.resolvedPath() == null ? TokenizerSpec.union() : null;
            if (root.hasNonNull("tokenizer_source")) {
                throw error("tokenizer", "give either tokenizer_source or a tokenizer section, not both");
            }
            TokenizerSpec spec;
            try {
                spec = TokenizerSpec.parse(node);
            } catch (IllegalArgumentException e) {
                String m = e.getMessage();
                int colon = m.indexOf(": ");
                throw error("tokenizer" + m.substring(0, colon), m.substring(colon + 2));
            }
            List<String> names = new ArrayList<>();
            for (ModelRef m : models) names.add(m.path());
            if (base != null) names.add(base.path());
            if (!spec.source().equals("union") && !spec.source().equals("base") && !names.contains(spec.source())) {
                throw error("tokenizer.source", "`" + spec.source() + "` is not one of the merged models; valid: union, base, "
                        + String.join(", ", names));
            }
            if (spec.source().equals("base") && base == null) throw error("tokenizer.source", "`base` needs a base_model");
            for (var e : spec.tokens().entrySet()) {
                String model = e.getValue().model();
                if (model != null && !names.contains(model) && !(model.equals("base") && base != null)) {
                    throw error("tokenizer.tokens." + e.getKey() + ".source", "`" + model + "` is not one of the merged models: "
                            + String.join(", ", names));
                }
            }
            return spec;
        }

        private String chatTemplate(JsonNode root) {
            String t = optionalString(root, "chat_template");
            if (t == null) return null;
            try {
                ChatTemplates.check(t);
            } catch (IllegalArgumentException e) {
                throw error("chat_template", e.getMessage());
            }
            return t;
        }

        /** Parsed parameter block: tree values plus literal lists/mappings (top level and slices only). */
        private record ParsedParameters(Map<String, ParameterValue> values, Map<String, List<String>> stringLists,
                                        Map<String, Map<String, Double>> mappings) {
        }

        private ParsedParameters parameters(JsonNode node, String where, MethodSpec method, Level level) {
            Map<String, ParameterValue> vals = new LinkedHashMap<>();
            Map<String, List<String>> lists = new LinkedHashMap<>();
            Map<String, Map<String, Double>> maps = new LinkedHashMap<>();
            if (node == null || node.isNull()) return new ParsedParameters(vals, lists, maps);
            if (!node.isObject()) throw error(where, "must be a mapping of parameters, got " + ValueParser.show(node));
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                String path = where + "." + name;
                String rejected = method.rejectedParameters().get(name);
                if (rejected != null) {
                    throw error(path, "`" + name + "` is not a parameter of `" + method.name() + "`: " + rejected);
                }
                ParamSpec spec = method.parameters().get(name);
                if (spec == null) {
                    if (MethodRegistry.isKnownParameter(name)) {
                        // mergekit reads only the parameters a method declares; others are ignored.
                        warnings.add(path + ": `" + name + "` has no effect in merge_method `" + method.name()
                                + "` (mergekit ignores it too)");
                        continue;
                    }
                    List<String> valid = level != Level.MODEL ? List.copyOf(method.parameters().keySet()) : method.perModelParameterNames();
                    String hint = Suggestions.didYouMean(name, method.parameters().keySet());
                    if (hint.isEmpty()) hint = Suggestions.didYouMean(name, MethodRegistry.allParameterNames());
                    throw error(path, "unknown parameter `" + name + "` in `" + where + "` for merge_method `"
                            + method.name() + "`; valid parameters: " + (valid.isEmpty() ? "(none)" : join(valid)) + hint);
                }
                if (level == Level.MODEL && !spec.perModel()) {
                    // mergekit looks global parameters up without a model, so a per-model value is never read.
                    warnings.add(path + ": `" + name + "` is a global parameter of `" + method.name()
                            + "`; set per model it has no effect (set it in the top-level `parameters`"
                            + (where.startsWith("slices[") ? " or the slice's" : "") + ")");
                    continue;
                }
                if (!spec.available()) {
                    throw error(path, "`" + name + "` is not available yet (planned)");
                }
                switch (spec.kind()) {
                    case STRING_LIST -> lists.put(name, values.parseStringList(e.getValue(), path));
                    case MAPPING -> maps.put(name, values.parseLines(e.getValue(), path));
                    default -> vals.put(name, values.parse(e.getValue(), spec, path));
                }
            }
            return new ParsedParameters(vals, lists, maps);
        }

        private void checkRequired(MethodSpec method, List<ModelRef> models, ModelRef base,
                                   Map<String, ParameterValue> top, List<Map<String, ParameterValue>> perModel) {
            boolean baseIsReference = method.baseRule() == BaseModelRule.REQUIRED
                    || method.baseRule() == BaseModelRule.OPTIONAL;
            for (ParamSpec s : method.parameters().values()) {
                if (!s.required()) continue;
                if (!s.perModel()) {
                    if (!top.containsKey(s.name())) {
                        throw error("parameters." + s.name(), "required parameter `" + s.name() + "` of merge_method `"
                                + method.name() + "` is missing");
                    }
                    continue;
                }
                if (top.containsKey(s.name())) continue;
                for (ModelRef m : models) {
                    if (m.base() && baseIsReference) continue;
                    if (!perModel.get(m.index()).containsKey(s.name())) {
                        throw error(m.keyPath() + ".parameters." + s.name(), "required parameter `" + s.name()
                                + "` is missing for model `" + m.path() + "`; set it in " + m.keyPath()
                                + ".parameters or in the top-level parameters");
                    }
                }
                if (base != null && !base.listed() && method.baseAddedAsInput()) {
                    throw error("parameters." + s.name(), "base_model `" + base.path() + "` is not listed in models, so `"
                            + method.name() + "` adds it as an extra input weighted by the top-level `" + s.name()
                            + "`, which is missing");
                }
            }
        }

        private void checkRequiredInSlice(MethodSpec method, String where, List<SliceSource> sources,
                                          Map<String, ParameterValue> slice, Map<String, ParameterValue> top,
                                          List<Map<String, ParameterValue>> perSource) {
            boolean baseIsReference = method.baseRule() == BaseModelRule.REQUIRED
                    || method.baseRule() == BaseModelRule.OPTIONAL;
            for (ParamSpec s : method.parameters().values()) {
                if (!s.required()) continue;
                if (slice.containsKey(s.name()) || top.containsKey(s.name())) continue;
                if (!s.perModel()) {
                    throw error(where + ".parameters." + s.name(), "required parameter `" + s.name() + "` of merge_method `"
                            + method.name() + "` is missing; set it in " + where + ".parameters or the top-level parameters");
                }
                for (SliceSource src : sources) {
                    ModelRef m = src.model();
                    if (m.base() && baseIsReference) continue;
                    if (!perSource.get(m.index()).containsKey(s.name())) {
                        throw error(m.keyPath() + ".parameters." + s.name(), "required parameter `" + s.name()
                                + "` is missing for model `" + m.path() + "`; set it in " + m.keyPath() + ".parameters, "
                                + where + ".parameters or the top-level parameters");
                    }
                }
            }
        }

        private void checkDensityScope(MethodSpec method, List<Map<String, ParameterValue>> globals,
                                       List<String> globalKeys, List<Map<String, ParameterValue>> perModel,
                                       String perModelKey) {
            if (!method.declares("density_scope")) return;
            ParameterValue scope = null;
            for (Map<String, ParameterValue> g : globals) {
                if (scope == null) scope = g.get("density_scope");
            }
            if (scope == null || !"model".equals(scope.evaluate("", 0.0))) return;
            String why = "density_scope `model` takes one density per model; a gradient or filtered list varies by tensor";
            for (int i = 0; i < globals.size(); i++) {
                ParameterValue d = globals.get(i).get("density");
                if (d != null && d.variesByTensor()) throw error(globalKeys.get(i), why);
            }
            for (int i = 0; i < perModel.size(); i++) {
                ParameterValue md = perModel.get(i).get("density");
                if (md != null && md.variesByTensor()) throw error(String.format(java.util.Locale.ROOT, perModelKey, i), why);
            }
        }

        private void collectWarnings(MethodSpec method, Map<String, ParameterValue> top,
                                     List<Map<String, ParameterValue>> perModel, String perModelPrefix) {
            String topPrefix = perModelPrefix.startsWith("slices[")
                    ? perModelPrefix.substring(0, perModelPrefix.indexOf(".sources")) + ".parameters." : "parameters.";
            for (ParamSpec s : method.ignoredParameters()) {
                if (top.containsKey(s.name())) {
                    warnings.add(topPrefix + s.name() + ": `" + s.name() + "` has no effect in `" + method.name()
                            + "`: " + s.ignoredNote());
                }
                for (int i = 0; i < perModel.size(); i++) {
                    if (perModel.get(i).containsKey(s.name())) {
                        warnings.add(String.format(java.util.Locale.ROOT, perModelPrefix, i) + s.name() + ": `" + s.name()
                                + "` has no effect in `" + method.name() + "`: " + s.ignoredNote());
                    }
                }
            }
            for (ParamSpec s : method.parameters().values()) {
                if (!s.warnIfNotDefault()) continue;
                List<String> where = new ArrayList<>();
                if (notDefault(top.get(s.name()), s)) where.add(topPrefix + s.name());
                for (int i = 0; i < perModel.size(); i++) {
                    if (notDefault(perModel.get(i).get(s.name()), s)) {
                        where.add(String.format(java.util.Locale.ROOT, perModelPrefix, i) + s.name());
                    }
                }
                for (String w : where) {
                    warnings.add(w + ": `" + s.name() + "` has no effect in `" + method.name() + "` (no sparsifier)");
                }
            }
        }

        private static boolean notDefault(ParameterValue v, ParamSpec s) {
            if (v == null) return false;
            if (!(v instanceof ParameterValue.Scalar sc)) return true;
            return !Objects.equals(sc.value(), s.defaultValue());
        }

        private void checkKeys(JsonNode node, List<String> valid, String pathPrefix, String where) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!valid.contains(k)) {
                    if (IGNORED_KEYS.contains(k)) {
                        warnings.add(ignoredKeyWarning(pathPrefix + k));
                        continue;
                    }
                    String why = UNSUPPORTED_KEYS.get(k);
                    if (why != null) throw error(pathPrefix + k, why);
                    throw error(pathPrefix + k, "unknown key `" + k + "` in " + where + "; valid keys: " + join(valid)
                            + Suggestions.didYouMean(k, valid));
                }
            }
        }

        private ConfigException error(String path, String message) {
            return new ConfigException(source, path, message);
        }

        private static String join(List<String> items) {
            return String.join(", ", items);
        }
    }
}

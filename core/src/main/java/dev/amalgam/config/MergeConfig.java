package dev.amalgam.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
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
            "models", "base_model", "merge_method", "parameters", "dtype", "out_dtype", "tokenizer_source");
    static final List<String> MODEL_KEYS = List.of("model", "parameters");
    static final List<String> DTYPES = List.of("bfloat16", "float16", "float32");

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

    private MergeConfig(Path file, MethodSpec method, List<ModelRef> models, ModelRef base, DType dtype,
                        DType outDtype, TokenizerSource tokenizerSource, ParameterResolver parameters,
                        List<String> warnings) {
        this.file = file;
        this.method = method;
        this.models = List.copyOf(models);
        this.base = base;
        this.dtype = dtype;
        this.outDtype = outDtype;
        this.tokenizerSource = tokenizerSource;
        this.parameters = parameters;
        this.warnings = List.copyOf(warnings);
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
        YAMLMapper mapper = YAMLMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
        JsonNode root;
        try {
            root = mapper.readTree(yaml);
        } catch (JsonProcessingException e) {
            String key = currentKey(e);
            String where = e.getLocation() == null ? ""
                    : "line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ": ";
            String hint = e.getOriginalMessage().startsWith("Malformed numeric value")
                    ? " (NaN and infinities are not valid parameter values)" : "";
            throw new ConfigException(sourceName, key == null ? "" : key,
                    "invalid YAML at " + where + e.getOriginalMessage() + hint, e);
        }
        return new Loader(sourceName, baseDir.toAbsolutePath().normalize()).load(root, file);
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
        return new Loader(sourceName, baseDir.toAbsolutePath().normalize()).load(root, null);
    }

    private static String currentKey(JsonProcessingException e) {
        try {
            return e.getProcessor() instanceof JsonParser p ? p.currentName() : null;
        } catch (IOException ignored) {
            return null;
        }
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

    /** Every model folder the merge reads: the listed models, then an unlisted base. */
    public List<ModelRef> allModels() {
        return base != null && !base.listed() ? append(models, base) : models;
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

    /** One parse: holds the source name for messages and collects warnings. */
    private static final class Loader {
        private final String source;
        private final Path baseDir;
        private final ValueParser values;
        private final List<String> warnings = new ArrayList<>();

        Loader(String source, Path baseDir) {
            this.source = source;
            this.baseDir = baseDir;
            this.values = new ValueParser(source);
        }

        MergeConfig load(JsonNode root, Path file) {
            if (root == null || root.isMissingNode() || root.isNull()) throw error("", "the config is empty");
            if (!root.isObject()) throw error("", "the config must be a mapping of keys; valid keys: " + join(TOP_LEVEL_KEYS));
            checkKeys(root, TOP_LEVEL_KEYS, "", "the top level");

            MethodSpec method = method(root.get("merge_method"));
            List<String> written = modelPaths(root.get("models"));
            List<Path> resolved = new ArrayList<>();
            Map<Path, Integer> seen = new HashMap<>();
            for (int i = 0; i < written.size(); i++) {
                Path p = resolve(written.get(i));
                Integer prev = seen.putIfAbsent(p, i);
                if (prev != null) {
                    throw error("models[" + i + "].model", "model `" + written.get(i) + "` is listed twice (models["
                            + prev + "] and models[" + i + "]); list each model once");
                }
                resolved.add(p);
            }

            String baseWritten = optionalString(root, "base_model");
            Path baseResolved = baseWritten == null ? null : resolve(baseWritten);
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
            if (countError != null) throw error("models", "merge_method `" + method.name() + "` " + countError);

            DType dtype = dtype(root, "dtype");
            DType outDtype = dtype(root, "out_dtype");
            TokenizerSource tokenizer = tokenizer(root, base, models);

            ParsedParameters top = parameters(root.get("parameters"), "parameters", method, true);
            List<Map<String, ParameterValue>> perModel = new ArrayList<>();
            JsonNode modelsNode = root.get("models");
            for (int i = 0; i < models.size(); i++) {
                ParsedParameters p = parameters(modelsNode.get(i).get("parameters"),
                        "models[" + i + "].parameters", method, false);
                perModel.add(p.values);
            }

            checkRequired(method, models, base, top.values, perModel);
            checkDensityScope(method, top.values, perModel);
            collectWarnings(method, models, base, top.values, perModel);

            // Last, so that a config for a planned method is still checked in full.
            if (!method.implemented()) {
                throw error("merge_method", "merge_method `" + method.name() + "` is not available yet (planned); "
                        + "available now: " + join(MethodRegistry.implementedNames()));
            }

            ParameterResolver resolver = new ParameterResolver(source, method, top.values, perModel,
                    top.stringLists, top.mappings);
            return new MergeConfig(file, method, models, base, dtype, outDtype, tokenizer, resolver, warnings);
        }

        private MethodSpec method(JsonNode node) {
            if (node == null || node.isNull()) {
                throw error("merge_method", "is required; valid methods: " + join(MethodRegistry.names()));
            }
            if (!node.isTextual()) throw error("merge_method", "must be a string, got " + ValueParser.show(node));
            String name = node.textValue();
            MethodSpec m = MethodRegistry.find(name).orElseThrow(() -> error("merge_method",
                    "unknown merge_method `" + name + "`; valid methods: " + join(MethodRegistry.names())));
            return m;
        }

        private List<String> modelPaths(JsonNode node) {
            if (node == null || node.isNull()) throw error("models", "is required: a list of {model, parameters}");
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

        private Path resolve(String written) {
            return baseDir.resolve(written).toAbsolutePath().normalize();
        }

        private String optionalString(JsonNode root, String key) {
            JsonNode n = root.get(key);
            if (n == null || n.isNull()) return null;
            if (!n.isTextual() || n.textValue().isBlank()) throw error(key, "must be a string, got " + ValueParser.show(n));
            return n.textValue();
        }

        private void checkBaseRule(MethodSpec method, ModelRef base) {
            switch (method.baseRule()) {
                case REQUIRED -> {
                    if (base == null) throw error("base_model", "merge_method `" + method.name() + "` requires a base_model");
                }
                case NONE -> {
                    if (base != null) throw error("base_model", "merge_method `" + method.name() + "` takes no base_model");
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
            if (!n.isTextual() || !DTYPES.contains(n.textValue())) {
                throw error(key, "invalid value " + ValueParser.show(n) + "; valid values: " + join(DTYPES));
            }
            return DType.fromConfigName(n.textValue());
        }

        private TokenizerSource tokenizer(JsonNode root, ModelRef base, List<ModelRef> models) {
            String t = optionalString(root, "tokenizer_source");
            if (t == null) {
                ModelRef from = base != null ? base : models.getFirst();
                return new TokenizerSource(from.path(), from.resolvedPath());
            }
            if (t.equals("union")) {
                throw error("tokenizer_source", "`union` (merged vocabularies) is not supported yet; use `base` or a model path");
            }
            if (t.equals("base")) {
                if (base == null) throw error("tokenizer_source", "`base` needs a base_model");
                return new TokenizerSource(base.path(), base.resolvedPath());
            }
            return new TokenizerSource(t, resolve(t));
        }

        /** Parsed parameter block: tree values plus literal lists/mappings (top level only). */
        private record ParsedParameters(Map<String, ParameterValue> values, Map<String, List<String>> stringLists,
                                        Map<String, Map<String, Double>> mappings) {
        }

        private ParsedParameters parameters(JsonNode node, String where, MethodSpec method, boolean topLevel) {
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
                    List<String> valid = topLevel ? List.copyOf(method.parameters().keySet()) : method.perModelParameterNames();
                    throw error(path, "unknown parameter `" + name + "` in `" + where + "` for merge_method `"
                            + method.name() + "`; valid parameters: " + (valid.isEmpty() ? "(none)" : join(valid)));
                }
                if (!topLevel && !spec.perModel()) {
                    throw error(path, "`" + name + "` is a global parameter of `" + method.name()
                            + "`; set it in the top-level `parameters`. Per-model parameters: "
                            + (method.perModelParameterNames().isEmpty() ? "(none)" : join(method.perModelParameterNames())));
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

        private void checkDensityScope(MethodSpec method, Map<String, ParameterValue> top,
                                       List<Map<String, ParameterValue>> perModel) {
            if (!method.declares("density_scope")) return;
            ParameterValue scope = top.get("density_scope");
            if (scope == null || !"model".equals(scope.evaluate("", 0.0))) return;
            String why = "density_scope `model` takes one density per model; a gradient or filtered list varies by tensor";
            ParameterValue d = top.get("density");
            if (d != null && d.variesByTensor()) throw error("parameters.density", why);
            for (int i = 0; i < perModel.size(); i++) {
                ParameterValue md = perModel.get(i).get("density");
                if (md != null && md.variesByTensor()) throw error("models[" + i + "].parameters.density", why);
            }
        }

        private void collectWarnings(MethodSpec method, List<ModelRef> models, ModelRef base,
                                     Map<String, ParameterValue> top, List<Map<String, ParameterValue>> perModel) {
            for (ParamSpec s : method.ignoredParameters()) {
                if (top.containsKey(s.name())) {
                    warnings.add("parameters." + s.name() + ": `" + s.name() + "` has no effect in `" + method.name()
                            + "`: " + s.ignoredNote());
                }
                for (int i = 0; i < perModel.size(); i++) {
                    if (perModel.get(i).containsKey(s.name())) {
                        warnings.add("models[" + i + "].parameters." + s.name() + ": `" + s.name() + "` has no effect in `"
                                + method.name() + "`: " + s.ignoredNote());
                    }
                }
            }
            for (ParamSpec s : method.parameters().values()) {
                if (!s.warnIfNotDefault()) continue;
                List<String> where = new ArrayList<>();
                if (notDefault(top.get(s.name()), s)) where.add("parameters." + s.name());
                for (int i = 0; i < perModel.size(); i++) {
                    if (notDefault(perModel.get(i).get(s.name()), s)) where.add("models[" + i + "].parameters." + s.name());
                }
                for (String w : where) {
                    warnings.add(w + ": `" + s.name() + "` has no effect in `" + method.name() + "` (no sparsifier)");
                }
            }
            if (base != null && method.baseRule() == BaseModelRule.REQUIRED && models.stream().allMatch(ModelRef::base)) {
                warnings.add("models lists only the base model: every tensor equals the base");
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
                    throw error(pathPrefix + k, "unknown key `" + k + "` in " + where + "; valid keys: " + join(valid));
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

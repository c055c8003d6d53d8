package dev.amalgam.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.tensor.DType;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A merge config written in code: every key and parameter the YAML has, typed. {@link #build()}
 * turns it into the YAML parser's tree and validates it with the parser's own checks, so a
 * builder config and a YAML config with the same content are the same {@link MergeConfig}, and
 * a mistake gets the same message (prefixed by {@link #source(String)}, {@code builder} by
 * default, instead of the file name).
 *
 * <pre>{@code
 * MergeConfig ties = MergeConfig.builder("ties")
 *         .baseModel("base")
 *         .model("ft-1", m -> m.weight(1.0).density(0.3))
 *         .model("ft-2", m -> m.weight(ConfigValue.gradient(0.4, 1.0)).density(0.5))
 *         .normalize(true)
 *         .build();
 * }</pre>
 *
 * <p>Model names are paths relative to {@link #baseDir(Path)} (the working directory by
 * default) when the merge opens folders, or the keys under which an application supplies
 * in-memory checkpoints.
 *
 * <p>Thread-safety: not thread-safe; build on one thread. The built config is immutable.
 */
public final class MergeConfigBuilder extends ParameterBlock<MergeConfigBuilder> {

    private final String method;
    private final Map<String, ModelParameters> models = new LinkedHashMap<>();
    private String baseModel;
    private String dtype;
    private String outDtype;
    private String tokenizerSource;
    private Path baseDir = Path.of("");
    private String source = "builder";

    MergeConfigBuilder(String method) {
        this.method = Objects.requireNonNull(method, "merge_method");
    }

    /**
     * @param model {@code base_model}: a model name (listed in {@link #model} or not)
     * @return this builder
     */
    public MergeConfigBuilder baseModel(String model) {
        this.baseModel = model;
        return this;
    }

    /**
     * Adds an entry to {@code models} without parameters.
     *
     * @param model the model name
     * @return this builder
     */
    public MergeConfigBuilder model(String model) {
        return model(model, m -> { });
    }

    /**
     * Adds an entry to {@code models}; the model index is the order of calls.
     *
     * @param model      the model name
     * @param parameters sets the entry's {@code parameters}
     * @return this builder
     */
    public MergeConfigBuilder model(String model, Consumer<ModelParameters> parameters) {
        ModelParameters p = models.computeIfAbsent(model, k -> new ModelParameters());
        parameters.accept(p);
        return this;
    }

    /**
     * @param dtype {@code dtype}: F32, F16 or BF16
     * @return this builder
     */
    public MergeConfigBuilder dtype(DType dtype) {
        this.dtype = dtype.configName();
        return this;
    }

    /**
     * @param outDtype {@code out_dtype}: F32, F16 or BF16
     * @return this builder
     */
    public MergeConfigBuilder outDtype(DType outDtype) {
        this.outDtype = outDtype.configName();
        return this;
    }

    /**
     * @param source {@code tokenizer_source}: {@code base} or a model path
     * @return this builder
     */
    public MergeConfigBuilder tokenizerSource(String source) {
        this.tokenizerSource = source;
        return this;
    }

    /**
     * @param dir the folder model names resolve against (as the YAML file's folder does)
     * @return this builder
     */
    public MergeConfigBuilder baseDir(Path dir) {
        this.baseDir = dir;
        return this;
    }

    /**
     * @param source prefixes error messages (as a YAML file's name does)
     * @return this builder
     */
    public MergeConfigBuilder source(String source) {
        this.source = source;
        return this;
    }

    /**
     * @param normalize {@code normalize}: divide by the sum of the (agreeing) weights
     * @return this builder
     */
    public MergeConfigBuilder normalize(boolean normalize) {
        return parameter("normalize", ConfigValue.of(normalize));
    }

    /**
     * @param rescale {@code rescale}: rescale each sparsified task vector
     * @return this builder
     */
    public MergeConfigBuilder rescale(boolean rescale) {
        return parameter("rescale", ConfigValue.of(rescale));
    }

    /**
     * @param mode {@code rescale_mode}: {@link RescaleMode#L1} or {@link RescaleMode#INVERSE_DENSITY}
     * @return this builder
     */
    public MergeConfigBuilder rescaleMode(RescaleMode mode) {
        return parameter("rescale_mode", ConfigValue.of(mode.name().toLowerCase(Locale.ROOT)));
    }

    /**
     * @param lambda {@code lambda}: scales the merged task vector
     * @return this builder
     */
    public MergeConfigBuilder lambda(double lambda) {
        return parameter("lambda", ConfigValue.of(lambda));
    }

    /**
     * @param method {@code consensus_method}: {@link ConsensusMethod#SUM} or {@link ConsensusMethod#COUNT}
     * @return this builder
     */
    public MergeConfigBuilder consensusMethod(ConsensusMethod method) {
        return parameter("consensus_method", ConfigValue.of(method.name().toLowerCase(Locale.ROOT)));
    }

    /**
     * @param scope {@code density_scope} of {@code ties}
     * @return this builder
     */
    public MergeConfigBuilder densityScope(DensityScope scope) {
        return parameter("density_scope", ConfigValue.of(scope.configName()));
    }

    /**
     * @param alpha {@code alpha} of the SVD and consensus methods
     * @return this builder
     */
    public MergeConfigBuilder alpha(double alpha) {
        return parameter("alpha", ConfigValue.of(alpha));
    }

    /**
     * @param substrings {@code exclude} of the SVD methods: tensors whose name contains one are
     *                   merged by the mean task vector
     * @return this builder
     */
    public MergeConfigBuilder exclude(String... substrings) {
        ArrayNode a = JsonNodeFactory.instance.arrayNode();
        for (String s : substrings) a.add(s);
        return set("exclude", a);
    }

    /**
     * @param fraction {@code common_space_fraction} of {@code iso_cts}
     * @return this builder
     */
    public MergeConfigBuilder commonSpaceFraction(double fraction) {
        return parameter("common_space_fraction", ConfigValue.of(fraction));
    }

    /**
     * @param seed {@code random_seed}: keys the DARE masks
     * @return this builder
     */
    public MergeConfigBuilder randomSeed(long seed) {
        return parameter("random_seed", ConfigValue.of(seed));
    }

    /**
     * @param allow {@code allow_nonfinite}: merge NaN/Inf inputs and keep non-finite outputs instead of failing
     * @return this builder
     */
    public MergeConfigBuilder allowNonfinite(boolean allow) {
        return parameter("allow_nonfinite", ConfigValue.of(allow));
    }

    /**
     * The config as YAML text (what {@link MergeConfig#parse} would read to give the same config).
     *
     * @return YAML
     */
    public String toYaml() {
        try {
            return new YAMLMapper().writeValueAsString(tree());
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Validates and builds the config.
     *
     * @return the config
     * @throws ConfigException naming the key, with the same message a YAML config gets
     */
    public MergeConfig build() {
        return MergeConfig.fromTree(tree(), baseDir, source);
    }

    ObjectNode tree() {
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        root.put("merge_method", method);
        if (baseModel != null) root.put("base_model", baseModel);
        if (!models.isEmpty()) {
            ArrayNode list = root.putArray("models");
            models.forEach((name, p) -> {
                ObjectNode e = list.addObject();
                e.put("model", name);
                if (!p.node().isEmpty()) e.set("parameters", p.node().deepCopy());
            });
        }
        if (!node().isEmpty()) root.set("parameters", node().deepCopy());
        if (dtype != null) root.put("dtype", dtype);
        if (outDtype != null) root.put("out_dtype", outDtype);
        if (tokenizerSource != null) root.put("tokenizer_source", tokenizerSource);
        return root;
    }

    /**
     * The {@code parameters} of one model entry.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class ModelParameters extends ParameterBlock<ModelParameters> {
        ModelParameters() {
        }
    }
}

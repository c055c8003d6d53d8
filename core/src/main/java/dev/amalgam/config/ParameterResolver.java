package dev.amalgam.config;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * Evaluates a method's parameters for one tensor with the lookup order of spec §1.1:
 * per-model parameters: {@code models[i].parameters} → top-level {@code parameters} → default;
 * global parameters: top-level → default. For an output slice (§16.2) there is one more level
 * between the model and the top: source → slice → top level → default, and per-model filters
 * match the source's input tensor name while global ones match the output name. Values are parsed once at load time; each call is a
 * couple of map lookups plus the evaluation of a small value tree.
 *
 * <p>Implementation notes: immutable and thread-safe. For a per-model parameter, {@code model}
 * null or an implicitly added base (no model index) skips the model level. For a global
 * parameter {@code model} is ignored. A required parameter that evaluates to unset (e.g. a
 * filtered list with no matching entry and nothing at the next levels) is a
 * {@link ConfigException} naming the key and the tensor. Asking for an undeclared parameter, or
 * with the wrong type, is a programming error (IllegalArgumentException).
 */
public final class ParameterResolver {

    private final String source;
    private final MethodSpec method;
    private final List<Map<String, ParameterValue>> globalLevels; // slice (if any), then top level
    private final List<Map<String, ParameterValue>> perModel; // by model index
    private final Map<String, List<String>> stringLists;
    private final Map<String, Map<String, Double>> mappings;
    private final String levelsText;
    private final InputNames inputNames;

    /** The input tensor name of model {@code modelIndex} behind an output tensor name (slices rename layers). */
    @FunctionalInterface
    public interface InputNames {
        /** Output names are the input names (no renaming). */
        InputNames SAME = (modelIndex, outputName) -> outputName;

        /** The input name of model {@code modelIndex} behind {@code outputName}. */
        String of(int modelIndex, String outputName);
    }

    ParameterResolver(String source, MethodSpec method, Map<String, ParameterValue> topLevel,
                      List<Map<String, ParameterValue>> perModel, Map<String, List<String>> stringLists,
                      Map<String, Map<String, Double>> mappings) {
        this(source, method, List.of(topLevel), perModel, stringLists, mappings,
                "models[i].parameters, then top-level parameters");
    }

    ParameterResolver(String source, MethodSpec method, List<Map<String, ParameterValue>> globalLevels,
                      List<Map<String, ParameterValue>> perModel, Map<String, List<String>> stringLists,
                      Map<String, Map<String, Double>> mappings, String levelsText) {
        this.source = source;
        this.method = method;
        this.globalLevels = globalLevels.stream().map(Map::copyOf).toList();
        this.perModel = perModel.stream().map(Map::copyOf).toList();
        this.stringLists = Map.copyOf(stringLists);
        this.mappings = Map.copyOf(mappings);
        this.levelsText = levelsText;
        this.inputNames = InputNames.SAME;
    }

    private ParameterResolver(ParameterResolver of, InputNames names) {
        this.source = of.source;
        this.method = of.method;
        this.globalLevels = of.globalLevels;
        this.perModel = of.perModel;
        this.stringLists = of.stringLists;
        this.mappings = of.mappings;
        this.levelsText = of.levelsText;
        this.inputNames = names;
    }

    /**
     * This lookup with output tensor names mapped to each model's input names for per-model
     * filters (the slice planner knows the layer map; identity otherwise).
     */
    public ParameterResolver withInputNames(InputNames names) {
        return new ParameterResolver(this, names);
    }

    /** The method whose parameters this resolves. */
    public MethodSpec method() {
        return method;
    }

    /** A NUMBER parameter for a tensor. */
    public double number(String param, ModelRef model, String tensorName, double t) {
        return ((Number) require(param, ParamKind.NUMBER, model, tensorName, t)).doubleValue();
    }

    /** A NUMBER parameter that may be unset (no default, e.g. passthrough's {@code scale}). */
    public OptionalDouble optionalNumber(String param, ModelRef model, String tensorName, double t) {
        Object v = lookup(spec(param, ParamKind.NUMBER), model, tensorName, t);
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(((Number) v).doubleValue());
    }

    /** A BOOL parameter for a tensor. */
    public boolean bool(String param, ModelRef model, String tensorName, double t) {
        return (Boolean) require(param, ParamKind.BOOL, model, tensorName, t);
    }

    /** A CHOICE or STRING parameter for a tensor. */
    public String string(String param, ModelRef model, String tensorName, double t) {
        ParamSpec s = method.parameters().get(param);
        ParamKind kind = s != null && s.kind() == ParamKind.STRING ? ParamKind.STRING : ParamKind.CHOICE;
        return (String) require(param, kind, model, tensorName, t);
    }

    /** An INTEGER parameter (always a global scalar), e.g. {@code consensus_k}. */
    public long integer(String param) {
        return ((Number) require(param, ParamKind.INTEGER, null, "", 0.0)).longValue();
    }

    /** {@code random_seed} as 64-bit two's complement (spec §1.9). */
    public long randomSeed() {
        return integer("random_seed");
    }

    /** A STRING_LIST parameter ({@code exclude}); the default if not given. */
    @SuppressWarnings("unchecked")
    public List<String> stringList(String param) {
        ParamSpec s = spec(param, ParamKind.STRING_LIST);
        List<String> v = stringLists.get(param);
        return v != null ? v : (List<String>) s.defaultValue();
    }

    /** A MAPPING parameter ({@code lines}), if given. */
    public Optional<Map<String, Double>> mapping(String param) {
        spec(param, ParamKind.MAPPING);
        return Optional.ofNullable(mappings.get(param));
    }

    /** The raw value (Double, Long, Boolean or String) for a tensor after the full lookup, or null if unset. */
    public Object value(String param, ModelRef model, String tensorName, double t) {
        ParamSpec s = method.parameters().get(param);
        if (s == null) throw undeclared(param);
        return lookup(s, model, tensorName, t);
    }

    /** True if the YAML sets the parameter at the model level (per-model only) or at the top level. */
    public boolean isExplicit(String param, ModelRef model) {
        ParamSpec s = method.parameters().get(param);
        if (s == null) throw undeclared(param);
        return modelLevel(s, model) != null || globalLevels.stream().anyMatch(l -> l.containsKey(param))
                || stringLists.containsKey(param) || mappings.containsKey(param);
    }

    /** True if the value that applies to {@code model} can differ between tensors (gradient or filtered list). */
    public boolean variesByTensor(String param, ModelRef model) {
        ParamSpec s = method.parameters().get(param);
        if (s == null) throw undeclared(param);
        ParameterValue m = modelLevel(s, model);
        if (m != null) return m.variesByTensor(); // a non-constant filtered list counts as varying

        for (Map<String, ParameterValue> level : globalLevels) {
            ParameterValue v = level.get(param);
            if (v != null) return v.variesByTensor();
        }
        return false;
    }

    /** A view bound to one tensor, for code that reads many parameters of the same tensor. */
    public TensorParameters forTensor(String tensorName, double t) {
        return new TensorParameters(this, tensorName, t);
    }

    /** The parameters of one tensor (name and layer position bound). */
    public record TensorParameters(ParameterResolver resolver, String tensorName, double t) {
        /** A NUMBER parameter of this tensor. */
        public double number(String param, ModelRef model) {
            return resolver.number(param, model, tensorName, t);
        }

        /** A NUMBER parameter of this tensor that may be unset. */
        public OptionalDouble optionalNumber(String param, ModelRef model) {
            return resolver.optionalNumber(param, model, tensorName, t);
        }

        /** A BOOL parameter of this tensor. */
        public boolean bool(String param, ModelRef model) {
            return resolver.bool(param, model, tensorName, t);
        }

        /** A CHOICE or STRING parameter of this tensor. */
        public String string(String param, ModelRef model) {
            return resolver.string(param, model, tensorName, t);
        }
    }

    // ---------------------------------------------------------------------------------------

    private Object require(String param, ParamKind kind, ModelRef model, String tensorName, double t) {
        ParamSpec s = spec(param, kind);
        Object v = lookup(s, model, tensorName, t);
        if (v == null) {
            String key = (s.perModel() && model != null && model.listed() ? model.keyPath() + "." : "")
                    + "parameters." + param;
            throw new ConfigException(source, key, "no value for tensor `" + tensorName + "`"
                    + (s.perModel() && model != null ? " of model " + model : "")
                    + ": no filter matches and no value is set at the next level"
                    + (s.perModel() ? " (" + levelsText + ")" : ""));
        }
        return v;
    }

    private Object lookup(ParamSpec s, ModelRef model, String tensorName, double t) {
        // Per-model values filter on the model's own tensor name (mergekit plan_tensor).
        String name = s.perModel() && model != null && model.listed() ? inputNames.of(model.index(), tensorName) : tensorName;
        ParameterValue m = modelLevel(s, model);
        if (m != null) {
            Object v = m.evaluate(name, t);
            if (v != null) return v;
        }
        for (Map<String, ParameterValue> level : globalLevels) {
            ParameterValue top = level.get(s.name());
            if (top != null) {
                Object v = top.evaluate(name, t);
                if (v != null) return v;
            }
        }
        return s.defaultValue();
    }

    private ParameterValue modelLevel(ParamSpec s, ModelRef model) {
        if (!s.perModel() || model == null || !model.listed() || model.index() >= perModel.size()) return null;
        return perModel.get(model.index()).get(s.name());
    }

    private ParamSpec spec(String param, ParamKind kind) {
        ParamSpec s = method.parameters().get(param);
        if (s == null) throw undeclared(param);
        if (s.kind() != kind) {
            throw new IllegalArgumentException("parameter `" + param + "` of " + method.name() + " is "
                    + s.kind() + ", not " + kind);
        }
        return s;
    }

    private IllegalArgumentException undeclared(String param) {
        return new IllegalArgumentException("merge_method " + method.name() + " declares no parameter `" + param
                + "`; declared: " + String.join(", ", method.parameters().keySet()));
    }
}

package dev.amalgam.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A naive reading of a merge config for {@link NaiveMergeOracle}, written from the spec (§1.1)
 * without the production config classes: key lookup (model parameters, then top-level
 * parameters, then the method default), scalars, gradients and filtered lists, and the layer
 * position t. It trusts the config to be valid (the production loader's tests cover errors).
 */
final class OracleConfig {

    /** Method defaults of §2 (and the README table). */
    private static final Map<String, Map<String, Object>> DEFAULTS = Map.of(
            "linear", Map.of("normalize", true),
            "task_arithmetic", Map.of("normalize", false, "lambda", 1.0),
            "ties", Map.of("density", 1.0, "normalize", true, "rescale", false, "rescale_mode", "l1", "lambda", 1.0,
                    "consensus_method", "sum", "density_scope", "tensor"),
            "dare_linear", Map.of("density", 1.0, "normalize", false, "rescale", true, "rescale_mode", "l1", "lambda", 1.0),
            "dare_ties", Map.of("density", 1.0, "normalize", false, "rescale", true, "rescale_mode", "l1", "lambda", 1.0,
                    "consensus_method", "sum"),
            "breadcrumbs", Map.of("density", 1.0, "gamma", 0.01, "normalize", false, "rescale", false, "rescale_mode", "l1",
                    "lambda", 1.0),
            "breadcrumbs_ties", Map.of("density", 1.0, "gamma", 0.01, "normalize", false, "rescale", false,
                    "rescale_mode", "l1", "lambda", 1.0, "consensus_method", "sum"));

    private static final Pattern LAYER = Pattern.compile("(?:^|\\.)(?:layers|h|blocks|block|layer)\\.(\\d+)\\.");

    /** A model as listed (position = model index), or an implicitly added base (index -1). */
    record Model(String asWritten, Path path, int index, JsonNode parameters) {
    }

    final String method;
    final Model base;
    /** Every entry of {@code models:} in order. */
    final List<Model> listed;
    final String outDtype;
    private final JsonNode topParameters;
    private int layerCount = -1;

    private OracleConfig(JsonNode root, Path dir) {
        method = root.get("merge_method").asText();
        topParameters = root.path("parameters");
        listed = new ArrayList<>();
        JsonNode models = root.get("models");
        for (int i = 0; i < models.size(); i++) {
            JsonNode m = models.get(i);
            String p = m.get("model").asText();
            listed.add(new Model(p, dir.resolve(p).normalize(), i, m.path("parameters")));
        }
        if (root.hasNonNull("base_model")) {
            String b = root.get("base_model").asText();
            Path bp = dir.resolve(b).normalize();
            base = listed.stream().filter(m -> m.path().equals(bp)).findFirst().orElse(new Model(b, bp, -1, null));
        } else {
            base = null;
        }
        String out = root.hasNonNull("out_dtype") ? root.get("out_dtype").asText()
                : root.hasNonNull("dtype") ? root.get("dtype").asText() : null;
        outDtype = out;
    }

    static OracleConfig load(Path yaml) throws IOException {
        JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(yaml.toFile());
        return new OracleConfig(root, yaml.toAbsolutePath().getParent());
    }

    /** The models with a task vector (GTA): listed models other than the base, in model-index order. */
    List<Model> taskModels() {
        return listed.stream().filter(m -> base == null || !m.path().equals(base.path())).toList();
    }

    /** The inputs of {@code linear}: the listed models, then a base that is set but not listed. */
    List<Model> linearInputs() {
        List<Model> in = new ArrayList<>(listed);
        if (base != null && base.index() < 0) in.add(base);
        return in;
    }

    /** Sets the layer count from the reference model's tensor names (§1.1: distinct layer indices). */
    void layersFrom(Iterable<String> names) {
        Set<Integer> indices = new HashSet<>();
        for (String n : names) {
            int i = layerIndex(n);
            if (i >= 0) indices.add(i);
        }
        layerCount = indices.size();
    }

    static int layerIndex(String name) {
        Matcher m = LAYER.matcher(name);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    double layerT(String tensor) {
        int i = layerIndex(tensor);
        if (i < 0) return 0;
        if (layerCount <= 1) return 1;
        return (double) i / (layerCount - 1);
    }

    /** A parameter of {@code model} (null: a global one) for {@code tensor}: model, top level, default. */
    Object value(String name, Model model, String tensor) {
        double t = layerT(tensor);
        if (model != null && model.parameters() != null && model.parameters().has(name)) {
            Object v = evaluate(model.parameters().get(name), tensor, t);
            if (v != null) return v;
        }
        if (topParameters.has(name)) {
            Object v = evaluate(topParameters.get(name), tensor, t);
            if (v != null) return v;
        }
        Object d = DEFAULTS.get(method).get(name);
        if (d == null && name.equals("random_seed")) return 0L;
        if (d == null) throw new IllegalArgumentException("no value for " + name + " of " + (model == null ? "-" : model.asWritten()));
        return d;
    }

    double number(String name, Model model, String tensor) {
        return ((Number) value(name, model, tensor)).doubleValue();
    }

    boolean bool(String name, String tensor) {
        return (Boolean) value(name, null, tensor);
    }

    String string(String name, String tensor) {
        return value(name, null, tensor).toString();
    }

    long seed() {
        return ((Number) value("random_seed", null, "")).longValue();
    }

    /** §1.1 value forms: scalar; gradient (numbers interpolated in double); filtered list (null if unmatched). */
    private static Object evaluate(JsonNode v, String tensor, double t) {
        if (v.isNumber()) return v.isIntegralNumber() ? (Object) v.longValue() : (Object) v.doubleValue();
        if (v.isBoolean()) return v.booleanValue();
        if (v.isTextual()) return v.textValue();
        if (v.isArray() && v.size() > 0 && v.get(0).isObject()) {
            for (JsonNode e : v) {
                JsonNode f = e.get("filter");
                if (f == null || f.isNull() || f.asText().equals("*") || tensor.contains(f.asText())) {
                    return evaluate(e.get("value"), tensor, t);
                }
            }
            return null;
        }
        if (v.isArray() && v.get(0).isNumber()) {
            int l = v.size();
            double s = t * (l - 1);
            int i0 = (int) s;
            int i1 = Math.min(l - 1, i0 + 1);
            double f = s - i0;
            return (1 - f) * v.get(i0).doubleValue() + f * v.get(i1).doubleValue();
        }
        throw new IllegalArgumentException("unsupported value " + v);
    }
}

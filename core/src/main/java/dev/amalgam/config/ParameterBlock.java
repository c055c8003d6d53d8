package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * The setters a {@code parameters} block has, shared by the top level
 * ({@link MergeConfigBuilder}) and a model entry ({@link MergeConfigBuilder.ModelParameters}):
 * the per-model parameters of the methods (weight, density, gamma, epsilon, lambda_tall) plus
 * {@link #parameter(String, ConfigValue)} for any other name. Nothing is checked here: the
 * config's one validator checks the whole config at {@link MergeConfigBuilder#build()}, with
 * the YAML's messages.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract sealed class ParameterBlock<B extends ParameterBlock<B>>
        permits MergeConfigBuilder, MergeConfigBuilder.ModelParameters {

    private final ObjectNode node = JsonNodeFactory.instance.objectNode();

    ParameterBlock() {
    }

    @SuppressWarnings("unchecked")
    private B self() {
        return (B) this;
    }

    ObjectNode node() {
        return node;
    }

    /**
     * Sets any parameter the method declares, by its YAML name.
     *
     * @param name  the YAML key, e.g. {@code density}
     * @param value its value
     * @return this builder
     */
    public B parameter(String name, ConfigValue value) {
        return set(name, toNode(value));
    }

    /** The YAML tree node of a value, as the parser would have read it. */
    static JsonNode toNode(ConfigValue value) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (value) {
            case ConfigValue.Scalar(Object v) -> switch (v) {
                case Double d -> f.numberNode(d);
                case Long l -> f.numberNode(l);
                case Boolean b -> f.booleanNode(b);
                case String s -> f.textNode(s);
                default -> throw new IllegalArgumentException("not a scalar: " + v);
            };
            case ConfigValue.Gradient(List<Object> points) -> {
                ArrayNode a = f.arrayNode();
                for (Object p : points) a.add(toNode(new ConfigValue.Scalar(p)));
                yield a;
            }
            case ConfigValue.Filtered(List<ConfigValue.Entry> entries) -> {
                ArrayNode a = f.arrayNode();
                for (ConfigValue.Entry e : entries) {
                    ObjectNode o = a.addObject();
                    if (e.filter() != null) o.put("filter", e.filter());
                    o.set("value", toNode(e.value()));
                }
                yield a;
            }
        };
    }

    B set(String name, JsonNode value) {
        node.set(name, value);
        return self();
    }

    /**
     * @param weight {@code weight}, the same for every tensor
     * @return this builder
     */
    public B weight(double weight) {
        return parameter("weight", ConfigValue.of(weight));
    }

    /**
     * @param weight {@code weight} as a gradient or filtered list
     * @return this builder
     */
    public B weight(ConfigValue weight) {
        return parameter("weight", weight);
    }

    /**
     * @param density {@code density}, the fraction of the task vector kept
     * @return this builder
     */
    public B density(double density) {
        return parameter("density", ConfigValue.of(density));
    }

    /**
     * @param density {@code density} as a gradient or filtered list
     * @return this builder
     */
    public B density(ConfigValue density) {
        return parameter("density", density);
    }

    /**
     * @param gamma {@code gamma} of the Breadcrumbs methods: the fraction of largest magnitudes dropped
     * @return this builder
     */
    public B gamma(double gamma) {
        return parameter("gamma", ConfigValue.of(gamma));
    }

    /**
     * @param gamma {@code gamma} as a gradient or filtered list
     * @return this builder
     */
    public B gamma(ConfigValue gamma) {
        return parameter("gamma", gamma);
    }

    /**
     * @param epsilon {@code epsilon} of the DELLA methods
     * @return this builder
     */
    public B epsilon(double epsilon) {
        return parameter("epsilon", ConfigValue.of(epsilon));
    }

    /**
     * @param lambdaTall {@code lambda_tall} of the consensus methods
     * @return this builder
     */
    public B lambdaTall(double lambdaTall) {
        return parameter("lambda_tall", ConfigValue.of(lambdaTall));
    }
}

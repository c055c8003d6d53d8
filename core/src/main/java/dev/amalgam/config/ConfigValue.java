package dev.amalgam.config;

import java.util.List;

/**
 * A parameter value written in code, in the three forms the YAML has (spec §1.1 "Value forms"):
 * a scalar, a gradient over layer depth, or a filtered list whose first entry with a matching
 * substring of the tensor name wins. {@link MergeConfigBuilder} turns it into the same tree the
 * YAML parser reads, so it is validated exactly like YAML.
 *
 * <pre>{@code
 * ConfigValue.of(0.3)                                   // density: 0.3
 * ConfigValue.gradient(0.4, 0.6, 1.0)                   // weight: [0.4, 0.6, 1.0]
 * ConfigValue.filtered(ConfigValue.when("mlp", ConfigValue.of(0.2)),
 *                      ConfigValue.otherwise(ConfigValue.of(0.5)))
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public sealed interface ConfigValue permits ConfigValue.Scalar, ConfigValue.Gradient, ConfigValue.Filtered {

    /**
     * @param value a finite number
     * @return the scalar
     * @throws IllegalArgumentException for NaN or an infinity (not valid parameter values)
     */
    static ConfigValue of(double value) {
        return new Scalar(finite(value));
    }

    /**
     * @param value an integer (e.g. {@code random_seed})
     * @return the scalar
     */
    static ConfigValue of(long value) {
        return new Scalar(value);
    }

    /**
     * @param value a boolean
     * @return the scalar
     */
    static ConfigValue of(boolean value) {
        return new Scalar(value);
    }

    /**
     * @param value a string (a choice such as {@code sum})
     * @return the scalar
     */
    static ConfigValue of(String value) {
        return new Scalar(value);
    }

    /**
     * @param points numbers over layer depth (at least one), interpolated linearly
     * @return the gradient
     */
    static ConfigValue gradient(double... points) {
        Object[] boxed = new Object[points.length];
        for (int i = 0; i < points.length; i++) boxed[i] = finite(points[i]);
        return new Gradient(List.of(boxed));
    }

    /**
     * @param entries entries in order; the first whose filter is a substring of the tensor name wins
     * @return the filtered list
     */
    static ConfigValue filtered(Entry... entries) {
        return new Filtered(List.of(entries));
    }

    /**
     * @param filter a substring of tensor names
     * @param value  the value for those tensors
     * @return a filtered-list entry
     */
    static Entry when(String filter, ConfigValue value) {
        return new Entry(filter, value);
    }

    /**
     * @param value the value for every tensor no earlier entry matched
     * @return a filtered-list entry without a filter
     */
    static Entry otherwise(ConfigValue value) {
        return new Entry(null, value);
    }

    /**
     * One value for every tensor.
     *
     * @param value a Double, Long, Boolean or String
     */
    record Scalar(Object value) implements ConfigValue {
    }

    /**
     * Points over layer depth.
     *
     * @param points the points, in order
     */
    record Gradient(List<Object> points) implements ConfigValue {
    }

    /**
     * A filtered list.
     *
     * @param entries the entries, in order
     */
    record Filtered(List<Entry> entries) implements ConfigValue {
    }

    /**
     * One entry of a filtered list.
     *
     * @param filter substring of tensor names, or null for "every other tensor"
     * @param value  the value
     */
    record Entry(String filter, ConfigValue value) {
    }

    private static double finite(double v) {
        if (!Double.isFinite(v)) throw new IllegalArgumentException("NaN and infinities are not valid parameter values: " + v);
        return v;
    }
}

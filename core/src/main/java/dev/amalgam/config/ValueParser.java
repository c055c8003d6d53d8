package dev.amalgam.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the YAML node of one parameter into a {@link ParameterValue} (or a literal list/mapping),
 * checking the value forms of spec §1.1 and the parameter's kind at every leaf. Every error names
 * the key path, e.g. {@code models[0].parameters.density[1].value}.
 */
final class ValueParser {

    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private final String source;

    ValueParser(String source) {
        this.source = source;
    }

    /** Parses a value of a non-literal kind. */
    ParameterValue parse(JsonNode node, ParamSpec spec, String path) {
        ParameterValue v = parseForm(node, spec, path);
        if (spec.scalarOnly() && !(v instanceof ParameterValue.Scalar)) {
            throw error(path, "must be a single " + describe(spec) + " (no gradient or filtered list)");
        }
        return v;
    }

    /** {@code exclude}: a literal list of strings (a single string is not accepted). */
    List<String> parseStringList(JsonNode node, String path) {
        if (node == null || !node.isArray()) {
            throw error(path, "must be a list of strings, got " + show(node));
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode e = node.get(i);
            if (!e.isTextual()) throw error(path + "[" + i + "]", "must be a string, got " + show(e));
            out.add(e.textValue());
        }
        return List.copyOf(out);
    }

    /** {@code lines}: a literal mapping of numbers with keys alpha and beta. */
    Map<String, Double> parseLines(JsonNode node, String path) {
        if (node == null || !node.isObject()) throw error(path, "must be a mapping {alpha, beta}, got " + show(node));
        Map<String, Double> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("alpha") && !e.getKey().equals("beta")) {
                throw error(path, "unknown key `" + e.getKey() + "`; valid keys: alpha, beta");
            }
            if (!e.getValue().isNumber()) throw error(path + "." + e.getKey(), "must be a number, got " + show(e.getValue()));
            out.put(e.getKey(), e.getValue().doubleValue());
        }
        return Map.copyOf(out);
    }

    private ParameterValue parseForm(JsonNode node, ParamSpec spec, String path) {
        if (node == null || node.isNull() || node.isMissingNode()) {
            throw error(path, "has no value; expected " + describe(spec));
        }
        if (node.isObject()) {
            throw error(path, "a bare mapping is not a valid value; use " + describe(spec)
                    + ", a list of values over layer depth, or a list of {filter, value} entries");
        }
        if (node.isArray()) {
            if (node.isEmpty()) throw error(path, "an empty list is not a valid value");
            int objects = 0;
            for (JsonNode e : node) if (e.isObject()) objects++;
            if (objects == node.size()) return parseFiltered(node, spec, path);
            if (objects > 0) {
                throw error(path, "a list mixes {filter, value} entries with plain values; use one form");
            }
            return parseGradient(node, spec, path);
        }
        return new ParameterValue.Scalar(scalarLeaf(node, spec, path));
    }

    private ParameterValue parseFiltered(JsonNode node, ParamSpec spec, String path) {
        List<ParameterValue.Filtered.Entry> entries = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            JsonNode e = node.get(i);
            String ePath = path + "[" + i + "]";
            for (Iterator<String> it = e.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!k.equals("filter") && !k.equals("value")) {
                    throw error(ePath, "unknown key `" + k + "` in a filtered entry; valid keys: filter, value");
                }
            }
            if (!e.has("value")) throw error(ePath, "a filtered entry needs a `value`");
            JsonNode f = e.get("filter");
            String filter = null;
            if (f != null && !f.isNull()) {
                if (!f.isTextual()) throw error(ePath + ".filter", "must be a string, got " + show(f));
                filter = f.textValue();
            }
            entries.add(new ParameterValue.Filtered.Entry(filter, parseForm(e.get("value"), spec, ePath + ".value")));
        }
        return new ParameterValue.Filtered(entries);
    }

    private ParameterValue parseGradient(JsonNode node, ParamSpec spec, String path) {
        List<Object> points = new ArrayList<>();
        Boolean numeric = null;
        for (int i = 0; i < node.size(); i++) {
            JsonNode e = node.get(i);
            String ePath = path + "[" + i + "]";
            if (e.isArray()) throw error(ePath, "a list inside a gradient is not a valid value");
            if (e.isNull()) throw error(ePath, "a gradient point has no value");
            if (numeric == null) numeric = e.isNumber();
            else if (numeric != e.isNumber()) throw error(path, "a gradient mixes numbers and non-numbers");
            points.add(scalarLeaf(e, spec, ePath));
        }
        if (spec.kind() == ParamKind.NUMBER && !numeric) {
            throw error(path, "must be a number or a list of numbers, got " + show(node));
        }
        Class<?> first = points.getFirst().getClass();
        for (Object p : points) {
            if (p.getClass() != first) throw error(path, "a gradient mixes value types: " + show(node));
        }
        return new ParameterValue.Gradient(points);
    }

    /** Checks one leaf against the kind; returns Double/Long/Boolean/String. */
    private Object scalarLeaf(JsonNode n, ParamSpec spec, String path) {
        return switch (spec.kind()) {
            case NUMBER -> {
                if (!n.isNumber()) throw error(path, "must be a number, got " + show(n));
                double d = n.doubleValue();
                if (spec.fraction() && (Double.isNaN(d) || d < 0)) {
                    throw error(path, "must be a fraction >= 0, got " + n.asText());
                }
                yield d;
            }
            case INTEGER -> {
                if (!n.isIntegralNumber()) throw error(path, "must be an integer, got " + show(n));
                BigInteger b = n.bigIntegerValue();
                if (b.bitLength() > 64 || b.compareTo(TWO_64) >= 0
                        || b.compareTo(BigInteger.valueOf(Long.MIN_VALUE)) < 0) {
                    throw error(path, "must fit in 64 bits, got " + b);
                }
                yield b.longValue(); // 2^63..2^64-1 wrap to the two's-complement long (§1.9 seeds)
            }
            case BOOL -> {
                if (!n.isBoolean()) throw error(path, "must be true or false, got " + show(n));
                yield n.booleanValue();
            }
            case CHOICE -> {
                if (!n.isTextual() || !spec.choices().contains(n.textValue())) {
                    throw error(path, "invalid value " + show(n) + "; valid values: " + String.join(", ", spec.choices()));
                }
                yield n.textValue();
            }
            case STRING -> {
                if (!n.isTextual()) throw error(path, "must be a string, got " + show(n));
                yield n.textValue();
            }
            case STRING_LIST, MAPPING -> throw new IllegalStateException("literal kind " + spec.kind());
        };
    }

    private static String describe(ParamSpec spec) {
        return switch (spec.kind()) {
            case NUMBER -> "a number";
            case INTEGER -> "an integer";
            case BOOL -> "true or false";
            case CHOICE -> "one of " + String.join(", ", spec.choices());
            case STRING -> "a string";
            case STRING_LIST -> "a list of strings";
            case MAPPING -> "a mapping";
        };
    }

    static String show(JsonNode n) {
        if (n == null || n.isMissingNode() || n.isNull()) return "nothing";
        if (n.isTextual()) return "string \"" + n.textValue() + "\"";
        if (n.isBoolean()) return "bool " + n.booleanValue();
        if (n.isNumber()) return "number " + n.asText();
        if (n.isArray()) return "a list";
        if (n.isObject()) return "a mapping";
        return n.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }

    private ConfigException error(String path, String message) {
        return new ConfigException(source, path, message);
    }
}

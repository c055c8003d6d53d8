package dev.amalgam.config;

import java.util.List;
import java.util.Objects;

/**
 * One declared parameter of a merge method (spec §2).
 *
 * <p>Implementation notes: immutable. {@code defaultValue} is a Double, Long, Boolean, String,
 * List of String or null; null with {@code required == false} means "unset unless given"
 * (e.g. passthrough's {@code scale}). {@code choices} is non-empty only for {@link ParamKind#CHOICE}.
 *
 * @param name             the YAML key
 * @param scope            per-model ({@code *}) or global
 * @param kind             value type
 * @param defaultValue     the default, or null (required, or unset)
 * @param required         true if a non-base model (or, for globals, the config) must set it
 * @param choices          valid strings for CHOICE parameters
 * @param fraction         a fraction turned into a count (§1.5): negative or NaN is a config error
 * @param scalarOnly       gradients and filtered lists are rejected
 * @param available        false for planned options (choosing one is an error "not available yet")
 * @param warnIfNotDefault accepted but without effect for this method: warn when set to another value
 * @param ignoredNote      non-null for a parameter mergekit accepts and ignores for this method
 *                         (e.g. per-model {@code weight} on slerp, {@code int8_mask}, leftover
 *                         {@code density}): setting it has no effect, whatever the value, and the
 *                         note says why (config warnings; an error under {@code --strict})
 */
public record ParamSpec(String name, ParamScope scope, ParamKind kind, Object defaultValue,
                        boolean required, List<String> choices, boolean fraction,
                        boolean scalarOnly, boolean available, boolean warnIfNotDefault, String ignoredNote) {

    public ParamSpec {
        Objects.requireNonNull(name);
        Objects.requireNonNull(scope);
        Objects.requireNonNull(kind);
        choices = List.copyOf(choices);
        if (kind == ParamKind.INTEGER) scalarOnly = true;
        if (required && defaultValue != null) {
            throw new IllegalArgumentException(name + ": a required parameter has no default");
        }
    }

    public boolean perModel() {
        return scope == ParamScope.PER_MODEL;
    }

    /** True if mergekit accepts this parameter for the method but it has no effect ({@link #ignoredNote}). */
    public boolean ignored() {
        return ignoredNote != null;
    }

    // ---- small builders used by MethodRegistry ----

    static ParamSpec number(String name, double def) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.NUMBER, def, false, List.of(), false, false, true, false, null);
    }

    static ParamSpec requiredNumber(String name) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.NUMBER, null, true, List.of(), false, false, true, false, null);
    }

    static ParamSpec optionalNumber(String name) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.NUMBER, null, false, List.of(), false, false, true, false, null);
    }

    static ParamSpec integer(String name, long def) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.INTEGER, def, false, List.of(), false, true, true, false, null);
    }

    static ParamSpec bool(String name, boolean def) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.BOOL, def, false, List.of(), false, false, true, false, null);
    }

    static ParamSpec choice(String name, String def, String... choices) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.CHOICE, def, false, List.of(choices), false, false, true, false, null);
    }

    static ParamSpec requiredString(String name) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.STRING, null, true, List.of(), false, false, true, false, null);
    }

    static ParamSpec stringList(String name) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.STRING_LIST, List.of(), false, List.of(), false, true, true, false, null);
    }

    static ParamSpec mapping(String name) {
        return new ParamSpec(name, ParamScope.GLOBAL, ParamKind.MAPPING, null, false, List.of(), false, true, true, false, null);
    }

    ParamSpec perModelScope() {
        return new ParamSpec(name, ParamScope.PER_MODEL, kind, defaultValue, required, choices, fraction, scalarOnly, available, warnIfNotDefault, ignoredNote);
    }

    ParamSpec asFraction() {
        return new ParamSpec(name, scope, kind, defaultValue, required, choices, true, scalarOnly, available, warnIfNotDefault, ignoredNote);
    }

    ParamSpec asScalarOnly() {
        return new ParamSpec(name, scope, kind, defaultValue, required, choices, fraction, true, available, warnIfNotDefault, ignoredNote);
    }

    ParamSpec asPlanned() {
        return new ParamSpec(name, scope, kind, defaultValue, required, choices, fraction, scalarOnly, false, warnIfNotDefault, ignoredNote);
    }

    ParamSpec asInert() {
        return new ParamSpec(name, scope, kind, defaultValue, required, choices, fraction, scalarOnly, available, true, ignoredNote);
    }

    /** Accepted for mergekit compatibility, without effect; {@code note} says why. */
    ParamSpec asIgnored(String note) {
        return new ParamSpec(name, scope, kind, defaultValue, false, choices, fraction, scalarOnly, available, warnIfNotDefault, note);
    }

    ParamSpec withDefault(Object def) {
        return new ParamSpec(name, scope, kind, def, false, choices, fraction, scalarOnly, available, warnIfNotDefault, ignoredNote);
    }
}

package dev.amalgam.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code merge_method} of spec §2: its parameters, its base-model rule and whether Amalgam
 * implements it yet.
 *
 * <p>Implementation notes: immutable; parameters keep the order of the spec table (used in
 * messages). {@code rejectedParameters} maps a name the method refuses on purpose (e.g. mergekit's
 * old {@code k} for consensus_*) to the hint shown in the error.
 *
 * @param name               the {@code merge_method} value
 * @param baseRule           what the method does with {@code base_model}
 * @param baseAddedAsInput   true if a base that is set but not listed becomes an extra input (linear, karcher)
 * @param gta                a member of the generalized task-arithmetic family (§1.4)
 * @param implemented        false = planned: choosing it is an error "not available yet"
 * @param laterPhase         in the "later" phase of §2 (fisher, regmean, pcb, widen)
 * @param parameters         declared parameters by name, in table order
 * @param rejectedParameters refused names with a hint
 */
public record MethodSpec(String name, BaseModelRule baseRule, boolean baseAddedAsInput, boolean gta,
                         boolean implemented, boolean laterPhase, Map<String, ParamSpec> parameters,
                         Map<String, String> rejectedParameters) {

    public MethodSpec {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        rejectedParameters = Map.copyOf(rejectedParameters);
    }

    /** The declared parameter, if any. */
    public Optional<ParamSpec> parameter(String param) {
        return Optional.ofNullable(parameters.get(param));
    }

    public boolean declares(String param) {
        return parameters.containsKey(param);
    }

    /** True if the method elects signs ({@code consensus_method} is declared). */
    public boolean electsSigns() {
        return declares("consensus_method");
    }

    /** Names of the per-model ({@code *}) parameters, in table order. */
    public List<String> perModelParameterNames() {
        List<String> out = new ArrayList<>();
        for (ParamSpec p : parameters.values()) if (p.perModel()) out.add(p.name());
        return out;
    }

    /** Names of the global parameters, in table order. */
    public List<String> globalParameterNames() {
        List<String> out = new ArrayList<>();
        for (ParamSpec p : parameters.values()) if (!p.perModel()) out.add(p.name());
        return out;
    }
}

package dev.amalgam.config;

import dev.amalgam.merge.ShapePolicy;
import dev.amalgam.merge.TensorMerger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntUnaryOperator;

/**
 * One {@code merge_method} of spec §2 — everything Amalgam knows about it, in one value: its
 * parameters (mergekit's ignorable ones flagged), which models it takes and how they are laid
 * out, how it treats shape mismatches, and how to make its tensor merger. The planner, the
 * config checks, the CLI's messages, {@code --dry-run} and the docs read this value; nothing else
 * branches on a method's name ("One method, one place", ARCHITECTURE.md).
 *
 * <p>Implementation notes: immutable; parameters keep the order of the spec table (used in
 * messages). {@code rejectedParameters} maps a name the method refuses on purpose (e.g. mergekit's
 * old {@code k} for consensus_*) to the hint shown in the error. A method without a merger
 * factory is planned: choosing it is an error "not available yet".
 *
 * @param name               the {@code merge_method} value
 * @param inputs             base-model rule, model counts and plan layout
 * @param shapePolicy        how shape mismatches are treated (§1.2)
 * @param gta                a member of the generalized task-arithmetic family (§1.4)
 * @param laterPhase         in the "later" phase of §2 (fisher, regmean, pcb, widen)
 * @param parameters         declared parameters by name, in table order
 * @param rejectedParameters refused names with a hint
 * @param scratchTensors     float32 scratch tensors one tensor's merge holds, given the plan's input count
 *                           (the {@code --dry-run} memory estimate)
 * @param merger             makes the tensor merger for a merge; null = planned
 */
public record MethodSpec(String name, InputRoles inputs, ShapePolicy shapePolicy, boolean gta, boolean laterPhase,
                         Map<String, ParamSpec> parameters, Map<String, String> rejectedParameters,
                         IntUnaryOperator scratchTensors, MergerFactory merger) {

    /** Makes the tensor merger of one merge (mergers may hold per-merge state, e.g. model-wide thresholds). */
    @FunctionalInterface
    public interface MergerFactory {
        /** A fresh merger for {@code method} (the registry value it belongs to). */
        TensorMerger create(MethodSpec method);
    }

    /** Copies the parameter maps (immutable, table order kept). */
    public MethodSpec {
        parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        rejectedParameters = Map.copyOf(rejectedParameters);
    }

    /** What the method does with {@code base_model}. */
    public BaseModelRule baseRule() {
        return inputs.base();
    }

    /** True if a base that is set but not listed becomes an extra input (linear, karcher). */
    public boolean baseAddedAsInput() {
        return inputs.baseAddedAsInput();
    }

    /** False = planned: choosing it is an error "not available yet". */
    public boolean implemented() {
        return merger != null;
    }

    /** A fresh tensor merger for one merge; IllegalStateException for a planned method. */
    public TensorMerger newMerger() {
        if (merger == null) throw new IllegalStateException("merge_method " + name + " is not available yet");
        return merger.create(this);
    }

    /** The declared parameter, if any. */
    public Optional<ParamSpec> parameter(String param) {
        return Optional.ofNullable(parameters.get(param));
    }

    /** True if the method declares {@code param} (active or ignored). */
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

    /** Parameters mergekit accepts for this method without effect (each set one is a warning). */
    public List<ParamSpec> ignoredParameters() {
        return parameters.values().stream().filter(ParamSpec::ignored).toList();
    }
}

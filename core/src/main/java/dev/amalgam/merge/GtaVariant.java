package dev.amalgam.merge;

import dev.amalgam.kernel.ConsensusMethod;

/** The members of the generalized task-arithmetic family (§1.4) built so far. */
public enum GtaVariant {
    TASK_ARITHMETIC("task_arithmetic", SparsifierKind.NONE, false),
    TIES("ties", SparsifierKind.MAGNITUDE, true),
    DARE_LINEAR("dare_linear", SparsifierKind.BERNOULLI, false),
    DARE_TIES("dare_ties", SparsifierKind.BERNOULLI, true),
    BREADCRUMBS("breadcrumbs", SparsifierKind.BAND, false),
    BREADCRUMBS_TIES("breadcrumbs_ties", SparsifierKind.BAND, true);

    /** How δ is sparsified. */
    public enum SparsifierKind { NONE, MAGNITUDE, BERNOULLI, BAND }

    private final String methodName;
    private final SparsifierKind sparsifier;
    private final boolean elects;

    GtaVariant(String methodName, SparsifierKind sparsifier, boolean elects) {
        this.methodName = methodName;
        this.sparsifier = sparsifier;
        this.elects = elects;
    }

    public String methodName() {
        return methodName;
    }

    public SparsifierKind sparsifier() {
        return sparsifier;
    }

    public boolean elects() {
        return elects;
    }

    /** The election to run, given the {@code consensus_method} parameter. */
    public ConsensusMethod consensus(String consensusMethod) {
        if (!elects) return ConsensusMethod.NONE;
        return "count".equals(consensusMethod) ? ConsensusMethod.COUNT : ConsensusMethod.SUM;
    }

    public static GtaVariant forMethod(String name) {
        for (GtaVariant v : values()) {
            if (v.methodName.equals(name)) return v;
        }
        return null;
    }
}

package dev.amalgam.merge;

import dev.amalgam.config.MethodSpec;

/**
 * Makes the tensor mergers of the task-vector methods of the literature (§8–§10, §13: DELLA, SCE,
 * TALL-mask consensus) for the method registry; the classes stay internal to this package.
 */
public final class LiteratureMergers {

    private LiteratureMergers() {
    }

    /** {@code della} (elects when the method declares {@code consensus_method}) or {@code della_linear}. */
    public static TensorMerger della(MethodSpec method) {
        return new DellaMerger(method);
    }

    /** {@code consensus_ta} or {@code consensus_ties} (trims when the method declares {@code density_scope}). */
    public static TensorMerger consensus(MethodSpec method) {
        return new ConsensusMerger(method);
    }

    /** {@code sce}. */
    public static TensorMerger sce(MethodSpec method) {
        return new SceMerger();
    }
}

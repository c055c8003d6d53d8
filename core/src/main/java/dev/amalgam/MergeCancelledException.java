package dev.amalgam;

/**
 * A merge was cancelled by its progress listener ({@link MergeProgress#cancel()}) or by an
 * interrupt of the merging thread. Nothing was written under the target name; an in-memory
 * result was released.
 *
 * <p>Thread-safety: immutable.
 */
public class MergeCancelledException extends AmalgamException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message which tensor the merge had reached
     */
    public MergeCancelledException(String message) {
        super(message);
    }
}

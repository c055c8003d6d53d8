package dev.amalgam;

/**
 * Receives the progress of a merge: once before the first tensor, then after every output
 * tensor, on the merging thread. Keep it quick; call {@link MergeProgress#cancel()} to stop.
 *
 * <pre>{@code
 * MergeListener bar = p -> System.out.printf("%.0f%%%n", 100 * p.fraction());
 * }</pre>
 */
@FunctionalInterface
public interface MergeListener {

    /** Ignores progress. */
    MergeListener NONE = p -> { };

    /**
     * @param progress where the merge is now
     */
    void progress(MergeProgress progress);
}

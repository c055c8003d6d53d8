package dev.amalgam.merge;

import java.nio.file.Path;
import java.util.List;

/**
 * The summary of a finished merge.
 *
 * @param output        the target folder
 * @param method        merge_method
 * @param backend       kernel backend that served
 * @param backendReason why it served (and why others did not)
 * @param tensors       per-tensor reports, in output order
 * @param bytesRead     input bytes the merge had to read
 * @param bytesWritten  output bytes written (tensor data)
 * @param nanos         wall time of the merge
 * @param warnings      collected warnings
 */
public record MergeReport(Path output, String method, String backend, String backendReason, List<TensorReport> tensors,
                          long bytesRead, long bytesWritten, long nanos, List<String> warnings) {

    public long signConflicts() {
        return tensors.stream().mapToLong(TensorReport::signConflicts).sum();
    }

    public double seconds() {
        return nanos / 1e9;
    }

    /** Mean kept density over merged tensors, weighted by size. */
    public double keptDensity() {
        double num = 0;
        long den = 0;
        for (TensorReport t : tensors) {
            if (!t.action().equals("merged")) continue;
            num += t.keptDensity() * t.elements();
            den += t.elements();
        }
        return den == 0 ? 1 : num / den;
    }
}

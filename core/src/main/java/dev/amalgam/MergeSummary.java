package dev.amalgam;

import dev.amalgam.analysis.MergeAnalysis;
import dev.amalgam.merge.MergeReport;
import dev.amalgam.merge.TensorReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What a finished merge did.
 *
 * <p>Thread-safety: immutable.
 *
 * @param output        the target folder, empty for an in-memory merge
 * @param method        {@code merge_method}
 * @param backend       the kernel backend that served
 * @param backendReason why it served (and why better ones did not)
 * @param tensors       one entry per output tensor, in output order
 * @param bytesRead     input bytes read
 * @param bytesWritten  output tensor bytes written
 * @param nanos         wall time
 * @param warnings      collected warnings, one line each
 * @param analysis      the task-vector statistics, when {@link MergeOptions#analysis()} asked for them
 */
public record MergeSummary(Optional<Path> output, String method, String backend, String backendReason,
                           List<Tensor> tensors, long bytesRead, long bytesWritten, long nanos, List<String> warnings,
                           Optional<MergeAnalysis> analysis) {

    /** Copies the lists. */
    public MergeSummary {
        tensors = List.copyOf(tensors);
        warnings = List.copyOf(warnings);
    }

    /**
     * What happened to one output tensor.
     *
     * @param name          tensor name
     * @param action        {@code merged} or {@code copied} (integer and bool tensors)
     * @param elements      element count
     * @param keptDensity   mean over models of the fraction kept by the sparsifier (1 without one)
     * @param signConflicts elements where a contribution disagreed with the elected sign
     * @param nanos         time spent on it
     */
    public record Tensor(String name, String action, long elements, double keptDensity, long signConflicts, long nanos) {
    }

    /** @return the wall time in seconds */
    public double seconds() {
        return nanos / 1e9;
    }

    /** @return sign conflicts over all tensors */
    public long signConflicts() {
        return tensors.stream().mapToLong(Tensor::signConflicts).sum();
    }

    /** @return the mean kept density over merged tensors, weighted by their size (1 without sparsifier) */
    public double keptDensity() {
        double num = 0;
        long den = 0;
        for (Tensor t : tensors) {
            if (!t.action().equals("merged")) continue;
            num += t.keptDensity() * t.elements();
            den += t.elements();
        }
        return den == 0 ? 1 : num / den;
    }

    /**
     * A byte count for people: {@code 512 B}, {@code 1.5 KiB}, {@code 2.00 MiB}, {@code 3.10 GiB}.
     *
     * @param b bytes
     * @return the text
     */
    public static String bytes(long b) {
        return dev.amalgam.merge.MergePlan.bytes(b);
    }

    static MergeSummary of(MergeReport r, boolean inMemory, MergeAnalysis analysis) {
        List<Tensor> ts = r.tensors().stream().map(MergeSummary::tensor).toList();
        return new MergeSummary(inMemory ? Optional.empty() : Optional.ofNullable(r.output()), r.method(), r.backend(),
                r.backendReason(), ts, r.bytesRead(), r.bytesWritten(), r.nanos(), r.warnings(), Optional.ofNullable(analysis));
    }

    private static Tensor tensor(TensorReport t) {
        return new Tensor(t.name(), t.action(), t.elements(), t.keptDensity(), t.signConflicts(), t.nanos());
    }
}

package dev.amalgam.merge;

import java.util.List;
import java.util.Locale;

/**
 * Everything a merge will do, known from the config and the input headers alone (no weights
 * read): one entry per output tensor, the output size and the expected peak memory. This is
 * what {@code --dry-run} prints.
 *
 * @param method           merge_method
 * @param inputs           the opened inputs; for task-arithmetic methods the base is first
 * @param baseInput        index of the base in {@code inputs}, -1 if the method uses none
 * @param entries          output tensors in UTF-8 byte order of their names
 * @param outputBytes      tensor bytes of the output checkpoint
 * @param peakScratchBytes upper bound of the off-heap scratch memory of one tensor's merge
 * @param warnings         what the planner noticed (crops, dtype roundings)
 */
public record MergePlan(String method, List<MergeInput> inputs, int baseInput, List<PlanEntry> entries,
                        long outputBytes, long peakScratchBytes, List<String> warnings) {

    public MergePlan {
        inputs = List.copyOf(inputs);
        entries = List.copyOf(entries);
        warnings = List.copyOf(warnings);
    }

    public long bytesToRead() {
        long b = 0;
        for (PlanEntry e : entries) b += e.bytesRead();
        return b;
    }

    public long mergedCount() {
        return entries.stream().filter(e -> e.action() == PlanEntry.Action.MERGE).count();
    }

    /** The plan in words, for {@code --dry-run}. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("merge_method: ").append(method).append('\n');
        sb.append("inputs:\n");
        for (int i = 0; i < inputs.size(); i++) {
            MergeInput in = inputs.get(i);
            sb.append("  ").append(i == baseInput ? "base  " : "model ")
                    .append(in.modelIndex() >= 0 ? "[" + in.modelIndex() + "] " : "[-] ")
                    .append(in.label()).append(" (").append(in.ref().resolvedPath()).append(")\n");
        }
        long copied = entries.size() - mergedCount();
        sb.append(String.format(Locale.ROOT, "tensors: %d (%d merged, %d copied)%n", entries.size(), mergedCount(), copied));
        sb.append("input bytes to read: ").append(bytes(bytesToRead())).append('\n');
        sb.append("output size: ").append(bytes(outputBytes)).append('\n');
        sb.append("expected peak memory: ").append(bytes(peakScratchBytes))
                .append(" off-heap (scratch + one staging buffer per input) + the JVM heap (the output is memory-mapped)\n");
        for (String w : warnings) sb.append("warning: ").append(w).append('\n');
        return sb.toString();
    }

    public static String bytes(long b) {
        if (b >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        if (b >= 1L << 20) return String.format(Locale.ROOT, "%.2f MiB", b / (double) (1L << 20));
        if (b >= 1L << 10) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        return b + " B";
    }
}

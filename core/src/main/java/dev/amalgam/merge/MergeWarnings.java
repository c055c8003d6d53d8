package dev.amalgam.merge;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Warnings collected during a merge (k = 0, F64 inputs rounded, integer tensors that differ,
 * …). Repeats of the same kind are counted, not listed a thousand times.
 */
public final class MergeWarnings {

    private static final int EXAMPLES_PER_KIND = 3;

    private final Map<String, List<String>> byKind = new LinkedHashMap<>();
    private final Map<String, Integer> counts = new LinkedHashMap<>();

    public synchronized void add(String kind, String message) {
        counts.merge(kind, 1, Integer::sum);
        List<String> examples = byKind.computeIfAbsent(kind, k -> new ArrayList<>());
        if (examples.size() < EXAMPLES_PER_KIND) examples.add(message);
    }

    public synchronized int count() {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** One line per example, plus "… and N more" per kind. */
    public synchronized List<String> lines() {
        List<String> out = new ArrayList<>();
        for (var e : byKind.entrySet()) {
            out.addAll(e.getValue());
            int more = counts.get(e.getKey()) - e.getValue().size();
            if (more > 0) out.add("… and " + more + " more warnings like that (" + e.getKey() + ")");
        }
        return Collections.unmodifiableList(out);
    }
}

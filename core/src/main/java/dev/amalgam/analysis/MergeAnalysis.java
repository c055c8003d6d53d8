package dev.amalgam.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The statistics of one merge (or of its inputs alone): per tensor, and summed per layer and
 * tensor kind, per layer, and over the whole model. What {@code --report FILE.html} draws and
 * {@code --report FILE.json} lists under {@code analysis}.
 *
 * @param method     merge_method
 * @param base       the base model's label (the first input's when the merge has no base)
 * @param hasBase    whether the merge has a base model; without one the first input stands in
 * @param models     the task models' labels, in plan order
 * @param merged     whether the statistics include the merged output
 * @param tensors    per-tensor statistics in plan order
 * @param byLayerAndKind summaries per (layer, kind), layers ascending (−1 = outside layers first)
 * @param byLayer    summaries per layer over all kinds
 * @param wholeModel the summary over every analysed tensor
 */
public record MergeAnalysis(String method, String base, boolean hasBase, List<String> models, boolean merged, List<TensorStatistics> tensors,
                            List<LayerSummary> byLayerAndKind, List<LayerSummary> byLayer, LayerSummary wholeModel) {

    /**
     * Summarises per-tensor statistics of a merge with a base model.
     *
     * @param method  merge_method
     * @param base    the base model's label
     * @param models  the task models' labels
     * @param tensors per-tensor statistics, each over {@code models}
     * @return the summaries
     */
    public static MergeAnalysis of(String method, String base, List<String> models, List<TensorStatistics> tensors) {
        return of(method, base, true, models, tensors);
    }

    /**
     * Summarises per-tensor statistics.
     *
     * @param method  merge_method
     * @param base    the base model's (or stand-in's) label
     * @param hasBase whether {@code base} is the merge's base model
     * @param models  the task models' labels
     * @param tensors per-tensor statistics, each over {@code models}
     * @return the summaries
     */
    public static MergeAnalysis of(String method, String base, boolean hasBase, List<String> models, List<TensorStatistics> tensors) {
        int t = models.size();
        for (TensorStatistics s : tensors) {
            if (s.models() != t) throw new IllegalArgumentException("tensor " + s.name() + " has " + s.models() + " models, expected " + t);
        }
        boolean merged = !tensors.isEmpty() && tensors.stream().allMatch(TensorStatistics::merged);
        Map<Integer, Map<TensorKind, List<TensorStatistics>>> groups = new java.util.TreeMap<>();
        for (TensorStatistics s : tensors) {
            groups.computeIfAbsent(s.layer(), k -> new LinkedHashMap<>()).computeIfAbsent(s.kind(), k -> new ArrayList<>()).add(s);
        }
        List<LayerSummary> byKind = new ArrayList<>();
        List<LayerSummary> byLayer = new ArrayList<>();
        for (var layer : groups.entrySet()) {
            List<TensorStatistics> all = new ArrayList<>();
            for (TensorKind kind : TensorKind.values()) {
                List<TensorStatistics> g = layer.getValue().get(kind);
                if (g == null) continue;
                byKind.add(summarise(layer.getKey(), kind, g, t));
                all.addAll(g);
            }
            byLayer.add(summarise(layer.getKey(), null, all, t));
        }
        return new MergeAnalysis(method, base, hasBase, List.copyOf(models), merged, List.copyOf(tensors), byKind, byLayer,
                summarise(LayerSummary.WHOLE_MODEL, null, tensors, t));
    }

    /** The summary of one layer and kind, if that group has tensors. */
    public LayerSummary group(int layer, TensorKind kind) {
        for (LayerSummary s : byLayerAndKind) {
            if (s.layer() == layer && Objects.equals(s.kind(), kind)) return s;
        }
        return null;
    }

    static LayerSummary summarise(int layer, TensorKind kind, List<TensorStatistics> group, int t) {
        long elements = 0;
        long conflicts = 0;
        double baseSq = 0;
        double mergedDelta = 0;
        double[] modelSq = new double[t];
        double[] dots = new double[t * t];
        double[] kept = new double[t];
        double[] toModel = new double[t];
        long keptElements = 0;
        long mergeConflicts = 0;
        boolean anyKept = false;
        boolean allMerged = !group.isEmpty();
        boolean anyElection = false;
        for (TensorStatistics s : group) {
            elements += s.elements();
            conflicts += s.conflictElements();
            baseSq += s.baseNormSq();
            for (int i = 0; i < t; i++) modelSq[i] += s.modelNormSq()[i];
            for (int k = 0; k < t * t; k++) dots[k] += s.deltaDot()[k];
            if (s.keptFraction() != null) {
                anyKept = true;
                keptElements += s.elements();
                for (int i = 0; i < t; i++) kept[i] += s.keptFraction()[i] * s.elements();
            }
            if (s.mergeConflicts() >= 0) {
                anyElection = true;
                mergeConflicts += s.mergeConflicts();
            }
            if (s.merged()) {
                mergedDelta += s.mergedDeltaNormSq();
                for (int i = 0; i < t; i++) toModel[i] += s.mergedToModelSq()[i];
            } else {
                allMerged = false;
            }
        }
        double baseNorm = Math.sqrt(baseSq);
        double[] rel = new double[t];
        double[] cos = new double[t * t];
        for (int i = 0; i < t; i++) {
            rel[i] = baseNorm == 0 ? Double.NaN : Math.sqrt(dots[i * t + i]) / baseNorm;
            for (int j = 0; j < t; j++) {
                double den = Math.sqrt(dots[i * t + i]) * Math.sqrt(dots[j * t + j]);
                cos[i * t + j] = den == 0 ? Double.NaN : Math.max(-1, Math.min(1, dots[i * t + j] / den));
            }
        }
        double[] keptOut = null;
        if (anyKept) {
            keptOut = new double[t];
            for (int i = 0; i < t; i++) keptOut[i] = kept[i] / keptElements;
        }
        double[] change = null;
        double changeBase = Double.NaN;
        if (allMerged) {
            changeBase = baseNorm == 0 ? Double.NaN : Math.sqrt(mergedDelta) / baseNorm;
            change = new double[t];
            for (int i = 0; i < t; i++) change[i] = modelSq[i] == 0 ? Double.NaN : Math.sqrt(toModel[i] / modelSq[i]);
        }
        return new LayerSummary(layer, kind, elements, rel, cos, elements == 0 ? 0 : (double) conflicts / elements, keptOut,
                anyElection && elements > 0 ? (double) mergeConflicts / elements : Double.NaN, changeBase, change);
    }
}

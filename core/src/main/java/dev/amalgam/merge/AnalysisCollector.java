package dev.amalgam.merge;

import dev.amalgam.analysis.MergeAnalysis;
import dev.amalgam.analysis.TaskVectorStatistics;
import dev.amalgam.analysis.TensorStatistics;
import dev.amalgam.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TensorObserver} that computes {@link TensorStatistics} for every merged tensor, to be
 * summarised into a {@link MergeAnalysis} at the end. Task vectors need a base: a plan without
 * one (e.g. {@code linear} with no {@code base_model}) is analysed with its first input as the
 * reference and the others as the "models", which {@link #baseIsReference()} reports.
 *
 * <p>Not thread-safe: one collector per run.
 */
public final class AnalysisCollector implements TensorObserver {

    private final List<TensorStatistics> tensors = new ArrayList<>();
    private MergePlan plan;

    @Override
    public void observe(PlanEntry entry, MergePlan plan, List<Tensor> inputs, Tensor output, TensorReport report) {
        this.plan = plan;
        int base = reference(plan);
        List<Tensor> models = new ArrayList<>(inputs.size() - 1);
        for (int i = 0; i < inputs.size(); i++) {
            if (i != base) models.add(inputs.get(i));
        }
        double[] kept = report == null ? null : report.keptPerModel();
        if (kept != null && kept.length != models.size()) kept = null;
        long conflicts = report == null ? -1 : report.signConflicts();
        tensors.add(TaskVectorStatistics.compute(entry.name(), inputs.get(base), models, output, kept, conflicts));
    }

    /** Whether the plan had a real base model (false: the first input stood in for it). */
    public boolean baseIsReference() {
        return plan == null || plan.baseInput() >= 0;
    }

    /** The statistics gathered so far, summarised. */
    public MergeAnalysis analysis() {
        if (plan == null) return MergeAnalysis.of("", "", List.of(), List.of());
        int base = reference(plan);
        List<String> models = new ArrayList<>();
        for (int i = 0; i < plan.inputs().size(); i++) {
            MergeInput in = plan.inputs().get(i);
            if (i != base) models.add(in.label());
        }
        return MergeAnalysis.of(plan.method(), plan.inputs().get(base).label(), plan.baseInput() >= 0, models, tensors);
    }

    private static int reference(MergePlan plan) {
        return Math.max(0, plan.baseInput());
    }
}

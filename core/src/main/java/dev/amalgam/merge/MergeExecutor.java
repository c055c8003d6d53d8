package dev.amalgam.merge;

import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a plan: one output tensor at a time, in plan order, so memory stays bounded by one
 * tensor's scratch no matter how large the model is. Inputs are memory-mapped views and outputs
 * are written straight into the memory-mapped output shards.
 */
public final class MergeExecutor {

    private MergeExecutor() {
    }

    public static List<TensorReport> execute(MergeContext ctx, TensorMerger merger, OutputSink sink, ProgressListener progress) {
        return execute(ctx, merger, sink, progress, TensorObserver.NONE);
    }

    /** As {@link #execute(MergeContext, TensorMerger, OutputSink, ProgressListener)}, showing each merged tensor to {@code observer}. */
    public static List<TensorReport> execute(MergeContext ctx, TensorMerger merger, OutputSink sink, ProgressListener progress,
                                             TensorObserver observer) {
        MergePlan plan = ctx.plan();
        List<TensorReport> reports = new ArrayList<>(plan.entries().size());
        progress.started(plan.entries().size(), plan.bytesToRead());
        try {
            merger.prepare(ctx);
            long bytesDone = 0;
            int done = 0;
            for (PlanEntry entry : plan.entries()) {
                Tensor out = sink.tensorFor(entry.name());
                TensorReport report = switch (entry.action()) {
                    case MERGE -> merger.merge(entry, ctx, out);
                    case COPY -> copy(entry, ctx, out);
                };
                reports.add(report);
                if (entry.action() == PlanEntry.Action.MERGE && observer != TensorObserver.NONE) {
                    observe(entry, plan, observer, out, report);
                }
                sink.written(entry.name());
                bytesDone += entry.bytesRead();
                progress.tensorDone(entry.name(), ++done, bytesDone);
            }
            return reports;
        } finally {
            progress.finished();
        }
    }

    /**
     * Shows every tensor a merge of {@code plan} would compute to {@code observer}, without
     * merging or writing anything ({@code amalgam analyze}).
     */
    public static void analyze(MergePlan plan, TensorObserver observer, ProgressListener progress) {
        progress.started(plan.entries().size(), plan.bytesToRead());
        try {
            long bytesDone = 0;
            int done = 0;
            for (PlanEntry entry : plan.entries()) {
                if (entry.action() == PlanEntry.Action.MERGE) observe(entry, plan, observer, null, null);
                bytesDone += entry.bytesRead();
                progress.tensorDone(entry.name(), ++done, bytesDone);
            }
        } finally {
            progress.finished();
        }
    }

    private static void observe(PlanEntry entry, MergePlan plan, TensorObserver observer, Tensor out, TensorReport report) {
        try (Arena arena = Arena.ofConfined()) {
            List<Tensor> inputs = new ArrayList<>(plan.inputs().size());
            for (MergeInput in : plan.inputs()) {
                inputs.add(InputTensors.load(in.checkpoint().tensor(entry.name()), entry.output(), arena));
            }
            observer.observe(entry, plan, inputs, out, report);
        }
    }

    /** Integer, bool and 8-bit float tensors: copied from the base (else the first model). */
    private static TensorReport copy(PlanEntry entry, MergeContext ctx, Tensor out) {
        long start = System.nanoTime();
        MergeInput source = ctx.input(entry.copySource());
        MemorySegment src = source.checkpoint().tensor(entry.name()).data();
        MemorySegment.copy(src, 0, out.data(), 0, src.byteSize());
        for (int i = 0; i < ctx.plan().inputs().size(); i++) {
            if (i == entry.copySource()) continue;
            MergeInput other = ctx.input(i);
            if (other.checkpoint().tensor(entry.name()).data().mismatch(src) >= 0) {
                ctx.warnings().add("copied-differs", "tensor " + entry.name() + " (" + entry.output().dtype()
                        + ") differs between " + source.label() + " and " + other.label() + "; copied from " + source.label());
            }
        }
        return new TensorReport(entry.name(), "copied", entry.output().elementCount(), 1, 0, System.nanoTime() - start);
    }
}

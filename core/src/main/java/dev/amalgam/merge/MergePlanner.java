package dev.amalgam.merge;

import dev.amalgam.config.MethodSpec;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Builds a {@link MergePlan} from the input headers: checks that every input has the same
 * tensors (§1.2), that shapes agree (with the embedding crops of §1.2), decides per tensor
 * whether it is merged or copied and in which dtype it is written (§1.3).
 *
 * <p>Implementation notes. Reads headers only, so it runs in a second on any model size; every
 * error names the tensor and the models involved. Entries are in UTF-8 byte order of names.
 */
public final class MergePlanner {

    private MergePlanner() {
    }

    /**
     * @param method      the registry value: its shape policy, its scratch estimate, its name for the plan
     * @param inputs      opened inputs laid out as {@code method.inputs().layout()} says; the base (if any) at {@code baseInput}
     * @param baseInput   index of the base, or -1
     * @param outDtype    {@code out_dtype}, else {@code dtype}, else null (keep the stored dtype)
     * @param layerT      layer position t of a tensor name (§1.1)
     */
    public static MergePlan plan(MethodSpec method, List<MergeInput> inputs, int baseInput, DType outDtype,
                                 ToDoubleFunction<String> layerT) {
        if (inputs.isEmpty()) throw new MergeException("no input models");
        ShapePolicy policy = method.shapePolicy();
        int scratchTensors = method.scratchTensors().applyAsInt(inputs.size());
        List<String> warnings = new ArrayList<>();
        Set<String> names = new TreeSet<>(TensorOrder.UTF8);
        for (MergeInput in : inputs) {
            for (TensorInfo t : in.checkpoint().tensors()) names.add(t.name());
        }
        for (MergeInput in : inputs) {
            Set<String> own = new LinkedHashSet<>();
            for (TensorInfo t : in.checkpoint().tensors()) own.add(t.name());
            for (String name : names) {
                if (!own.contains(name)) {
                    MergeInput has = inputs.stream().filter(o -> o != in && o.checkpoint().contains(name)).findFirst().orElseThrow();
                    throw new MergeException("tensor " + name + " is missing in model " + in.label()
                            + " (present in " + has.label() + ")");
                }
            }
        }

        int source = baseInput >= 0 ? baseInput : 0;
        List<PlanEntry> entries = new ArrayList<>(names.size());
        long outputBytes = 0;
        long peak = 0;
        for (String name : names) {
            List<TensorInfo> infos = new ArrayList<>(inputs.size());
            for (MergeInput in : inputs) infos.add(in.checkpoint().info(name));
            PlanEntry entry = entry(name, inputs, infos, source, policy, outDtype, layerT.applyAsDouble(name), warnings);
            entries.add(entry);
            outputBytes += entry.output().byteSize();
            if (entry.action() == PlanEntry.Action.MERGE) {
                peak = Math.max(peak, scratchBytes(entry, scratchTensors));
            }
        }
        return new MergePlan(method.name(), inputs, baseInput, entries, outputBytes, peak, warnings);
    }

    private static PlanEntry entry(String name, List<MergeInput> inputs, List<TensorInfo> infos, int source,
                                   ShapePolicy policy, DType outDtype, double t, List<String> warnings) {
        boolean anyMergeable = false, anyOther = false;
        for (TensorInfo i : infos) {
            if (i.dtype().isMergeable() || i.dtype() == DType.F64) anyMergeable = true;
            else anyOther = true;
        }
        if (anyMergeable && anyOther) {
            StringBuilder sb = new StringBuilder("tensor " + name + " has floating and non-floating dtypes across models:");
            for (int j = 0; j < inputs.size(); j++) sb.append(' ').append(inputs.get(j).label()).append('=').append(infos.get(j).dtype());
            throw new MergeException(sb.toString());
        }
        TensorInfo ref = infos.get(source);
        if (anyOther) {
            for (int j = 0; j < infos.size(); j++) {
                if (!infos.get(j).sameShape(ref) || infos.get(j).dtype() != ref.dtype()) {
                    throw new MergeException("tensor " + name + ": " + describe(inputs, infos, source, j));
                }
            }
            return new PlanEntry(name, PlanEntry.Action.COPY, ref, infos, t, source);
        }
        long[] shape = outputShape(name, inputs, infos, source, policy, warnings);
        DType out = outDtype != null ? outDtype : ref.dtype();
        if (out == DType.F64) {
            out = DType.F32;
            warnings.add("tensor " + name + " is F64 in " + inputs.get(source).label() + "; merged in float32 and written as F32");
        }
        for (int j = 0; j < infos.size(); j++) {
            if (infos.get(j).dtype() == DType.F64) {
                warnings.add("tensor " + name + " is F64 in " + inputs.get(j).label() + "; rounded to float32 on load");
            }
        }
        return new PlanEntry(name, PlanEntry.Action.MERGE, new TensorInfo(name, out, shape), infos, t, source);
    }

    private static long[] outputShape(String name, List<MergeInput> inputs, List<TensorInfo> infos, int source,
                                      ShapePolicy policy, List<String> warnings) {
        TensorInfo ref = infos.get(source);
        boolean allSame = infos.stream().allMatch(i -> i.sameShape(ref));
        if (allSame) return ref.shape();
        boolean embedding = EmbeddingNames.isEmbedding(name) && infos.stream().allMatch(i -> i.rank() == 2);
        if (embedding && policy == ShapePolicy.CROP_TO_BASE) {
            for (int j = 0; j < infos.size(); j++) {
                TensorInfo i = infos.get(j);
                if (i.dim(0) < ref.dim(0) || i.dim(1) < ref.dim(1)) {
                    throw new MergeException("tensor " + name + ": embedding of " + inputs.get(j).label() + " "
                            + TensorInfo.shapeString(i.shape()) + " is smaller than the base's "
                            + TensorInfo.shapeString(ref.shape()) + "; only larger vocabularies are cropped");
                }
                if (!i.sameShape(ref)) {
                    warnings.add("tensor " + name + ": " + inputs.get(j).label() + " " + TensorInfo.shapeString(i.shape())
                            + " cropped to the base's " + TensorInfo.shapeString(ref.shape()));
                }
            }
            return ref.shape();
        }
        if (embedding && policy == ShapePolicy.CROP_TO_COMMON) {
            long rows = Long.MAX_VALUE, cols = Long.MAX_VALUE;
            for (TensorInfo i : infos) {
                rows = Math.min(rows, i.dim(0));
                cols = Math.min(cols, i.dim(1));
            }
            long[] common = {rows, cols};
            warnings.add("tensor " + name + ": inputs cropped to the common shape " + Arrays.toString(common));
            return common;
        }
        for (int j = 0; j < infos.size(); j++) {
            if (!infos.get(j).sameShape(ref)) {
                throw new MergeException("tensor " + name + ": shape mismatch: " + describe(inputs, infos, source, j));
            }
        }
        throw new AssertionError("unreachable");
    }

    private static String describe(List<MergeInput> inputs, List<TensorInfo> infos, int a, int b) {
        return inputs.get(a).label() + " has " + infos.get(a).dtype() + " " + TensorInfo.shapeString(infos.get(a).shape())
                + ", " + inputs.get(b).label() + " has " + infos.get(b).dtype() + " " + TensorInfo.shapeString(infos.get(b).shape());
    }

    /** Reference-kernel scratch: the method's float32 scratch tensors, plus copies of cropped or F64 inputs. */
    private static long scratchBytes(PlanEntry entry, int scratchTensors) {
        long n = entry.output().elementCount();
        long copies = 0;
        for (TensorInfo i : entry.inputs()) {
            if (i.dtype() == DType.F64 || !i.sameShape(entry.output())) copies++;
        }
        return 4L * n * (scratchTensors + copies);
    }
}

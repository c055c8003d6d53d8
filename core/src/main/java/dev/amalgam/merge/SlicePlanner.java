package dev.amalgam.merge;

import dev.amalgam.config.MergeConfig;
import dev.amalgam.config.ModelRef;
import dev.amalgam.config.OutputSlice;
import dev.amalgam.config.ParameterResolver;
import dev.amalgam.config.SliceSource;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.tensor.TensorInfo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Resolves {@code slices:} into an output layer map (spec §16.2): output layer o = (layers of
 * earlier slices) + k is merged from layer a+k of each source; pre tensors come from the first
 * slice's sources, post tensors from the last slice's. Each slice becomes one ordinary
 * {@link MergePlan} over renamed views of its sources (view name = output name), so every
 * method merges a slice exactly as it merges {@code models:} inputs, with the model index =
 * the position in {@code sources} and t = k/(L−1) within the slice.
 *
 * <p>Implementation notes: headers only. Output tensors are named with the layer prefix of the
 * first slice's first source. A rest R is taken from the slice's first source; one missing in
 * another source is an error naming tensor and model.
 */
final class SlicePlanner {

    /** One slice's merge: its plan over renamed views and its parameter lookup. */
    record Segment(OutputSlice slice, MergePlan plan, ParameterResolver params) {
    }

    /** How a method arranges a slice's inputs: the plan for given views (base, if any, marked). */
    interface Arranger {
        MergePlan plan(List<MergeInput> views, MergeInput base, Function<String, Double> layerT);
    }

    record Result(List<Segment> segments, LayerMap layerMap) {
    }

    private SlicePlanner() {
    }

    static Result plan(MergeConfig config, Map<Path, MergeInput> opened, Arranger arranger) {
        Map<Path, LayerStack> stacks = new HashMap<>();
        Function<MergeInput, LayerStack> stackOf = in -> stacks.computeIfAbsent(in.ref().resolvedPath(),
                p -> LayerStack.of(in.label(), in.checkpoint().tensors().stream().map(TensorInfo::name).toList()));
        List<OutputSlice> slices = config.slices();
        MergeInput firstInput = opened.get(slices.getFirst().sources().getFirst().model().resolvedPath());
        String outPrefix = stackOf.apply(firstInput).prefix();

        List<Segment> segments = new ArrayList<>();
        List<LayerMap.Layer> layers = new ArrayList<>();
        for (OutputSlice slice : slices) {
            List<SliceSource> sources = slice.sources();
            List<LayerStack> sourceStacks = new ArrayList<>();
            for (SliceSource src : sources) {
                MergeInput in = opened.get(src.model().resolvedPath());
                LayerStack st = stackOf.apply(in);
                if (src.layerEnd() > st.layerCount()) {
                    throw new MergeException(src.model().keyPath() + ".layer_range: [" + src.layerStart() + ", "
                            + src.layerEnd() + ") is outside model " + src.model().path() + ", which has "
                            + st.layerCount() + " layers (0.." + (st.layerCount() - 1) + ")");
                }
                sourceStacks.add(st);
            }
            List<Map<String, String>> renames = new ArrayList<>();
            for (int j = 0; j < sources.size(); j++) renames.add(new LinkedHashMap<>());
            Map<String, Double> layerT = new HashMap<>();

            if (slice.index() == 0) addUnrenamed(sourceStacks.getFirst().pre(), sources, opened, renames, layerT);
            int length = slice.layerCount();
            for (int k = 0; k < length; k++) {
                int o = slice.firstOutputLayer() + k;
                double t = length > 1 ? (double) k / (length - 1) : 1.0;
                List<LayerMap.Source> row = new ArrayList<>();
                for (int j = 0; j < sources.size(); j++) {
                    row.add(new LayerMap.Source(opened.get(sources.get(j).model().resolvedPath()), sources.get(j).layerStart() + k));
                }
                layers.add(new LayerMap.Layer(o, slice.index(), row));
                LayerStack first = sourceStacks.getFirst();
                for (String rest : first.rests(sources.getFirst().layerStart() + k)) {
                    String out = outPrefix + o + "." + rest;
                    layerT.put(out, t);
                    for (int j = 0; j < sources.size(); j++) {
                        SliceSource src = sources.get(j);
                        String in = sourceStacks.get(j).name(src.layerStart() + k, rest);
                        MergeInput model = opened.get(src.model().resolvedPath());
                        if (!model.checkpoint().contains(in)) {
                            throw new MergeException("tensor " + in + " is missing in model " + src.model().path() + " ("
                                    + src.model().keyPath() + "), needed for output " + out + " (present in "
                                    + sources.getFirst().model().path() + " as " + first.name(sources.getFirst().layerStart() + k, rest) + ")");
                        }
                        renames.get(j).put(out, in);
                    }
                }
            }
            if (slice.index() == slices.size() - 1) addUnrenamed(sourceStacks.getFirst().post(), sources, opened, renames, layerT);

            List<MergeInput> views = new ArrayList<>();
            MergeInput base = null;
            for (int j = 0; j < sources.size(); j++) {
                ModelRef ref = sources.get(j).model();
                Checkpoint folder = opened.get(ref.resolvedPath()).checkpoint();
                MergeInput view = new MergeInput(ref, new RenamedCheckpoint(folder, renames.get(j)));
                views.add(view);
                if (ref.base()) base = view;
            }
            List<Map<String, String>> names = List.copyOf(renames);
            ParameterResolver params = slice.parameters().withInputNames((m, out) -> {
                String in = m >= 0 && m < names.size() ? names.get(m).get(out) : null;
                return in != null ? in : out;
            });
            MergePlan plan = arranger.plan(views, base, name -> layerT.getOrDefault(name, 0.0));
            segments.add(new Segment(slice, plan, params));
        }
        return new Result(segments, new LayerMap(layers));
    }

    /** Pre/post tensors keep their names; every source must have each of them. */
    private static void addUnrenamed(List<String> names, List<SliceSource> sources, Map<Path, MergeInput> opened,
                                     List<Map<String, String>> renames, Map<String, Double> layerT) {
        for (String name : names) {
            layerT.put(name, 0.0);
            for (int j = 0; j < sources.size(); j++) {
                SliceSource src = sources.get(j);
                if (!opened.get(src.model().resolvedPath()).checkpoint().contains(name)) {
                    throw new MergeException("tensor " + name + " is missing in model " + src.model().path() + " ("
                            + src.model().keyPath() + "; present in " + sources.getFirst().model().path() + ")");
                }
                renames.get(j).put(name, name);
            }
        }
    }
}

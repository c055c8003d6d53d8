package dev.amalgam.merge;

import dev.amalgam.config.MultiStageConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Runs a {@link MultiStageConfig} (mergekit-multi): every stage in document order, each into
 * its folder under the intermediate directory, the last into the output. Intermediate folders
 * are replaced if they exist (no lazy reuse: a stale intermediate would silently change the
 * result).
 */
public final class MultiStageMerge {

    private MultiStageMerge() {
    }

    /** The options of one stage's merge, given its config and output folder. */
    @FunctionalInterface
    public interface StageOptions {
        MergeJob.Options forStage(MultiStageConfig.Stage stage, Path output, boolean last);
    }

    /** As {@link #run(MultiStageConfig, StageOptions, ProgressListener, boolean)} with the same options for every stage. */
    public static List<MergeReport> run(MultiStageConfig stages, MergeJob.Options options, ProgressListener progress,
                                        boolean removeIntermediates) throws IOException {
        return run(stages, (s, out, last) -> last ? options : new MergeJob.Options(out, options.device(),
                options.maxShardSize(), true, options.seed(), options.writeModelCard(), true), progress, removeIntermediates);
    }

    /**
     * @param options             the options of each stage (intermediate stages: replace their folder)
     * @param removeIntermediates delete the intermediate directory afterwards (also after a failure)
     * @return one report per stage, in order
     */
    public static List<MergeReport> run(MultiStageConfig stages, StageOptions options, ProgressListener progress,
                                        boolean removeIntermediates) throws IOException {
        return run(stages, options, progress, removeIntermediates, TensorObserver.NONE);
    }

    /**
     * As {@link #run(MultiStageConfig, StageOptions, ProgressListener, boolean)}, with
     * {@code lastStageObserver} seeing the tensors of the last stage (the output the user gets;
     * what an HTML report analyses).
     */
    public static List<MergeReport> run(MultiStageConfig stages, StageOptions options, ProgressListener progress,
                                        boolean removeIntermediates, TensorObserver lastStageObserver) throws IOException {
        List<MergeReport> reports = new ArrayList<>();
        try {
            List<MultiStageConfig.Stage> all = stages.stages();
            for (int i = 0; i < all.size(); i++) {
                MultiStageConfig.Stage s = all.get(i);
                boolean last = i == all.size() - 1;
                MergeJob.Options o = options.forStage(s, last ? null : stages.stageOutput(s.name()), last);
                if (!last) Files.createDirectories(stages.intermediateDir());
                try {
                    reports.add(MergeJob.run(s.config(), o, progress, last ? lastStageObserver : TensorObserver.NONE));
                } catch (MergeException e) {
                    throw new MergeException("stage " + (s.name() != null ? "`" + s.name() + "`" : "(last)") + " (document "
                            + s.document() + "): " + e.getMessage(), e);
                }
            }
            return reports;
        } finally {
            if (removeIntermediates) deleteRecursively(stages.intermediateDir());
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}

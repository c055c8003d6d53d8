import dev.amalgam.Amalgam;
import dev.amalgam.MergeOptions;
import dev.amalgam.MergeSummary;
import dev.amalgam.config.ConfigValue;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.kernel.ConsensusMethod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A TIES merge of the bundled example family (examples/family), written in code instead of
 * YAML, into a folder of safetensors shards.
 * Run: examples/java/run MergeFolder [OUTPUT_DIR]   (default: a new temporary folder)
 */
public class MergeFolder {
    public static void main(String[] args) throws Exception {
        Path family = Path.of("examples/family");
        Path output = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("amalgam-merge-").resolve("ties");
        MergeConfig ties = MergeConfig.builder("ties")
                .baseDir(family)                                  // model names are folders under it
                .baseModel("base")
                .model("ft-1", m -> m.weight(1.0).density(0.3))
                .model("ft-2", m -> m.weight(ConfigValue.gradient(0.4, 0.6, 1.0)).density(0.5))
                .model("ft-3", m -> m.weight(0.8).density(ConfigValue.filtered(
                        ConfigValue.when("mlp", ConfigValue.of(0.2)), ConfigValue.otherwise(ConfigValue.of(0.5)))))
                .consensusMethod(ConsensusMethod.SUM)
                .normalize(true)
                .build();
        MergeOptions options = MergeOptions.builder()
                .maxShardSize(4_000_000)
                .listener(p -> System.out.printf("\r%3.0f%%", 100 * p.fraction()))
                .build();
        try (Amalgam amalgam = Amalgam.open()) {
            MergeSummary s = amalgam.mergeToFolder(ties, Map.of(), output, options);
            System.out.printf("%nmerged %d tensors with %s in %.2f s into %s%n",
                    s.tensors().size(), s.backend(), s.seconds(), s.output().orElseThrow());
            try (var files = Files.list(output)) {
                files.map(p -> "  " + p.getFileName()).sorted().forEach(System.out::println);
            }
        }
    }
}

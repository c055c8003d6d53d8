package dev.amalgam.cli;

import dev.amalgam.MergeSummary;
import dev.amalgam.synth.SyntheticFamily;
import dev.amalgam.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code amalgam generate-family DIR}: writes a synthetic Llama-shaped model family (examples, benchmarks). */
@Command(name = "generate-family", description = "Write a synthetic base + fine-tunes family of checkpoints into DIR.")
final class GenerateFamilyCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR")
    Path dir;

    @Option(names = "--layers", defaultValue = "4") int layers;
    @Option(names = "--hidden", defaultValue = "64") int hidden;
    @Option(names = "--intermediate", defaultValue = "172") int intermediate;
    @Option(names = "--vocab", defaultValue = "320") int vocab;
    @Option(names = "--fine-tunes", defaultValue = "3") int fineTunes;
    @Option(names = "--dtype", defaultValue = "bfloat16") String dtype;
    @Option(names = "--seed", defaultValue = "7") long seed;
    @Option(names = "--max-shard-size", defaultValue = "5GB") String maxShardSize;

    @Override
    public Integer call() throws Exception {
        DType d = DType.fromConfigName(dtype);
        if (d == null) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--dtype: '" + dtype + "'; valid: bfloat16, float16, float32");
        }
        long shardSize;
        try {
            shardSize = ByteSize.parse(maxShardSize);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        SyntheticFamily.Spec s = new SyntheticFamily.Spec(layers, hidden, intermediate, vocab, fineTunes, d, seed, shardSize);
        List<Path> folders = SyntheticFamily.write(dir, s);
        spec.commandLine().getOut().printf("wrote %d checkpoints of %d parameters (%s each) into %s%n", folders.size(),
                s.parameterCount(), MergeSummary.bytes(s.parameterCount() * d.byteSize()), dir);
        return 0;
    }
}

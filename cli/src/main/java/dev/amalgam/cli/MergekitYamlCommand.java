package dev.amalgam.cli;

import dev.amalgam.kernel.Device;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code amalgam mergekit-yaml CONFIG OUT [options]}: mergekit's {@code mergekit-yaml} command
 * line ({@code mergekit/options.py}), so {@code alias mergekit-yaml='amalgam mergekit-yaml'}
 * works. Options with an effect map onto Amalgam's; options about mergekit's own machinery
 * are accepted with a one-line note; {@code --trust-remote-code} is refused. As mergekit does,
 * the kernels run on the CPU unless {@code --cuda} or {@code --device} says otherwise, and an
 * existing OUT is replaced (atomically, once the merge has succeeded).
 */
@Command(name = "mergekit-yaml", description = "Run a mergekit config with mergekit-yaml's command line.")
final class MergekitYamlCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CONFIG_FILE") Path config;
    @Parameters(index = "1", paramLabel = "OUT_PATH") Path output;

    @Option(names = "--cuda", description = "Run the kernels on the GPU (an error if none is usable).") boolean cuda;
    @Option(names = "--no-cuda", hidden = true) boolean noCuda;
    @Option(names = "--device", paramLabel = "DEVICE", description = "cpu, cuda (cuda:N), or auto.") String device;
    @Option(names = "--out-shard-size", paramLabel = "SIZE", defaultValue = "5B",
            description = "Parameters per output shard, e.g. 5B, 500M, 1000k (default: ${DEFAULT-VALUE}).") String outShardSize;
    @Option(names = "--copy-tokenizer", description = "Copy the tokenizer to the output (default).") boolean copyTokenizer;
    @Option(names = "--no-copy-tokenizer", description = "Do not copy tokenizer files.") boolean noCopyTokenizer;
    @Option(names = "--random-seed", paramLabel = "N", description = "Seed for randomized methods (overrides random_seed).") Long randomSeed;
    @Option(names = "--write-model-card", description = "Write README.md and mergekit_config.yml (default).") boolean writeModelCard;
    @Option(names = "--no-write-model-card", description = "Do not write README.md and mergekit_config.yml.") boolean noWriteModelCard;
    @Option(names = "--allow-crimes", description = "Allow mixing architectures (no effect: Amalgam checks tensors, not architectures).") boolean allowCrimes;
    @Option(names = "--no-allow-crimes", hidden = true) boolean noAllowCrimes;
    @Option(names = {"-j", "--num-threads"}, paramLabel = "N", description = "Threads of the CPU kernels.") Integer threads;
    @Option(names = "--quiet", description = "No progress bar or summary.") boolean quiet;
    @Option(names = "--no-quiet", hidden = true) boolean noQuiet;
    @Option(names = "-v", description = "Verbose: stack traces on errors (repeatable).") boolean[] verbosity = new boolean[0];
    @Option(names = "--trust-remote-code", description = "Refused: Amalgam never runs model code.") boolean trustRemoteCode;
    @Option(names = "--no-trust-remote-code", hidden = true) boolean noTrustRemoteCode;
    @Option(names = "--strict", description = "Make config warnings errors (Amalgam's own option).") boolean strict;
    @Option(names = "--intermediate-dir", paramLabel = "DIR", description = "Multi-stage configs: where stages are kept.") Path intermediateDir;

    // mergekit options about its own machinery: accepted, without effect here.
    @Option(names = {"--lazy-unpickle", "--no-lazy-unpickle"}, hidden = true) boolean lazyUnpickle;
    @Option(names = {"--low-cpu-memory", "--no-low-cpu-memory"}, hidden = true) boolean lowCpuMemory;
    @Option(names = {"--clone-tensors", "--no-clone-tensors"}, hidden = true) boolean cloneTensors;
    @Option(names = {"--read-to-gpu", "--no-read-to-gpu"}, hidden = true) boolean readToGpu;
    @Option(names = {"--async-write", "--no-async-write"}, hidden = true) boolean asyncWrite;
    @Option(names = {"--multi-gpu", "--no-multi-gpu"}, hidden = true) boolean multiGpu;
    @Option(names = "--gpu-rich", hidden = true) boolean gpuRich;
    @Option(names = "--safe-serialization", hidden = true) boolean safeSerialization;
    @Option(names = "--no-safe-serialization", hidden = true) boolean noSafeSerialization;
    @Option(names = "--write-threads", hidden = true, paramLabel = "N") Integer writeThreads;
    @Option(names = "--transformers-cache", hidden = true, paramLabel = "PATH") String transformersCache;
    @Option(names = "--lora-merge-cache", hidden = true, paramLabel = "PATH") String loraMergeCache;
    @Option(names = "--lora-merge-dtype", hidden = true, paramLabel = "DTYPE") String loraMergeDtype;

    @Override
    public Integer call() throws Exception {
        if (trustRemoteCode) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--trust-remote-code is refused: Amalgam reads "
                    + "safetensors and config.json only and never runs code from a model repository");
        }
        PrintWriter err = spec.commandLine().getErr();
        for (String note : notes()) err.println("amalgam: note: " + note);
        Device dev = device();
        long parameters;
        try {
            parameters = parseParameterCount(outShardSize);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        if (threads != null) {
            if (threads < 1) throw new CommandLine.ParameterException(spec.commandLine(), "-j/--num-threads: must be >= 1, got " + threads);
            System.setProperty("amalgam.threads", Integer.toString(threads));
        }
        boolean q = quiet && !noQuiet;
        return new ConfigRun(config, output, dev, c -> saturatedMultiply(parameters, ConfigRun.bytesPerParameter(c)), true,
                randomSeed == null ? OptionalLong.empty() : OptionalLong.of(randomSeed), false, List.of(), strict,
                intermediateDir, false, !noWriteModelCard, !noCopyTokenizer, q).run(spec.commandLine().getOut());
    }

    private List<String> notes() {
        List<String> notes = new ArrayList<>();
        String io = "has no effect here (inputs are memory-mapped safetensors, outputs are written straight into mapped shards)";
        if (lazyUnpickle) notes.add("--lazy-unpickle " + io);
        if (lowCpuMemory) notes.add("--low-cpu-memory " + io);
        if (cloneTensors) notes.add("--clone-tensors " + io);
        if (asyncWrite) notes.add("--async-write " + io);
        if (writeThreads != null) notes.add("--write-threads " + io);
        if (readToGpu) notes.add("--read-to-gpu has no effect here (the CUDA backend stages tensors itself)");
        if (multiGpu) notes.add("--multi-gpu has no effect here (one device runs the kernels)");
        if (gpuRich) notes.add("--gpu-rich: runs on the GPU as --cuda; its other parts have no effect here");
        if (allowCrimes) notes.add("--allow-crimes has no effect here (tensors are checked by name and shape, not by architecture)");
        if (noSafeSerialization) notes.add("--no-safe-serialization has no effect here (the output is always safetensors)");
        if (transformersCache != null) notes.add("--transformers-cache has no effect here (model paths are local folders)");
        if (loraMergeCache != null) notes.add("--lora-merge-cache has no effect here (LoRA inputs are not supported yet)");
        if (loraMergeDtype != null) notes.add("--lora-merge-dtype has no effect here (LoRA inputs are not supported yet)");
        return notes;
    }

    private Device device() {
        String d = device;
        if (d == null) d = cuda || gpuRich ? "cuda" : "cpu"; // mergekit's default is the CPU
        String lower = d.toLowerCase(Locale.ROOT);
        if (lower.startsWith("cuda:")) lower = "cuda";
        try {
            return Device.parse(lower);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--device: '" + d + "' is not supported; valid: cpu, cuda, auto");
        }
    }

    /** mergekit's {@code parse_kmb}: an integer, or a number with k, M or B (×1000, ×10^6, ×10^9). */
    static long parseParameterCount(String text) {
        String t = text.trim();
        long scale = 1;
        char last = t.isEmpty() ? ' ' : Character.toLowerCase(t.charAt(t.length() - 1));
        if (last == 'k') scale = 1_000L;
        else if (last == 'm') scale = 1_000_000L;
        else if (last == 'b') scale = 1_000_000_000L;
        String digits = scale == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(digits);
            if (v < 1) throw new NumberFormatException();
            return saturatedMultiply(v, scale);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--out-shard-size: '" + text + "' is not a parameter count (e.g. 5B, 500M, 1000k, 1000000)");
        }
    }

    private static long saturatedMultiply(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return hi != 0 || lo < 0 ? Long.MAX_VALUE : lo;
    }
}

package dev.amalgam.cli;

import dev.amalgam.kernel.Device;
import dev.amalgam.lora.LoraExtraction;
import dev.amalgam.tensor.DType;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code amalgam extract-lora BASE FINETUNED OUT --rank R}: a PEFT LoRA adapter of a fine-tune's delta. */
@Command(name = "extract-lora", description = {
        "Extract a LoRA adapter (PEFT layout: adapter_model.safetensors + adapter_config.json) from the",
        "difference FINETUNED − BASE of every 2-D module weight, by truncated SVD (√S on both factors)."})
final class ExtractLoraCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "BASE", description = "Base model folder.")
    Path base;

    @Parameters(index = "1", paramLabel = "FINETUNED", description = "Fine-tuned model folder.")
    Path finetuned;

    @Parameters(index = "2", paramLabel = "OUT", description = "Adapter folder to create.")
    Path output;

    @Option(names = "--rank", paramLabel = "R", description = "LoRA rank (the cap when --sv-threshold is given too).")
    Integer rank;

    @Option(names = "--sv-threshold", paramLabel = "X",
            description = "Per module, keep singular values above X times the largest (0 ≤ X < 1).")
    Double svThreshold;

    @Option(names = "--include-embeddings", description = "Also extract the input embedding and the LM head (skipped by default).")
    boolean includeEmbeddings;

    @Option(names = "--dtype", paramLabel = "bfloat16|float16|float32",
            description = "Dtype of the adapter weights (default: that of each fine-tuned weight).")
    String dtype;

    @Option(names = "--base-model-name", paramLabel = "NAME",
            description = "base_model_name_or_path written into adapter_config.json (default: BASE as given).")
    String baseModelName;

    @Option(names = "--device", defaultValue = "auto", paramLabel = "auto|cpu|cuda", description = "Where the SVDs run (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--force", description = "Replace a non-empty OUT (only once the extraction has succeeded).")
    boolean force;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (rank == null && svThreshold == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give --rank R or --sv-threshold X (or both)");
        }
        DType adapterDtype = dtype == null ? null : DType.fromConfigName(dtype);
        if (dtype != null && adapterDtype == null) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--dtype: '" + dtype
                    + "' is not one of bfloat16, float16, float32");
        }
        LoraExtraction.Report r = LoraExtraction.run(new LoraExtraction.Options(base, finetuned, output,
                rank == null ? OptionalInt.empty() : OptionalInt.of(rank),
                svThreshold == null ? OptionalDouble.empty() : OptionalDouble.of(svThreshold), includeEmbeddings,
                adapterDtype, baseModelName, Device.parse(device), force));
        out.printf(Locale.ROOT, "extracted a LoRA adapter of %d modules with %s into %s (%.2f s)%n", r.modules().size(),
                r.backend(), r.output(), r.nanos() / 1e9);
        for (LoraExtraction.Module m : r.modules()) {
            out.printf(Locale.ROOT, "  %-50s [%d, %d] rank %d, keeps %.2f%% of ‖δ‖²%n", m.module(), m.shape()[0], m.shape()[1],
                    m.rank(), 100 * m.retained());
        }
        for (String s : r.skipped()) out.println("  skipped:  " + s);
        return 0;
    }
}

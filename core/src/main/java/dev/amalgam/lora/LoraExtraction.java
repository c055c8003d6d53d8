package dev.amalgam.lora;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.ShardWriter;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;
import dev.amalgam.merge.EmbeddingNames;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * Extracts a LoRA adapter from a fine-tune: per 2-D module weight, the low-rank factors of
 * δ = θ_ft − θ_base, written in the PEFT layout ({@code adapter_model.safetensors} +
 * {@code adapter_config.json}), as mergekit-extract-lora does.
 *
 * <p>Implementation notes. δ = U·diag(S)·Vh (top r triplets from the backend's SVD kernels);
 * √S goes to both sides: {@code lora_A} = diag(√S)·Vh (r × in), {@code lora_B} = U·diag(√S)
 * (out × r), so B·A = δ_r, the best rank-r approximation, and {@code lora_alpha} = r gives PEFT
 * scaling 1. Input embeddings (PEFT {@code nn.Embedding}, weight [vocab, dim]) store δᵀ's
 * factors as {@code lora_embedding_A} (r × vocab) and {@code lora_embedding_B} (dim × r); they and
 * the LM head are skipped unless asked for. Rank per module: {@code rank} (capped at
 * min(out, in)), or the count of σ_i > {@code svThreshold}·σ_1 (capped by {@code rank} if
 * both are given); modules whose rank is 0 (δ = 0) are left out. Modules with different ranks
 * go to {@code rank_pattern}/{@code alpha_pattern}. All factors are computed before anything
 * is written, and the folder appears atomically ({@link ShardWriter}).
 */
public final class LoraExtraction {

    public static final String ADAPTER_FILE = "adapter_model.safetensors";
    public static final String CONFIG_FILE = "adapter_config.json";
    private static final String PREFIX = "base_model.model.";
    private static final List<String> INPUT_EMBEDDINGS = List.of(
            "embed_tokens.weight", "wte.weight", "word_embeddings.weight", "tok_embeddings.weight", "embed_in.weight");

    private LoraExtraction() {
    }

    /**
     * @param base              base model folder (or file)
     * @param finetuned         fine-tuned model folder (or file)
     * @param output            adapter folder to create
     * @param rank              fixed rank, or the cap with a threshold
     * @param svThreshold       keep σ_i > threshold·σ_1 (relative to the module's largest)
     * @param includeEmbeddings also extract the input embedding and the LM head
     * @param dtype             dtype of the factors; null = the fine-tune's dtype of each weight
     * @param baseModelName     {@code base_model_name_or_path} in the config; null = the base path
     * @param device            where the SVDs run
     * @param force             replace a non-empty output folder
     */
    public record Options(Path base, Path finetuned, Path output, OptionalInt rank, OptionalDouble svThreshold,
                          boolean includeEmbeddings, DType dtype, String baseModelName, Device device, boolean force) {
        public Options {
            if (rank.isEmpty() && svThreshold.isEmpty()) throw new IllegalArgumentException("give a rank (--rank) or a threshold (--sv-threshold)");
            if (rank.isPresent() && rank.getAsInt() < 1) throw new IllegalArgumentException("--rank must be at least 1, got " + rank.getAsInt());
            if (svThreshold.isPresent() && !(svThreshold.getAsDouble() >= 0 && svThreshold.getAsDouble() < 1)) {
                throw new IllegalArgumentException("--sv-threshold must be in [0, 1) (a fraction of the largest singular value), got "
                        + svThreshold.getAsDouble());
            }
            if (dtype != null && !dtype.isMergeable()) throw new IllegalArgumentException("adapter dtype must be F32, F16 or BF16, not " + dtype);
        }
    }

    /**
     * One extracted module.
     *
     * @param module   module name (tensor name without {@code .weight})
     * @param shape    the weight's [out, in]
     * @param rank     kept rank
     * @param retained ‖δ_r‖²/‖δ‖²: the share of the delta's energy the adapter keeps
     */
    public record Module(String module, long[] shape, int rank, double retained, boolean embedding) {
    }

    /** What was written and what was left out, and why. */
    public record Report(Path output, String backend, List<Module> modules, List<String> skipped, long nanos) {
    }

    private record Factors(Module module, TensorInfo aInfo, float[] a, TensorInfo bInfo, float[] b) {
    }

    public static Report run(Options o) throws IOException {
        long start = System.nanoTime();
        try (ModelFolder base = ModelFolder.open(o.base()); ModelFolder ft = ModelFolder.open(o.finetuned())) {
            KernelBackends.Selection selection = KernelBackends.select(o.device());
            List<Factors> factors = new ArrayList<>();
            List<String> skipped = new ArrayList<>();
            try (KernelBackend backend = selection.backend()) {
                SvdKernels svd = backend.svd();
                for (TensorInfo info : ft.tensors()) {
                    String name = info.name();
                    if (info.rank() != 2 || !info.dtype().isMergeable() && info.dtype() != DType.F64) {
                        if (base.contains(name) && differs(base.tensor(name), ft.tensor(name))) {
                            skipped.add(name + ": not a 2-D floating weight, differs from the base (not in a LoRA adapter)");
                        }
                        continue;
                    }
                    if (!name.endsWith(".weight")) {
                        skipped.add(name + ": 2-D but not a module weight (no .weight suffix)");
                        continue;
                    }
                    boolean head = EmbeddingNames.isEmbedding(name);
                    if (head && !o.includeEmbeddings()) {
                        skipped.add(name + ": embedding / LM head (use --include-embeddings)");
                        continue;
                    }
                    if (!base.contains(name)) throw new IOException("tensor " + name + " of " + o.finetuned() + " is missing in the base " + o.base());
                    TensorInfo bi = base.info(name);
                    if (!bi.sameShape(info)) {
                        throw new IOException("tensor " + name + ": the base has shape " + TensorInfo.shapeString(bi.shape())
                                + ", the fine-tune " + TensorInfo.shapeString(info.shape()) + "; a LoRA needs equal shapes");
                    }
                    Factors f = extract(svd, o, name, base.tensor(name), ft.tensor(name), isInputEmbedding(name));
                    if (f == null) skipped.add(name + ": identical to the base (rank 0)");
                    else factors.add(f);
                }
            }
            if (factors.isEmpty()) throw new IOException("no module of " + o.finetuned() + " differs from the base: nothing to extract");
            write(o, factors);
            List<Module> modules = factors.stream().map(Factors::module).toList();
            return new Report(o.output().toAbsolutePath().normalize(), selection.provider(), modules, skipped, System.nanoTime() - start);
        }
    }

    static boolean isInputEmbedding(String name) {
        for (String p : INPUT_EMBEDDINGS) if (name.equals(p) || name.endsWith("." + p)) return true;
        return false;
    }

    private static boolean differs(Tensor a, Tensor b) {
        if (!a.info().sameShape(b.info()) || a.dtype() != b.dtype()) return true;
        return a.data().mismatch(b.data()) >= 0;
    }

    private static Factors extract(SvdKernels svd, Options o, String name, Tensor base, Tensor ft, boolean embedding) {
        int out = Math.toIntExact(ft.info().dim(0)), in = Math.toIntExact(ft.info().dim(1));
        LoraFactors f = LoraFactors.factorize(svd, LoraFactors.delta(base, ft), o.rank(),
                o.svThreshold().orElse(-1), name);
        int r = f.rank();
        if (r == 0) return null;
        float[] a = f.a().data(), b = f.b().data();
        String module = name.substring(0, name.length() - ".weight".length());
        DType dtype = o.dtype() != null ? o.dtype() : ft.dtype() == DType.F64 ? DType.F32 : ft.dtype();
        Module m = new Module(module, new long[] {out, in}, r, f.retained(), embedding);
        if (!embedding) {
            return new Factors(m, new TensorInfo(PREFIX + module + ".lora_A.weight", dtype, new long[] {r, in}), a,
                    new TensorInfo(PREFIX + module + ".lora_B.weight", dtype, new long[] {out, r}), b);
        }
        // nn.Embedding: Δweight = (B·A)ᵀ with A r × vocab, B dim × r: A = Bᵀ-side of δ, B = A-side, transposed.
        float[] ea = new float[r * out], eb = new float[in * r];
        for (int l = 0; l < r; l++) {
            for (int i = 0; i < out; i++) ea[l * out + i] = b[i * r + l];
            for (int j = 0; j < in; j++) eb[j * r + l] = a[l * in + j];
        }
        return new Factors(m, new TensorInfo(PREFIX + module + ".lora_embedding_A", dtype, new long[] {r, out}), ea,
                new TensorInfo(PREFIX + module + ".lora_embedding_B", dtype, new long[] {in, r}), eb);
    }

    private static void write(Options o, List<Factors> factors) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        for (Factors f : factors) {
            infos.add(f.aInfo());
            infos.add(f.bInfo());
        }
        Path scratch = Files.createTempDirectory("amalgam-lora-");
        try {
            Path config = scratch.resolve(CONFIG_FILE);
            Files.writeString(config, adapterConfig(o, factors));
            try (ShardWriter w = ShardWriter.builder(o.output(), infos).singleFileName(ADAPTER_FILE)
                    .copyFiles(List.of(config)).force(o.force()).open()) {
                for (Factors f : factors) {
                    put(w.tensorFor(f.aInfo().name()), f.a());
                    put(w.tensorFor(f.bInfo().name()), f.b());
                }
                w.finish();
            }
        } finally {
            try (var files = Files.list(scratch)) {
                for (Path p : files.toList()) Files.deleteIfExists(p);
            }
            Files.deleteIfExists(scratch);
        }
    }

    private static void put(Tensor t, float[] values) {
        for (int i = 0; i < values.length; i++) t.setFloat(i, values[i]);
    }

    /** PEFT's adapter_config.json: r = the most frequent rank, other ranks by module in rank_pattern. */
    static String adapterConfig(Options o, List<Factors> factors) throws IOException {
        Map<Integer, Integer> counts = new TreeMap<>();
        for (Factors f : factors) counts.merge(f.module().rank(), 1, Integer::sum);
        int r = counts.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        Map<String, Integer> rankPattern = new TreeMap<>();
        List<String> targets = new ArrayList<>();
        for (Factors f : factors) {
            targets.add(f.module().module());
            if (f.module().rank() != r) rankPattern.put(f.module().module(), f.module().rank());
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("alpha_pattern", rankPattern);
        c.put("base_model_name_or_path", o.baseModelName() != null ? o.baseModelName() : o.base().toString());
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("inference_mode", true);
        c.put("init_lora_weights", true);
        c.put("lora_alpha", r);
        c.put("lora_dropout", 0.0);
        c.put("modules_to_save", null);
        c.put("peft_type", "LORA");
        c.put("r", r);
        c.put("rank_pattern", rankPattern);
        c.put("target_modules", targets);
        c.put("task_type", "CAUSAL_LM");
        c.put("use_dora", false);
        c.put("use_rslora", false);
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(c) + "\n";
    }
}

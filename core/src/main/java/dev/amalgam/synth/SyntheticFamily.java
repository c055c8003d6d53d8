package dev.amalgam.synth;

import dev.amalgam.io.ShardWriter;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Writes a family of Llama-shaped checkpoints that share a base: {@code base/} and
 * {@code ft-1/ … ft-N/}, each a Hugging Face folder (sharded safetensors, config.json, a
 * tokenizer file). Fine-tunes are the base plus a dense small delta and a sparse larger one
 * at positions that differ per model, so sparsification and sign election have work to do.
 * Deterministic for a given {@link Spec}: the bundled example family and the benchmark
 * families are made with it.
 */
public final class SyntheticFamily {

    /**
     * @param layers       decoder layers
     * @param hidden       hidden size
     * @param intermediate MLP size
     * @param vocab        vocabulary size
     * @param fineTunes    number of fine-tuned models
     * @param dtype        storage dtype (F32, F16, BF16)
     * @param seed         random seed
     * @param maxShardSize data bytes per shard
     */
    public record Spec(int layers, int hidden, int intermediate, int vocab, int fineTunes, DType dtype, long seed,
                       long maxShardSize) {

        /** Parameters per checkpoint. */
        public long parameterCount() {
            return tensors(this).stream().mapToLong(TensorInfo::elementCount).sum();
        }
    }

    private SyntheticFamily() {
    }

    /** The tensor list of one checkpoint, in name order. */
    public static List<TensorInfo> tensors(Spec s) {
        List<TensorInfo> t = new ArrayList<>();
        long h = s.hidden(), i = s.intermediate();
        t.add(info("model.embed_tokens.weight", s, s.vocab(), h));
        for (int l = 0; l < s.layers(); l++) {
            String p = "model.layers." + l + ".";
            t.add(info(p + "input_layernorm.weight", s, h));
            t.add(info(p + "mlp.down_proj.weight", s, h, i));
            t.add(info(p + "mlp.gate_proj.weight", s, i, h));
            t.add(info(p + "mlp.up_proj.weight", s, i, h));
            t.add(info(p + "post_attention_layernorm.weight", s, h));
            t.add(info(p + "self_attn.k_proj.weight", s, h, h));
            t.add(info(p + "self_attn.o_proj.weight", s, h, h));
            t.add(info(p + "self_attn.q_proj.weight", s, h, h));
            t.add(info(p + "self_attn.v_proj.weight", s, h, h));
        }
        t.add(info("model.norm.weight", s, h));
        t.add(info("lm_head.weight", s, s.vocab(), h));
        t.sort((a, b) -> a.name().compareTo(b.name()));
        return t;
    }

    private static TensorInfo info(String name, Spec s, long... shape) {
        return new TensorInfo(name, s.dtype(), shape);
    }

    /** Writes {@code dir/base} and {@code dir/ft-1 … ft-N}; returns the model folders, base first. */
    public static List<Path> write(Path dir, Spec s) throws IOException {
        Files.createDirectories(dir);
        List<Path> folders = new ArrayList<>();
        for (int m = 0; m <= s.fineTunes(); m++) {
            Path folder = dir.resolve(m == 0 ? "base" : "ft-" + m);
            writeModel(folder, s, m);
            folders.add(folder);
        }
        return folders;
    }

    private static void writeModel(Path folder, Spec s, int model) throws IOException {
        Path extras = Files.createTempDirectory("amalgam-synth");
        try {
            Files.writeString(extras.resolve("config.json"), configJson(s), StandardCharsets.UTF_8);
            Files.writeString(extras.resolve("tokenizer_config.json"),
                    "{\"model_max_length\": 2048, \"tokenizer_class\": \"PreTrainedTokenizerFast\", \"source\": \""
                            + (model == 0 ? "base" : "ft-" + model) + "\"}\n", StandardCharsets.UTF_8);
            List<TensorInfo> tensors = tensors(s);
            try (ShardWriter w = ShardWriter.builder(folder, tensors).maxShardSize(s.maxShardSize())
                    .copyFiles(List.of(extras.resolve("config.json"), extras.resolve("tokenizer_config.json")))
                    .force(true).open()) {
                int index = 0;
                for (TensorInfo t : tensors) {
                    fill(w.tensorFor(t.name()), s.seed(), index++, model);
                }
                w.finish();
            }
        } finally {
            for (String f : List.of("config.json", "tokenizer_config.json")) Files.deleteIfExists(extras.resolve(f));
            Files.deleteIfExists(extras);
        }
    }

    /** base: N(0, 0.02) (norms near 1); fine-tune m: base + N(0, 0.002) + a 10% sparse N(0, 0.01). */
    private static void fill(Tensor out, long seed, int tensorIndex, int model) {
        boolean norm = out.name().endsWith("norm.weight");
        SplittableRandom base = new SplittableRandom(seed * 1_000_003L + tensorIndex);
        SplittableRandom delta = new SplittableRandom((seed * 1_000_003L + tensorIndex) * 31 + model);
        long n = out.elementCount();
        for (long i = 0; i < n; i++) {
            double x = norm ? 1 + 0.05 * gaussian(base) : 0.02 * gaussian(base);
            if (model > 0) {
                x += 0.002 * gaussian(delta);
                if (delta.nextInt(10) == 0) x += 0.01 * gaussian(delta);
            }
            out.setFloat(i, (float) x);
        }
    }

    /** A cheap approximately normal draw (Irwin–Hall of 4 uniforms, unit variance). */
    private static double gaussian(SplittableRandom r) {
        return (r.nextDouble() + r.nextDouble() + r.nextDouble() + r.nextDouble() - 2.0) * Math.sqrt(3.0);
    }

    private static String configJson(Spec s) {
        return String.format(Locale.ROOT, """
                {
                  "architectures": ["LlamaForCausalLM"],
                  "model_type": "llama",
                  "hidden_size": %d,
                  "intermediate_size": %d,
                  "num_hidden_layers": %d,
                  "num_attention_heads": %d,
                  "num_key_value_heads": %d,
                  "vocab_size": %d,
                  "rms_norm_eps": 1e-05,
                  "torch_dtype": "%s",
                  "tie_word_embeddings": false
                }
                """, s.hidden(), s.intermediate(), s.layers(), Math.max(1, s.hidden() / 64), Math.max(1, s.hidden() / 64),
                s.vocab(), s.dtype().configName());
    }
}

package dev.amalgam.source.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.io.AmalgamIOException;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.source.torch.TorchCheckpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A PEFT LoRA adapter folder: {@code adapter_config.json} ({@code peft_type: LORA}, {@code r},
 * {@code lora_alpha}, {@code use_rslora}, {@code rank_pattern}, {@code alpha_pattern},
 * {@code fan_in_fan_out}) and its weights ({@code adapter_model.safetensors}, else
 * {@code adapter_model.bin}).
 *
 * <p>Thread-safety: immutable after opening.
 */
public final class LoraAdapter implements AutoCloseable {

    private final Path folder;
    private final int rank;
    private final double alpha;
    private final boolean rslora;
    private final boolean fanInFanOut;
    private final Map<String, Integer> rankPattern;
    private final Map<String, Double> alphaPattern;
    private final Checkpoint weights;

    private LoraAdapter(Path folder, int rank, double alpha, boolean rslora, boolean fanInFanOut,
                        Map<String, Integer> rankPattern, Map<String, Double> alphaPattern, Checkpoint weights) {
        this.folder = folder;
        this.rank = rank;
        this.alpha = alpha;
        this.rslora = rslora;
        this.fanInFanOut = fanInFanOut;
        this.rankPattern = rankPattern;
        this.alphaPattern = alphaPattern;
        this.weights = weights;
    }

    /**
     * @param folder the adapter folder
     * @return the opened adapter
     * @throws IOException naming the file for a missing or invalid config, a non-LoRA PEFT type, or unreadable weights
     */
    public static LoraAdapter open(Path folder) throws IOException {
        Path cfg = folder.resolve("adapter_config.json");
        if (!Files.isRegularFile(cfg)) throw new AmalgamIOException(folder, "not a LoRA adapter folder: no adapter_config.json");
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(cfg.toFile());
        } catch (IOException e) {
            throw new AmalgamIOException(cfg, "invalid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        String type = c.path("peft_type").asText("LORA");
        if (!type.equalsIgnoreCase("LORA")) {
            throw new AmalgamIOException(cfg, "peft_type " + type + " is not supported; only LORA adapters are merge inputs");
        }
        if (c.path("use_dora").asBoolean(false)) throw new AmalgamIOException(cfg, "use_dora: DoRA adapters are not supported");
        JsonNode r = c.get("r");
        if (r == null || !r.canConvertToInt() || r.asInt() <= 0) throw new AmalgamIOException(cfg, "r must be a positive integer");
        double alpha = c.has("lora_alpha") ? c.get("lora_alpha").asDouble() : 8;
        Map<String, Integer> rp = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = c.path("rank_pattern").fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() <= 0) {
                throw new AmalgamIOException(cfg, "rank_pattern['" + e.getKey() + "'] must be a positive integer");
            }
            rp.put(e.getKey(), e.getValue().asInt());
        }
        Map<String, Double> ap = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = c.path("alpha_pattern").fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isNumber()) throw new AmalgamIOException(cfg, "alpha_pattern['" + e.getKey() + "'] must be a number");
            ap.put(e.getKey(), e.getValue().asDouble());
        }
        Checkpoint weights;
        if (Files.isRegularFile(folder.resolve("adapter_model.safetensors"))) {
            weights = ModelFolder.open(folder.resolve("adapter_model.safetensors"));
        } else if (Files.isRegularFile(folder.resolve("adapter_model.bin"))) {
            weights = TorchCheckpoint.open(folder.resolve("adapter_model.bin"));
        } else {
            throw new AmalgamIOException(folder, "no adapter_model.safetensors or adapter_model.bin");
        }
        return new LoraAdapter(folder, r.asInt(), alpha, c.path("use_rslora").asBoolean(false),
                c.path("fan_in_fan_out").asBoolean(false), rp, ap, weights);
    }

    /** The adapter folder. */
    public Path folder() {
        return folder;
    }

    /** The adapter's tensors as stored. */
    Checkpoint weights() {
        return weights;
    }

    /** Whether the base weights are stored {@code [in, out]} (GPT-2's Conv1D). */
    boolean fanInFanOut() {
        return fanInFanOut;
    }

    /** The rank of a module: its {@code rank_pattern} entry, else {@code r}. */
    int rank(String module) {
        return pattern(rankPattern, module, rank);
    }

    /**
     * The scale of a module: alpha/r, or alpha/√r with {@code use_rslora} (PEFT's
     * {@code LoraLayer.update_layer}), from the patterns when one matches.
     */
    double scale(String module) {
        int r = rank(module);
        double a = pattern(alphaPattern, module, alpha);
        return rslora ? a / Math.sqrt(r) : a / r;
    }

    /** PEFT's pattern lookup: the first key k with {@code (.*\.)?k$} matching the module name. */
    private static <T> T pattern(Map<String, T> patterns, String module, T fallback) {
        for (Map.Entry<String, T> e : patterns.entrySet()) {
            if (Pattern.compile("(.*\\.)?" + e.getKey() + "$").matcher(module).lookingAt()) return e.getValue();
        }
        return fallback;
    }

    @Override
    public void close() {
        weights.close();
    }
}

package dev.amalgam.io;

import dev.amalgam.tensor.TensorInfo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How the output tensors are split into shard files, decided before anything is written.
 *
 * <p>Implementation notes. Greedy, in the given order (which is also the order of the tensors
 * inside each file): a tensor joins the current shard unless that would push the shard's data
 * bytes over {@code maxShardSize} and the shard already holds data, in which case it starts a
 * new shard. So a tensor larger than the limit gets a shard of its own, and empty tensors
 * never open a shard. Sizes count tensor data only (headers excluded), as Hugging Face does. One
 * shard is named {@value ModelFolder#SINGLE_FILE_NAME}; several are named
 * {@code model-00001-of-0000N.safetensors} (five digits, more if N needs them).
 */
public record ShardPlan(List<Shard> shards, long maxShardSize) {

    /** Default shard size limit: 5 GB (decimal), as {@code transformers} uses. */
    public static final long DEFAULT_MAX_SHARD_SIZE = 5_000_000_000L;

    /** One output file: its name, its tensors in file order, and their total data bytes. */
    public record Shard(String fileName, List<TensorInfo> tensors, long dataBytes) {
        public Shard {
            tensors = List.copyOf(tensors);
        }
    }

    public ShardPlan {
        shards = List.copyOf(shards);
    }

    /**
     * Plans the shards for {@code tensors} (in output order).
     *
     * @throws IllegalArgumentException if {@code maxShardSize <= 0} or a name repeats
     */
    public static ShardPlan of(List<TensorInfo> tensors, long maxShardSize) {
        if (maxShardSize <= 0) throw new IllegalArgumentException("maxShardSize must be positive, got " + maxShardSize);
        List<List<TensorInfo>> groups = new ArrayList<>();
        List<Long> sizes = new ArrayList<>();
        List<TensorInfo> current = new ArrayList<>();
        long currentBytes = 0;
        Map<String, Boolean> seen = new HashMap<>();
        for (TensorInfo t : tensors) {
            if (seen.put(t.name(), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' is listed twice");
            }
            long size = t.byteSize();
            if (currentBytes > 0 && size > maxShardSize - currentBytes) {
                groups.add(current);
                sizes.add(currentBytes);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += size;
        }
        groups.add(current); // always at least one shard, possibly empty
        sizes.add(currentBytes);

        int n = groups.size();
        List<Shard> shards = new ArrayList<>(n);
        for (int i = 0; i < n; i++) shards.add(new Shard(shardFileName(i + 1, n), groups.get(i), sizes.get(i)));
        return new ShardPlan(shards, maxShardSize);
    }

    /** {@code model.safetensors} for a single shard, else {@code model-00001-of-00003.safetensors}. */
    public static String shardFileName(int number, int count) {
        if (count == 1) return ModelFolder.SINGLE_FILE_NAME;
        return String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", number, count);
    }

    public boolean isSharded() {
        return shards.size() > 1;
    }

    /** Sum of all tensor data bytes (the index's {@code total_size}). */
    public long totalSize() {
        long total = 0;
        for (Shard s : shards) total = Math.addExact(total, s.dataBytes());
        return total;
    }

    /** Every tensor in output order. */
    public List<TensorInfo> tensors() {
        List<TensorInfo> all = new ArrayList<>();
        for (Shard s : shards) all.addAll(s.tensors());
        return Collections.unmodifiableList(all);
    }
}

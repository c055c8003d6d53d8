package dev.amalgam;

import dev.amalgam.io.ShardPlan;
import java.util.OptionalLong;

/**
 * How one merge runs, beyond its config. {@link #defaults()}: shards of at most 5 GB, a non-empty
 * target folder is an error, the config's {@code random_seed}, no progress listener.
 *
 * <p>Thread-safety: immutable.
 *
 * @param maxShardSize data bytes per output shard of a folder output
 * @param force        replace a non-empty target folder (only after success)
 * @param seed         overrides the config's {@code random_seed} when present
 * @param listener     receives progress; may cancel
 * @param analysis     also compute the task-vector statistics of every merged tensor
 *                     ({@link MergeSummary#analysis()}; one extra pass over each tensor's inputs
 *                     while they are mapped, no second read from disk)
 */
public record MergeOptions(long maxShardSize, boolean force, OptionalLong seed, MergeListener listener, boolean analysis) {

    /**
     * @throws IllegalArgumentException if {@code maxShardSize} is not positive
     */
    public MergeOptions {
        if (maxShardSize <= 0) throw new IllegalArgumentException("maxShardSize must be positive, got " + maxShardSize);
        if (seed == null) seed = OptionalLong.empty();
        if (listener == null) listener = MergeListener.NONE;
    }

    /** @return the defaults */
    public static MergeOptions defaults() {
        return builder().build();
    }

    /** @return a builder starting from the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Builds {@link MergeOptions}; every setting has a default.
     *
     * <p>Thread-safety: not thread-safe.
     */
    public static final class Builder {
        private long maxShardSize = ShardPlan.DEFAULT_MAX_SHARD_SIZE;
        private boolean force;
        private OptionalLong seed = OptionalLong.empty();
        private MergeListener listener = MergeListener.NONE;
        private boolean analysis;

        private Builder() {
        }

        /**
         * @param bytes data bytes per output shard (default 5 GB)
         * @return this builder
         */
        public Builder maxShardSize(long bytes) {
            this.maxShardSize = bytes;
            return this;
        }

        /**
         * @param force replace a non-empty target folder after success (default false)
         * @return this builder
         */
        public Builder force(boolean force) {
            this.force = force;
            return this;
        }

        /**
         * @param seed overrides {@code random_seed} (default: the config's)
         * @return this builder
         */
        public Builder seed(long seed) {
            this.seed = OptionalLong.of(seed);
            return this;
        }

        /**
         * @param listener receives progress (default none)
         * @return this builder
         */
        public Builder listener(MergeListener listener) {
            this.listener = listener;
            return this;
        }

        /**
         * @param analysis compute the task-vector statistics for {@link MergeSummary#analysis()} (default false)
         * @return this builder
         */
        public Builder analysis(boolean analysis) {
            this.analysis = analysis;
            return this;
        }

        /** @return the options */
        public MergeOptions build() {
            return new MergeOptions(maxShardSize, force, seed, listener, analysis);
        }
    }
}

package dev.amalgam;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.checkpoint.InMemoryCheckpoint;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Map;

/**
 * The output of an in-memory merge: a {@link Checkpoint} (so it can be the input of the next
 * merge) whose tensors are segments in an arena. When the merge allocated the arena itself,
 * {@link #close()} frees it; when the caller passed its own arena, the caller frees it and
 * {@link #close()} does nothing.
 *
 * <p>Thread-safety: reads are safe from any thread while open (the merge's own arena is shared).
 */
public final class MergedCheckpoint implements Checkpoint {

    private final InMemoryCheckpoint tensors;
    private final Arena owned;
    private final MergeSummary summary;

    MergedCheckpoint(InMemoryCheckpoint tensors, Arena owned, MergeSummary summary) {
        this.tensors = tensors;
        this.owned = owned;
        this.summary = summary;
    }

    /** @return what the merge did */
    public MergeSummary summary() {
        return summary;
    }

    @Override
    public List<TensorInfo> tensors() {
        return tensors.tensors();
    }

    @Override
    public boolean contains(String name) {
        return tensors.contains(name);
    }

    @Override
    public TensorInfo info(String name) {
        return tensors.info(name);
    }

    @Override
    public Tensor tensor(String name) {
        return tensors.tensor(name);
    }

    /**
     * @param name tensor name
     * @return its segment (writable: it is the merge's output)
     */
    public MemorySegment segment(String name) {
        return tensors.segment(name);
    }

    @Override
    public Map<String, String> metadata() {
        return tensors.metadata();
    }

    /** Frees the output memory if the merge allocated it; idempotent. */
    @Override
    public void close() {
        if (owned != null && owned.scope().isAlive()) owned.close();
    }
}

package dev.amalgam.checkpoint;

import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * A set of named tensors with their headers (dtype, shape) and zero-copy views of their bytes:
 * what every merge reads. The planner and the merge methods see only this interface, so a
 * model folder ({@link dev.amalgam.io.ModelFolder}), tensors an application holds in memory
 * ({@link InMemoryCheckpoint}) and decorators over either (a LoRA adapter applied on the fly, a
 * hub cache) are interchangeable inputs.
 *
 * <p>Contract: {@link #tensors()} lists every tensor once, sorted by name; {@link #tensor}
 * returns a little-endian view of exactly {@code info.byteSize()} bytes that stays valid and
 * unchanged while the checkpoint is open and a merge reads it. Merges never write to an input.
 *
 * <p>Thread-safety: implementations must allow concurrent reads of headers and views.
 */
public interface Checkpoint extends AutoCloseable {

    /**
     * Every tensor's header, sorted by name.
     *
     * @return an unmodifiable list
     */
    List<TensorInfo> tensors();

    /**
     * @param name tensor name
     * @return whether the checkpoint has a tensor of that name
     */
    boolean contains(String name);

    /**
     * @param name tensor name
     * @return its header
     * @throws NoSuchElementException naming the checkpoint if there is no such tensor
     */
    TensorInfo info(String name);

    /**
     * @param name tensor name
     * @return a zero-copy, read-only view of its bytes
     * @throws NoSuchElementException naming the checkpoint if there is no such tensor
     */
    Tensor tensor(String name);

    /**
     * The checkpoint's string metadata (the safetensors {@code __metadata__}); copied to a
     * merge's output when this checkpoint is its base.
     *
     * @return an unmodifiable map, empty by default
     */
    default Map<String, String> metadata() {
        return Map.of();
    }

    /** Releases what the checkpoint owns (a folder unmaps its files); idempotent. Default: nothing. */
    @Override
    default void close() {
    }
}

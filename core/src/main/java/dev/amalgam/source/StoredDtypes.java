package dev.amalgam.source;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;

/**
 * A checkpoint decorator whose tensors read in another dtype than their source stores: a LoRA
 * adapted weight reads as F32 but is stored (and, by default, written) in its base's dtype
 * (spec §16.4: rounded to the storage dtype only at the output).
 */
public interface StoredDtypes {

    /**
     * @param name a tensor of the checkpoint
     * @return the dtype its source stores
     */
    DType storedDtype(String name);

    /**
     * The stored dtype of a tensor of any checkpoint: the decorator's answer, else the header's.
     *
     * @param checkpoint the checkpoint
     * @param info       the tensor's header in it
     * @return its stored dtype
     */
    static DType of(Checkpoint checkpoint, TensorInfo info) {
        return checkpoint instanceof StoredDtypes s ? s.storedDtype(info.name()) : info.dtype();
    }
}

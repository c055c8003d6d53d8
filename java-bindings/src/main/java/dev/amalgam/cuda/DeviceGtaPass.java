package dev.amalgam.cuda;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import java.util.List;

/**
 * The fused task-arithmetic pass of one tensor whose base, models and output are in device
 * memory: the device twin of {@code dev.amalgam.kernel.GtaPass}, with the same parameters and
 * meaning (spec §1.4). The output must not overlap an input, except that it may be the base
 * itself (same address and dtype): each element is read before it is written, by one thread.
 */
public record DeviceGtaPass(
        String tensorName,
        DeviceTensor base,
        List<DeviceTensor> models,
        int[] modelIndices,
        float[] weights,
        Sparsifier[] sparsifiers,
        RescaleMode rescale,
        long seed,
        ConsensusMethod consensus,
        boolean normalize,
        float lambda,
        DeviceTensor out,
        boolean allowNonfinite) {

    public DeviceGtaPass {
        models = List.copyOf(models);
        int t = models.size();
        if (modelIndices.length != t || weights.length != t || sparsifiers.length != t) {
            throw new IllegalArgumentException("tensor " + tensorName + ": per-model arrays must have " + t + " entries");
        }
        long n = base.elementCount();
        for (DeviceTensor m : models) {
            if (m.elementCount() != n) {
                throw new IllegalArgumentException("tensor " + tensorName + ": model " + m.name() + " has "
                        + m.elementCount() + " elements, the base " + n);
            }
            if (out.overlaps(m)) throw new IllegalArgumentException("tensor " + tensorName + ": the output overlaps model " + m.name());
        }
        if (out.elementCount() != n) {
            throw new IllegalArgumentException("tensor " + tensorName + ": output has " + out.elementCount() + " elements, the base " + n);
        }
        boolean inPlace = out.address() == base.address() && out.dtype() == base.dtype();
        if (out.overlaps(base) && !inPlace) {
            throw new IllegalArgumentException("tensor " + tensorName + ": the output overlaps the base without being it");
        }
    }

    public int modelCount() {
        return models.size();
    }

    public long elementCount() {
        return base.elementCount();
    }
}

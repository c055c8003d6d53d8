package dev.amalgam.cuda;

import java.util.List;

/**
 * {@code linear} for one tensor in device memory: out = (Σ_i w_i·x_i) / divisor, the device twin
 * of {@code dev.amalgam.kernel.LinearPass}. The output must not overlap an input, except that it
 * may be one of them (same address and dtype, updated in place).
 */
public record DeviceLinearPass(String tensorName, List<DeviceTensor> inputs, float[] weights, float divisor, DeviceTensor out,
                               boolean allowNonfinite) {

    public DeviceLinearPass {
        inputs = List.copyOf(inputs);
        if (weights.length != inputs.size()) {
            throw new IllegalArgumentException("tensor " + tensorName + ": " + weights.length + " weights for " + inputs.size() + " inputs");
        }
        for (DeviceTensor x : inputs) {
            if (x.elementCount() != out.elementCount()) {
                throw new IllegalArgumentException("tensor " + tensorName + ": input " + x.name() + " has " + x.elementCount()
                        + " elements, the output " + out.elementCount());
            }
            boolean inPlace = x.address() == out.address() && x.dtype() == out.dtype();
            if (out.overlaps(x) && !inPlace) {
                throw new IllegalArgumentException("tensor " + tensorName + ": the output overlaps input " + x.name() + " without being it");
            }
        }
    }
}

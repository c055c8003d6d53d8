package dev.amalgam.cuda;

/** δ = model − base of one tensor in device memory (the device twin of {@code DeltaSource}). */
public record DeviceDeltaSource(DeviceTensor base, DeviceTensor model) {

    public DeviceDeltaSource {
        if (base.elementCount() != model.elementCount()) {
            throw new IllegalArgumentException("tensor " + base.name() + ": base has " + base.elementCount()
                    + " elements, model " + model.elementCount());
        }
    }

    public long elementCount() {
        return base.elementCount();
    }
}

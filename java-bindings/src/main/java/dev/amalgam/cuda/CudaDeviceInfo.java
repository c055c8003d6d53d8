package dev.amalgam.cuda;

import dev.amalgam.cuda.internal.Cuda;
import java.util.Locale;

/** What the driver says about one device. */
public record CudaDeviceInfo(int ordinal, String name, int computeMajor, int computeMinor, int multiprocessors,
                             long totalMemory) {

    /** Amalgam's fatbin has SASS from sm_80 on (and PTX for newer GPUs). */
    public static final int MIN_COMPUTE_MAJOR = 8;

    static CudaDeviceInfo query(Cuda cuda, int ordinal) {
        int device = cuda.device(ordinal);
        return new CudaDeviceInfo(ordinal, cuda.deviceName(device),
                cuda.attribute(Cuda.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
                cuda.attribute(Cuda.ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device),
                cuda.attribute(Cuda.ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
                cuda.totalMemory(device));
    }

    public String arch() {
        return "sm_" + computeMajor + computeMinor;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "CUDA device %d: %s, %s, %d SMs, %.1f GiB", ordinal, name, arch(),
                multiprocessors, totalMemory / (double) (1L << 30));
    }
}

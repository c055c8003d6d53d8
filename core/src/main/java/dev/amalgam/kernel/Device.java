package dev.amalgam.kernel;

import java.util.Locale;

/** Where kernels run: {@code --device auto|cpu|cuda}. */
public enum Device {
    /** A usable GPU, else the best CPU backend. */
    AUTO,
    /** The best CPU backend. */
    CPU,
    /** A CUDA GPU; an error when none is usable. */
    CUDA;

    /**
     * Parses {@code auto}, {@code cpu}, {@code cuda} (or {@code gpu}), any case.
     *
     * @param s the name
     * @return the device
     */
    public static Device parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + s + "'; valid: auto, cpu, cuda");
        };
    }
}

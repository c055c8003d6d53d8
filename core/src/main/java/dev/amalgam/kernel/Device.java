package dev.amalgam.kernel;

import java.util.Locale;

/** Where kernels run: {@code --device auto|cpu|cuda}. */
public enum Device {
    AUTO, CPU, CUDA;

    public static Device parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown device '" + s + "'; valid: auto, cpu, cuda");
        };
    }
}

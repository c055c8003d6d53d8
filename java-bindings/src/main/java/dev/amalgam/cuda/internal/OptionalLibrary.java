package dev.amalgam.cuda.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.ArrayList;
import java.util.List;

/**
 * An optional NVIDIA library (cuBLAS, cuSOLVER) looked up by soname at run time: the first of
 * the candidate sonames that the dynamic linker finds, or, when none is there, a reason that lists
 * what was tried. Never throws: Amalgam runs without these libraries.
 *
 * <p>{@code -Damalgam.cuda.<name>=PATH} (e.g. {@code amalgam.cuda.cublas}) names a library file to
 * use instead; {@code -Damalgam.cuda.<name>=none} disables the library.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public record OptionalLibrary(String name, SymbolLookup lookup, String soname, String reason) {

    /** cuBLAS sonames, newest first (CUDA 13, 12, 11). */
    public static final List<String> CUBLAS = List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so.11");
    /** cuSOLVER sonames, newest first (CUDA 13 ships .so.12, CUDA 12 .so.11). */
    public static final List<String> CUSOLVER = List.of("libcusolver.so.12", "libcusolver.so.11", "libcusolver.so.10");

    public boolean found() {
        return lookup != null;
    }

    /** Looks {@code name} up under each of {@code sonames} in order, honouring the system property override. */
    public static OptionalLibrary find(String name, List<String> sonames) {
        String override = System.getProperty("amalgam.cuda." + name);
        if (override != null && !override.isBlank()) {
            if (override.equals("none")) return new OptionalLibrary(name, null, null, name + " disabled by -Damalgam.cuda." + name + "=none");
            return open(name, List.of(override));
        }
        return open(name, sonames);
    }

    /** Tries the candidates in order (names go to the dynamic linker, paths are opened as files). */
    public static OptionalLibrary open(String name, List<String> candidates) {
        List<String> failures = new ArrayList<>();
        for (String candidate : candidates) {
            try {
                SymbolLookup lib = candidate.contains("/")
                        ? SymbolLookup.libraryLookup(java.nio.file.Path.of(candidate), Arena.global())
                        : SymbolLookup.libraryLookup(candidate, Arena.global());
                return new OptionalLibrary(name, lib, candidate, "found " + candidate);
            } catch (IllegalArgumentException | IllegalCallerException | UnsatisfiedLinkError e) {
                failures.add(candidate);
            }
        }
        return new OptionalLibrary(name, null, null, name + " not found (tried " + String.join(", ", failures) + ")");
    }
}

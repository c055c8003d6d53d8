package dev.amalgam.cuda.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The kernels, built by amalgam-native-build into a classpath resource when nvcc was present. */
public final class FatbinResource {

    public static final String PATH = "amalgam-cuda/amalgam.fatbin";

    private FatbinResource() {
    }

    public static boolean present() {
        return FatbinResource.class.getClassLoader().getResource(PATH) != null;
    }

    /** The fatbin bytes; throws if absent. */
    public static byte[] read() {
        try (InputStream in = FatbinResource.class.getClassLoader().getResourceAsStream(PATH)) {
            if (in == null) throw new IllegalStateException(PATH + " is not on the class path");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + PATH, e);
        }
    }
}

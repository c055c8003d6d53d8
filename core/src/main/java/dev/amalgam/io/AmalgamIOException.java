package dev.amalgam.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An I/O failure of Amalgam's checkpoint reading or writing that names the path it concerns.
 * Checked, like every {@link IOException}: callers already handle file errors at that level.
 */
public class AmalgamIOException extends IOException {

    private final Path path;

    public AmalgamIOException(Path path, String message) {
        this(path, message, null);
    }

    public AmalgamIOException(Path path, String message, Throwable cause) {
        super(path + ": " + message, cause);
        this.path = path;
    }

    /** The file or folder the failure concerns. */
    public Path path() {
        return path;
    }
}

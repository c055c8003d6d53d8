package dev.amalgam.io;

import java.nio.file.Path;

/** An input file that was modified, truncated or replaced while a merge was reading it. */
public final class InputChangedException extends AmalgamIOException {

    /**
     * @param file    the input file that changed
     * @param message what changed
     */
    public InputChangedException(Path file, String message) {
        super(file, message);
    }

    /**
     * @param file    the input file that changed
     * @param message what changed
     * @param cause   the read failure it caused, e.g. an end of file
     */
    public InputChangedException(Path file, String message, Throwable cause) {
        super(file, message, cause);
    }
}

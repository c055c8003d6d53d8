package dev.amalgam;

/**
 * A checkpoint could not be read or written: a missing or malformed file, a failed write. The
 * message names the path; the cause is the {@link java.io.IOException} the file layer threw.
 *
 * <p>Thread-safety: immutable.
 */
public class CheckpointException extends AmalgamException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message one line naming the path
     * @param cause   the I/O failure
     */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}

package dev.amalgam;

/**
 * The base of every exception Amalgam's API throws: unchecked, with a one-line message that
 * names the file, tensor or config key it concerns. Catch this one type to handle any failed
 * merge; the subclasses ({@code ConfigException}, {@code MergeException},
 * {@code BackendUnavailableException}, {@link CheckpointException},
 * {@link MergeCancelledException}, the CUDA bindings' {@code CudaException}) say what failed.
 *
 * <p>Thread-safety: immutable.
 */
public class AmalgamException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message one line naming what failed
     */
    public AmalgamException(String message) {
        super(message);
    }

    /**
     * @param message one line naming what failed
     * @param cause   the underlying failure
     */
    public AmalgamException(String message, Throwable cause) {
        super(message, cause);
    }
}

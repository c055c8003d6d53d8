package dev.amalgam.kernel;

/** The requested device has no usable backend (e.g. {@code --device cuda} without a GPU). */
public final class BackendUnavailableException extends dev.amalgam.AmalgamException {
    /**
     * The failure.
     *
     * @param message names the device and why no backend serves
     */
    public BackendUnavailableException(String message) {
        super(message);
    }
}

package dev.amalgam.source.torch;

import java.io.IOException;

/** A PyTorch checkpoint that cannot be read safely: a refused global or opcode, or damaged bytes. */
public final class TorchFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** @param message one line naming the file or entry */
    public TorchFormatException(String message) {
        super(message);
    }
}

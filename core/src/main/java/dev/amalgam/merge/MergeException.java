package dev.amalgam.merge;

/** A merge that cannot go on: bad inputs (mismatched tensors, NaN, shapes) or a failed step. */
public class MergeException extends dev.amalgam.AmalgamException {
    public MergeException(String message) {
        super(message);
    }

    public MergeException(String message, Throwable cause) {
        super(message, cause);
    }
}

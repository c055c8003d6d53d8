package dev.amalgam.merge;

/** Receives progress of a running merge (the CLI draws a bar from it). */
public interface ProgressListener {

    /** Called once before the first tensor. */
    default void started(int tensors, long bytes) {
    }

    /** Called after each output tensor. */
    default void tensorDone(String name, int tensorsDone, long bytesDone) {
    }

    /**
     * Something the user should know that is not an error, e.g. that the leftovers of a killed
     * merge were removed or a half-done replace was completed. The CLI prints it on stderr.
     */
    default void notice(String message) {
    }

    /** Called once at the end, successful or not. */
    default void finished() {
    }

    ProgressListener NONE = new ProgressListener() {
    };
}

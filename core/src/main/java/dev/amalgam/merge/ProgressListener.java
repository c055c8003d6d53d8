package dev.amalgam.merge;

/** Receives progress of a running merge (the CLI draws a bar from it). */
public interface ProgressListener {

    /** Called once before the first tensor. */
    default void started(int tensors, long bytes) {
    }

    /** Called after each output tensor. */
    default void tensorDone(String name, int tensorsDone, long bytesDone) {
    }

    /** Called once at the end, successful or not. */
    default void finished() {
    }

    ProgressListener NONE = new ProgressListener() {
    };
}

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

    /**
     * One progress over several passes (the slices of a merge): {@code started} now with the
     * totals, counts carried across passes, the passes' own {@code finished} ignored; call
     * {@link Spanning#done} once at the end.
     */
    static Spanning spanning(ProgressListener delegate, int tensors, long bytes) {
        return new Spanning(delegate, tensors, bytes);
    }

    /** See {@link #spanning}. */
    final class Spanning implements ProgressListener {
        private final ProgressListener delegate;
        private int tensorsBefore;
        private long bytesBefore;
        private int tensorsInPass;
        private long bytesInPass;
        private boolean done;

        private Spanning(ProgressListener delegate, int tensors, long bytes) {
            this.delegate = delegate;
            delegate.started(tensors, bytes);
        }

        @Override
        public void started(int tensors, long bytes) {
            tensorsBefore += tensorsInPass;
            bytesBefore += bytesInPass;
            tensorsInPass = 0;
            bytesInPass = 0;
        }

        @Override
        public void tensorDone(String name, int tensorsDone, long bytesDone) {
            tensorsInPass = tensorsDone;
            bytesInPass = bytesDone;
            delegate.tensorDone(name, tensorsBefore + tensorsDone, bytesBefore + bytesDone);
        }

        /** Ends the whole progress (once, successful or not). */
        public void done() {
            if (!done) {
                done = true;
                delegate.finished();
            }
        }
    }
}

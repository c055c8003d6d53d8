package dev.amalgam;

/**
 * Where a running merge is, passed to a {@link MergeListener} before the first tensor and after
 * each one. {@link #cancel()} stops the merge after the current tensor with a
 * {@link MergeCancelledException}.
 *
 * <p>Thread-safety: {@link #cancel()} may be called from any thread; the rest is a snapshot
 * read on the merging thread.
 */
public final class MergeProgress {

    private final int tensors;
    private final long bytes;
    private volatile boolean cancelled;
    private int tensorsDone;
    private long bytesDone;
    private String lastTensor;

    MergeProgress(int tensors, long bytes) {
        this.tensors = tensors;
        this.bytes = bytes;
    }

    void advance(String name, int done, long doneBytes) {
        this.lastTensor = name;
        this.tensorsDone = done;
        this.bytesDone = doneBytes;
    }

    /** @return output tensors of the merge */
    public int tensors() {
        return tensors;
    }

    /** @return output tensors finished so far */
    public int tensorsDone() {
        return tensorsDone;
    }

    /** @return input bytes the merge reads in all */
    public long bytes() {
        return bytes;
    }

    /** @return input bytes read so far */
    public long bytesDone() {
        return bytesDone;
    }

    /** @return the tensor finished last, or null before the first */
    public String lastTensor() {
        return lastTensor;
    }

    /** @return bytes done over bytes in all, in [0, 1] */
    public double fraction() {
        return bytes == 0 ? (tensors == 0 ? 1 : (double) tensorsDone / tensors) : (double) bytesDone / bytes;
    }

    /** Asks the merge to stop after the current tensor. */
    public void cancel() {
        cancelled = true;
    }

    /** @return whether {@link #cancel()} was called */
    public boolean cancelled() {
        return cancelled;
    }
}

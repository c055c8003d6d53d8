package dev.amalgam.cli;

import dev.amalgam.MergeListener;
import dev.amalgam.MergeProgress;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr: tensors done, GB/s, ETA. Silent for the first second so
 * quick merges print only their summary; on a non-terminal it prints a line every few seconds
 * instead of redrawing.
 */
final class ProgressBar implements MergeListener {

    private static final long QUIET_NANOS = 1_000_000_000L;
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final long LOG_NANOS = 5_000_000_000L;
    private static final int WIDTH = 30;

    private final PrintStream err;
    private final boolean terminal;
    private int tensors;
    private long bytes;
    private long start;
    private long lastDraw;
    private boolean drawn;

    ProgressBar(PrintStream err, boolean terminal) {
        this.err = err;
        this.terminal = terminal;
    }

    @Override
    public void progress(MergeProgress p) {
        if (p.lastTensor() == null) started(p.tensors(), p.bytes());
        else tensorDone(p.lastTensor(), p.tensorsDone(), p.bytesDone());
    }

    void started(int tensors, long bytes) {
        this.tensors = tensors;
        this.bytes = bytes;
        this.start = System.nanoTime();
        this.lastDraw = start;
    }

    void tensorDone(String name, int tensorsDone, long bytesDone) {
        long now = System.nanoTime();
        if (now - start < QUIET_NANOS) return;
        if (now - lastDraw < (terminal ? REDRAW_NANOS : LOG_NANOS) && tensorsDone < tensors) return;
        lastDraw = now;
        drawn = true;
        err.print((terminal ? "\r" : "") + line(tensorsDone, bytesDone, now - start) + (terminal ? "" : "\n"));
        err.flush();
    }

    /** Ends the line of a drawn bar; call once the merge returned or failed. */
    void finished() {
        if (drawn && terminal) {
            err.print("\n");
            err.flush();
        }
    }

    String line(int tensorsDone, long bytesDone, long elapsedNanos) {
        double fraction = bytes == 0 ? 1 : Math.min(1, (double) bytesDone / bytes);
        int filled = (int) Math.round(fraction * WIDTH);
        double seconds = elapsedNanos / 1e9;
        double gbps = seconds > 0 ? bytesDone / seconds / 1e9 : 0;
        String eta = fraction > 0 && fraction < 1 ? formatSeconds(seconds / fraction - seconds) : "--";
        return String.format(Locale.ROOT, "[%s%s] %3.0f%%  %d/%d tensors  %.2f GB/s  ETA %s",
                "#".repeat(filled), ".".repeat(WIDTH - filled), fraction * 100, tensorsDone, tensors, gbps, eta);
    }

    static String formatSeconds(double s) {
        long t = Math.round(s);
        if (t >= 3600) return String.format(Locale.ROOT, "%dh%02dm", t / 3600, (t % 3600) / 60);
        if (t >= 60) return String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
        return t + "s";
    }
}

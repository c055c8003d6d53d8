package dev.amalgam.cuda.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * How a batch of same-shape matrices is cut into chunks that fit the device: every chunk needs
 * {@code fixedBytes} plus {@code bytesPerMatrix} per matrix, at most {@code budgetBytes} in all,
 * and holds at most {@link SvdLayouts#MAX_GRID_Y} matrices (grid.y of a launch).
 *
 * <p>Implementation notes. The chunk count is the smallest that fits; matrices are then spread
 * evenly (sizes differ by at most one, larger chunks first), so a batch just over the budget
 * becomes two halves rather than a full chunk and a sliver. Results never depend on the chunking:
 * every matrix is decomposed on its own.
 */
public record SvdBatchPlan(List<Chunk> chunks) {

    /** Matrices [start, start + count) of the batch. */
    public record Chunk(int start, int count) {
    }

    public SvdBatchPlan {
        chunks = List.copyOf(chunks);
    }

    public static SvdBatchPlan plan(int matrices, long bytesPerMatrix, long fixedBytes, long budgetBytes) {
        if (matrices < 0) throw new IllegalArgumentException("negative batch size " + matrices);
        if (bytesPerMatrix <= 0) throw new IllegalArgumentException("bytes per matrix must be positive, got " + bytesPerMatrix);
        if (matrices == 0) return new SvdBatchPlan(List.of());
        long room = budgetBytes - fixedBytes;
        if (room < bytesPerMatrix) {
            throw new IllegalStateException("one matrix needs " + (bytesPerMatrix + fixedBytes) + " bytes of device memory, only "
                    + Math.max(0, budgetBytes) + " are available");
        }
        long perChunk = Math.min(room / bytesPerMatrix, SvdLayouts.MAX_GRID_Y);
        int count = (int) ((matrices + perChunk - 1) / perChunk);
        List<Chunk> out = new ArrayList<>(count);
        int base = matrices / count, extra = matrices % count, start = 0;
        for (int c = 0; c < count; c++) {
            int size = base + (c < extra ? 1 : 0);
            out.add(new Chunk(start, size));
            start += size;
        }
        return new SvdBatchPlan(out);
    }

    /** The largest chunk: what the device buffers are sized for. */
    public int largest() {
        int m = 0;
        for (Chunk c : chunks) m = Math.max(m, c.count());
        return m;
    }
}

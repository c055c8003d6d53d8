package dev.amalgam.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * How a computation over {@code elementCount} elements is cut into element ranges that fit a
 * device memory budget.
 *
 * <p>Implementation notes
 * <ul>
 *   <li>A tensor that fits is one chunk: it is copied to the device once, however many passes
 *       run over it.</li>
 *   <li>Otherwise every chunk but the last holds {@code chunkElements} elements, a multiple of
 *       {@code alignment} (the statistics tile), so per-tile results and the global flat index
 *       (Philox counter, tie cutoffs) do not depend on the chunking.</li>
 *   <li>A chunked plan is double-buffered: two chunks are on the device at once (one being
 *       copied while the other is computed, see ChunkPipeline), so each chunk gets half the
 *       budget and {@link #slots()} is 2.</li>
 *   <li>{@link #pack} does the same for a selection over several segments (tensors), packing
 *       whole segments or aligned pieces of them into chunks.</li>
 * </ul>
 */
public record ChunkPlan(long elementCount, long chunkElements, List<Chunk> chunks) {

    /** Elements [start, start + count) of the tensor. */
    public record Chunk(int index, long start, long count) {
    }

    /** Elements [start, start + count) of segment {@code segment}. */
    public record Piece(int segment, long start, long count) {
    }

    public ChunkPlan {
        chunks = List.copyOf(chunks);
    }

    public boolean singleChunk() {
        return chunks.size() == 1;
    }

    /** Device buffers of {@link #chunkElements()} elements the plan keeps in flight: 1, or 2 when chunked. */
    public int slots() {
        return singleChunk() ? 1 : 2;
    }

    /**
     * Plans {@code elementCount} elements costing {@code bytesPerElement} device bytes each
     * (all inputs and the output together) within {@code budgetBytes}: one chunk if it fits,
     * else two slots of half the budget each.
     */
    public static ChunkPlan plan(long elementCount, long bytesPerElement, long budgetBytes, int alignment) {
        if (elementCount < 0 || bytesPerElement <= 0 || alignment <= 0) {
            throw new IllegalArgumentException("elementCount " + elementCount + ", bytesPerElement " + bytesPerElement
                    + ", alignment " + alignment);
        }
        long fits = Math.max(0, budgetBytes) / bytesPerElement;
        if (elementCount <= fits) {
            return new ChunkPlan(elementCount, Math.max(elementCount, 1), List.of(new Chunk(0, 0, elementCount)));
        }
        long chunk = budgetBytes / 2 / bytesPerElement / alignment * alignment;
        if (chunk == 0) {
            throw new IllegalArgumentException("device budget of " + budgetBytes + " bytes is below two tiles (double"
                    + " buffering) of " + alignment + " elements × " + bytesPerElement + " bytes");
        }
        List<Chunk> chunks = new ArrayList<>();
        for (long start = 0; start < elementCount; start += chunk) {
            chunks.add(new Chunk(chunks.size(), start, Math.min(chunk, elementCount - start)));
        }
        return new ChunkPlan(elementCount, chunk, chunks);
    }

    /**
     * Packs segments (counts[s] elements of bytesPerElement[s] bytes) into chunks of at most
     * {@code budgetBytes}, each piece costing {@code overheadPerPiece} extra bytes (alignment
     * padding). A segment that does not fit in what is left of a chunk is split at a multiple of
     * {@code alignment}. Empty segments get no piece.
     */
    public static List<List<Piece>> pack(long[] counts, long[] bytesPerElement, long budgetBytes, int alignment,
                                         long overheadPerPiece) {
        if (counts.length != bytesPerElement.length) throw new IllegalArgumentException("counts and sizes differ in length");
        List<List<Piece>> chunks = new ArrayList<>();
        List<Piece> current = new ArrayList<>();
        long remaining = budgetBytes;
        for (int s = 0; s < counts.length; s++) {
            long start = 0;
            while (start < counts[s]) {
                long rest = counts[s] - start;
                long fits = Math.max(0, remaining - overheadPerPiece) / bytesPerElement[s];
                long take = rest <= fits ? rest : fits / alignment * alignment;
                if (take == 0) {
                    if (current.isEmpty()) {
                        throw new IllegalArgumentException("device budget of " + budgetBytes + " bytes is below one tile of "
                                + alignment + " elements × " + bytesPerElement[s] + " bytes");
                    }
                    chunks.add(current);
                    current = new ArrayList<>();
                    remaining = budgetBytes;
                    continue;
                }
                current.add(new Piece(s, start, take));
                remaining -= take * bytesPerElement[s] + overheadPerPiece;
                start += take;
            }
        }
        if (!current.isEmpty()) chunks.add(current);
        return chunks;
    }
}

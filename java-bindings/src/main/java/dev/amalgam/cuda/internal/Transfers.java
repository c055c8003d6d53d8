package dev.amalgam.cuda.internal;

import java.lang.foreign.MemorySegment;

/**
 * Host ↔ device copies through two pinned staging buffers on one stream.
 *
 * <p>Implementation notes. A copy is cut into pieces of at most the staging size. Uploads: the
 * host fills buffer k while the DMA engine still drains buffer k^1; before refilling a buffer the
 * event recorded after its last copy is awaited. Downloads: piece p is queued into buffer k, then
 * piece p−1 (buffer k^1) is awaited and copied out, so the host copy overlaps the next DMA. The
 * stream orders copies with the kernels around them. Sources and destinations are plain host
 * memory segments (mmap'd safetensors, heap-free scratch): they never need to be pinned.
 */
public final class Transfers implements AutoCloseable {

    private final Cuda cuda;
    private final long stream;
    private final PinnedBuffer[] staging = new PinnedBuffer[2];
    private final long[] done = new long[2];
    private final boolean[] pending = new boolean[2];
    private final long pieceBytes;
    private int next;

    public Transfers(Cuda cuda, long stream, long pieceBytes) {
        this.cuda = cuda;
        this.stream = stream;
        this.pieceBytes = pieceBytes;
        try {
            for (int k = 0; k < 2; k++) {
                staging[k] = new PinnedBuffer(cuda, pieceBytes);
                done[k] = cuda.eventCreate(Cuda.EVENT_DISABLE_TIMING);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public long pieceBytes() {
        return pieceBytes;
    }

    private void await(int k) {
        if (pending[k]) {
            cuda.eventSynchronize(done[k]);
            pending[k] = false;
        }
    }

    /** Queues a copy of {@code bytes} from host {@code src} at {@code srcOffset} to device {@code dst}. */
    public void upload(MemorySegment src, long srcOffset, long dst, long bytes) {
        for (long off = 0; off < bytes; off += pieceBytes) {
            long len = Math.min(pieceBytes, bytes - off);
            int k = next;
            next ^= 1;
            await(k);
            MemorySegment.copy(src, srcOffset + off, staging[k].segment(), 0, len);
            cuda.copyHtoDAsync(dst + off, staging[k].segment().address(), len, stream);
            cuda.eventRecord(done[k], stream);
            pending[k] = true;
        }
    }

    /** Copies {@code bytes} from device {@code src} into host {@code dst} at {@code dstOffset}; returns when done. */
    public void download(long src, MemorySegment dst, long dstOffset, long bytes) {
        long prevOffset = -1, prevLen = 0;
        int prevK = -1;
        for (long off = 0; off < bytes; off += pieceBytes) {
            long len = Math.min(pieceBytes, bytes - off);
            int k = next;
            next ^= 1;
            await(k);
            cuda.copyDtoHAsync(staging[k].segment().address(), src + off, len, stream);
            cuda.eventRecord(done[k], stream);
            pending[k] = true;
            if (prevK >= 0) drain(prevK, dst, dstOffset + prevOffset, prevLen);
            prevK = k;
            prevOffset = off;
            prevLen = len;
        }
        if (prevK >= 0) drain(prevK, dst, dstOffset + prevOffset, prevLen);
    }

    private void drain(int k, MemorySegment dst, long dstOffset, long len) {
        await(k);
        MemorySegment.copy(staging[k].segment(), 0, dst, dstOffset, len);
    }

    /** Waits until every queued copy (and everything before it on the stream) is done. */
    public void synchronize() {
        cuda.streamSynchronize(stream);
        pending[0] = pending[1] = false;
    }

    @Override
    public void close() {
        for (int k = 0; k < 2; k++) {
            if (done[k] != 0) {
                if (pending[k]) cuda.eventSynchronize(done[k]);
                cuda.eventDestroy(done[k]);
                done[k] = 0;
            }
            if (staging[k] != null) staging[k].close();
            staging[k] = null;
        }
    }
}

package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.ChunkPlan;
import dev.amalgam.cuda.ChunkPlan.Chunk;
import dev.amalgam.cuda.internal.FakeCudaDriver.Op;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scheduling of {@link ChunkPipeline} over the fake driver's stream model: what each queued
 * operation is ordered after (correctness: no slot is overwritten while in use, no result is
 * read before its kernel) and what it is NOT ordered after (overlap: chunk i+1's upload and
 * chunk i−1's download do not wait for kernel i), plus the order the host issues them in.
 */
class ChunkPipelineTest {

    static final long COPY = 101, COMPUTE = 202;

    final FakeCudaDriver fake = new FakeCudaDriver();
    final Cuda cuda = new Cuda(fake);

    /** A step that uploads 2 pieces per chunk, launches one kernel, downloads 2 pieces; tags every op "kind chunk". */
    final class TaggingStep implements ChunkPipeline.Step {
        final long[] slotBuffer;
        final Transfers transfers;
        final MemorySegment host;
        final boolean downloads;

        TaggingStep(long[] slotBuffer, Transfers transfers, MemorySegment host, boolean downloads) {
            this.slotBuffer = slotBuffer;
            this.transfers = transfers;
            this.host = host;
            this.downloads = downloads;
        }

        @Override
        public void upload(Chunk chunk, int slot) {
            fake.tag = "up " + chunk.index();
            transfers.upload(host, 0, slotBuffer[slot], 128);
        }

        @Override
        public void compute(Chunk chunk, int slot) {
            fake.tag = "kernel " + chunk.index();
            try (Arena a = Arena.ofConfined()) {
                cuda.launch(7, "k", 1, 32, 0, COMPUTE, a.allocate(8));
            }
        }

        @Override
        public void download(Chunk chunk, int slot) {
            if (!downloads) return;
            fake.tag = "down " + chunk.index();
            transfers.download(slotBuffer[slot], host, 0, 128);
        }
    }

    List<Op> tagged(String tag) {
        return fake.ops.stream().filter(o -> o.tag().equals(tag)).toList();
    }

    Op first(String tag) {
        return tagged(tag).getFirst();
    }

    /** Runs {@code chunks} chunks through a pipeline with {@code slots} slots; returns nothing, fills fake.ops. */
    void run(int chunks, int slots, boolean downloads) {
        fake.trackDependencies = true;
        try (Arena arena = Arena.ofConfined(); Transfers transfers = new Transfers(cuda, COPY, 64);
             ChunkPipeline pipeline = new ChunkPipeline(cuda, COPY, COMPUTE)) {
            long[] slotBuffer = new long[slots];
            for (int s = 0; s < slots; s++) slotBuffer[s] = cuda.memAlloc(128);
            MemorySegment host = arena.allocate(128);
            List<Chunk> list = new ArrayList<>();
            for (int i = 0; i < chunks; i++) list.add(new Chunk(i, i * 4096L, 4096));
            pipeline.run(list, slots, new TaggingStep(slotBuffer, transfers, host, downloads));
            fake.tag = "after";
            cuda.memsetAsync(slotBuffer[0], 0, 8, COPY);  // something queued on the copy stream after the pass
        }
    }

    @Test
    void nextUploadIsQueuedBeforeTheHostWaitsForThePreviousKernelAndDoesNotDependOnIt() {
        run(5, 2, true);
        for (int i = 0; i + 1 < 5; i++) {
            Op kernel = first("kernel " + i);
            for (Op up : tagged("up " + (i + 1))) {
                assertEquals(COPY, up.stream());
                assertFalse(up.after(kernel), "upload of chunk " + (i + 1) + " waits for kernel " + i + ": no overlap");
                assertFalse(up.issuedAfterHostWaitedFor(kernel), "the host blocked on kernel " + i + " before uploading chunk " + (i + 1));
            }
        }
    }

    @Test
    void downloadOfChunkIOverlapsKernelIPlusOne() {
        run(5, 2, true);
        for (int i = 0; i + 1 < 5; i++) {
            Op next = first("kernel " + (i + 1));
            List<Op> downs = tagged("down " + i);
            assertEquals(2, downs.size(), "128 bytes in 64-byte pieces");
            for (Op down : downs) {
                assertEquals(COPY, down.stream());
                assertTrue(down.id() > next.id(), "download of chunk " + i + " is issued after kernel " + (i + 1));
                assertFalse(down.after(next), "download of chunk " + i + " waits for kernel " + (i + 1) + ": no overlap");
            }
        }
    }

    @Test
    void everyKernelWaitsForItsInputsAndEveryDownloadForItsKernel() {
        run(5, 2, true);
        for (int i = 0; i < 5; i++) {
            Op kernel = first("kernel " + i);
            assertEquals(COMPUTE, kernel.stream());
            for (Op up : tagged("up " + i)) assertTrue(kernel.after(up), "kernel " + i + " before its inputs arrived");
            for (Op down : tagged("down " + i)) assertTrue(down.after(kernel), "download " + i + " before kernel " + i);
            if (i > 0) assertTrue(kernel.after(first("kernel " + (i - 1))), "kernels stay in chunk order");
        }
    }

    @Test
    void aSlotIsRefilledOnlyAfterItsKernelAndItsDownloadAreDone() {
        run(6, 2, true);
        for (int i = 0; i + 2 < 6; i++) {
            Op kernel = first("kernel " + i);
            for (Op up : tagged("up " + (i + 2))) {
                assertTrue(up.after(kernel), "chunk " + (i + 2) + " overwrites slot inputs kernel " + i + " still reads");
                for (Op down : tagged("down " + i)) assertTrue(up.after(down), "chunk " + (i + 2) + " before download " + i);
            }
            for (Op down : tagged("down " + i)) {
                assertTrue(first("kernel " + (i + 2)).after(down), "kernel " + (i + 2) + " overwrites output not yet downloaded");
            }
        }
    }

    @Test
    void withoutDownloadsUploadsStillWaitForTheKernelThatReadTheSlot() {
        run(4, 2, false);
        assertTrue(fake.ops("D2H").isEmpty());
        assertTrue(first("up 2").after(first("kernel 0")));
        assertTrue(first("up 3").after(first("kernel 1")));
        assertFalse(first("up 1").after(first("kernel 0")));
    }

    @Test
    void oneSlotDownloadsBeforeTheNextUpload() {
        run(3, 1, true);
        for (int i = 0; i + 1 < 3; i++) {
            for (Op up : tagged("up " + (i + 1))) {
                for (Op down : tagged("down " + i)) {
                    assertTrue(up.id() > down.id() && up.after(down), "one slot: chunk " + (i + 1) + " overwrites chunk " + i);
                }
            }
        }
    }

    @Test
    void workQueuedAfterAPassSeesEveryKernel() {
        run(3, 2, false);
        Op after = first("after");
        for (int i = 0; i < 3; i++) assertTrue(after.after(first("kernel " + i)), "copy stream after the pass vs kernel " + i);
    }

    @Test
    void hostIssueOrderInterleavesUploadsKernelsAndDownloads() {
        run(3, 2, true);
        List<String> order = new ArrayList<>();
        for (Op o : fake.ops) {
            if (order.isEmpty() || !order.getLast().equals(o.tag())) order.add(o.tag());
        }
        assertEquals(List.of("up 0", "kernel 0", "up 1", "kernel 1", "down 0", "up 2", "kernel 2", "down 1", "down 2", "after"),
                order);
    }

    @Test
    void callerStreamOrdersBothStreams() {
        fake.trackDependencies = true;
        try (ChunkPipeline pipeline = new ChunkPipeline(cuda, COPY, COMPUTE)) {
            long buffer = cuda.memAlloc(64);
            fake.tag = "caller";
            cuda.memsetAsync(buffer, 1, 64, 0);  // the caller's work on the legacy default stream
            pipeline.afterCallerStream(0);
            fake.tag = "copy";
            cuda.memsetAsync(buffer, 2, 8, COPY);
            fake.tag = "compute";
            cuda.memsetAsync(buffer, 3, 8, COMPUTE);
            assertTrue(first("copy").after(first("caller")));
            assertTrue(first("compute").after(first("caller")));
        }
    }

    @Test
    void slotCountIsChecked() {
        try (ChunkPipeline pipeline = new ChunkPipeline(cuda, COPY, COMPUTE)) {
            List<Chunk> one = ChunkPlan.plan(10, 4, 1 << 20, 4096).chunks();
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                    () -> pipeline.run(one, 3, new TaggingStep(new long[3], null, null, false)));
        }
        assertEquals(0, fake.liveAllocations());
    }
}

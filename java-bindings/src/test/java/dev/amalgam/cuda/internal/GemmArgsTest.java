package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.cuda.internal.SvdLayouts.SgemmArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/** amalgam_sgemm's argument block carries every BLAS argument at its header offset. */
class GemmArgsTest {

    @Test
    void packWritesEveryField() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = Gemm.pack(arena, true, false, 7, 11, 13, 0.5f, 0xA000L, 17, 1L << 33, 0xB000L, 19, 0, -1.5f,
                    0xC000L, 23, 5L << 32, 29);
            assertEquals(SgemmArgs.SIZE, s.byteSize());
            assertEquals(0xA000L, s.get(JAVA_LONG, SgemmArgs.A));
            assertEquals(0xB000L, s.get(JAVA_LONG, SgemmArgs.B));
            assertEquals(0xC000L, s.get(JAVA_LONG, SgemmArgs.C));
            assertEquals(1L << 33, s.get(JAVA_LONG, SgemmArgs.STRIDE_A));
            assertEquals(0L, s.get(JAVA_LONG, SgemmArgs.STRIDE_B));
            assertEquals(5L << 32, s.get(JAVA_LONG, SgemmArgs.STRIDE_C));
            assertEquals(7, s.get(JAVA_INT, SgemmArgs.M));
            assertEquals(11, s.get(JAVA_INT, SgemmArgs.N));
            assertEquals(13, s.get(JAVA_INT, SgemmArgs.K));
            assertEquals(17, s.get(JAVA_INT, SgemmArgs.LDA));
            assertEquals(19, s.get(JAVA_INT, SgemmArgs.LDB));
            assertEquals(23, s.get(JAVA_INT, SgemmArgs.LDC));
            assertEquals(1, s.get(JAVA_INT, SgemmArgs.TRANS_A));
            assertEquals(0, s.get(JAVA_INT, SgemmArgs.TRANS_B));
            assertEquals(29, s.get(JAVA_INT, SgemmArgs.BATCH));
            assertEquals(0.5f, s.get(JAVA_FLOAT, SgemmArgs.ALPHA));
            assertEquals(-1.5f, s.get(JAVA_FLOAT, SgemmArgs.BETA));
        }
    }
}

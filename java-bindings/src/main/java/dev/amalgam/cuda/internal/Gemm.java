package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.amalgam.cuda.internal.SvdLayouts.SgemmArgs;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Batched column-major SGEMM on device memory, C = alpha·op(A)·op(B) + beta·C (BLAS arguments,
 * element strides between batch entries; a stride of 0 shares one operand across the batch).
 * Two implementations with the same arguments: cuBLAS when libcublas was found, else
 * amalgam_sgemm from the fatbin.
 */
public interface Gemm {

    /** What serves the products, for logs and benchmarks: {@code cublas (libcublas.so.12)} or {@code amalgam_sgemm}. */
    String name();

    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long strideA, long b,
               int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch);

    /** The fatbin's amalgam_sgemm on {@code stream}. */
    static Gemm kernel(SvdModule module, long stream) {
        return new Gemm() {
            @Override
            public String name() {
                return "amalgam_sgemm";
            }

            @Override
            public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                              long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
                if (m == 0 || n == 0 || batch == 0) return;
                try (Arena arena = Arena.ofConfined()) {
                    MemorySegment args = pack(arena, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c,
                            ldc, strideC, batch);
                    long tiles = (long) ((m + SvdLayouts.GEMM_TILE - 1) / SvdLayouts.GEMM_TILE)
                            * ((n + SvdLayouts.GEMM_TILE - 1) / SvdLayouts.GEMM_TILE);
                    module.launch(module.sgemm, "amalgam_sgemm", tiles, batch, 0, stream, args);
                }
            }
        };
    }

    /** cuBLAS's cublasSgemmStridedBatched (the handle is bound to the caller's stream). */
    static Gemm cublas(Cublas cublas) {
        return new Gemm() {
            @Override
            public String name() {
                return "cublas (" + cublas.soname() + ")";
            }

            @Override
            public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda, long strideA,
                              long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
                if (m == 0 || n == 0 || batch == 0) return;
                cublas.sgemmStridedBatched(transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC,
                        batch);
            }
        };
    }

    /** The SgemmArgs block of amalgam_sgemm. */
    static MemorySegment pack(Arena arena, boolean transA, boolean transB, int m, int n, int k, float alpha, long a, int lda,
                              long strideA, long b, int ldb, long strideB, float beta, long c, int ldc, long strideC, int batch) {
        MemorySegment s = arena.allocate(SgemmArgs.SIZE, 8);
        s.set(JAVA_LONG, SgemmArgs.A, a);
        s.set(JAVA_LONG, SgemmArgs.B, b);
        s.set(JAVA_LONG, SgemmArgs.C, c);
        s.set(JAVA_LONG, SgemmArgs.STRIDE_A, strideA);
        s.set(JAVA_LONG, SgemmArgs.STRIDE_B, strideB);
        s.set(JAVA_LONG, SgemmArgs.STRIDE_C, strideC);
        s.set(JAVA_INT, SgemmArgs.M, m);
        s.set(JAVA_INT, SgemmArgs.N, n);
        s.set(JAVA_INT, SgemmArgs.K, k);
        s.set(JAVA_INT, SgemmArgs.LDA, lda);
        s.set(JAVA_INT, SgemmArgs.LDB, ldb);
        s.set(JAVA_INT, SgemmArgs.LDC, ldc);
        s.set(JAVA_INT, SgemmArgs.TRANS_A, transA ? 1 : 0);
        s.set(JAVA_INT, SgemmArgs.TRANS_B, transB ? 1 : 0);
        s.set(JAVA_INT, SgemmArgs.BATCH, batch);
        s.set(JAVA_FLOAT, SgemmArgs.ALPHA, alpha);
        s.set(JAVA_FLOAT, SgemmArgs.BETA, beta);
        s.set(JAVA_INT, SgemmArgs.RESERVED, 0);
        return s;
    }
}

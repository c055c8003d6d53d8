package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.SvdEmulatedCudaDriver;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * One session per backend: {@link CudaKernels} and the SVD kernels it hands out share the
 * context, the module, the arena and so the memory budget; the SVDs of an attached backend run in
 * the application's context; closing puts back the caller's context. Over the emulated SVD driver,
 * which records the context current at every launch.
 */
class CudaSessionTest {

    final SvdEmulatedCudaDriver driver = new SvdEmulatedCudaDriver();
    final Cuda cuda = new Cuda(driver);

    private static long count(List<String> calls, String name) {
        return calls.stream().filter(name::equals).count();
    }

    private static void assertDecomposes(FloatMatrix a, Svd svd) {
        double[] reference = new ReferenceKernels().svd().svd(a).s();
        for (int i = 0; i < reference.length; i++) {
            assertEquals(reference[i], svd.s()[i], 1e-5 * reference[0], "σ" + i);
        }
    }

    @Test
    void theBackendAndItsSvdKernelsShareOneSessionModuleAndArena() {
        try (CudaKernels k = new CudaKernels(cuda, 0, new byte[16], Long.MAX_VALUE, 1 << 20)) {
            CudaSvdKernels svd = (CudaSvdKernels) k.svd();
            assertSame(svd, k.svd(), "one SVD family per backend");
            assertSame(k.session(), svd.session());
            FloatMatrix a = SvdTestMatrices.gaussian(40, 30, 7);
            assertDecomposes(a, svd.svd(a));
            long arenaBytes = k.session().arena().capacity();
            assertTrue(arenaBytes > 0);
            // The GTA, selection and linear families plan against the same budget, which counts
            // the arena the SVD grew as usable (it is theirs to reuse), not as someone else's.
            assertSame(svd.session().arena(), k.session().arena());
            assertEquals(k.session().dataBudget(0, Long.MAX_VALUE),
                    driver.freeMemory + arenaBytes - Math.max(256L << 20, driver.totalMemory / 20));
        }
        assertEquals(1, count(driver.calls, "cuModuleLoadData"), "the fatbin is loaded once per session");
        assertEquals(1, count(driver.calls, "cuDevicePrimaryCtxRetain"));
        assertEquals(1, count(driver.calls, "cuDevicePrimaryCtxRelease_v2"));
    }

    @Test
    void anAttachedBackendRunsItsSvdsInTheCallersContext() {
        cuda.setCurrent(777);
        try (CudaKernels k = CudaKernels.attachToCurrentContext(cuda, new byte[16], Long.MAX_VALUE, 1 << 20)) {
            cuda.setCurrent(555);  // the application switched contexts meanwhile
            CudaSvdKernels svd = (CudaSvdKernels) k.svd();
            assertEquals(777, svd.context());
            driver.launchContexts.clear();
            FloatMatrix a = SvdTestMatrices.gaussian(24, 17, 11);
            assertDecomposes(a, svd.svd(a));
            svd.multiply(a, FloatMatrix.zeros(17, 3));
            assertFalse(driver.launchContexts.isEmpty());
            assertTrue(driver.launchContexts.stream().allMatch(c -> c == 777), driver.launchContexts.toString());
            cuda.setCurrent(555);
        }
        assertEquals(555, driver.currentContext(), "close puts back the caller's context");
        assertEquals(0, count(driver.calls, "cuDevicePrimaryCtxRetain"));
        assertEquals(0, count(driver.calls, "cuDevicePrimaryCtxRelease_v2"));
    }

    @Test
    void closeRestoresTheCallersContextAndNeverLeavesAReleasedOneCurrent() {
        CudaKernels k = new CudaKernels(cuda, 0, new byte[16], Long.MAX_VALUE, 1 << 20);
        FloatMatrix a = SvdTestMatrices.gaussian(9, 9, 13);
        k.svd().svd(a);
        cuda.setCurrent(4242);
        k.close();
        assertEquals(4242, driver.currentContext(), "the caller's context is put back");
        k.close();  // idempotent
        assertEquals(1, count(driver.calls, "cuDevicePrimaryCtxRelease_v2"));
        assertThrows(IllegalStateException.class, () -> k.svd().svd(a), "closed with the backend");

        CudaKernels current = new CudaKernels(cuda, 0, new byte[16], Long.MAX_VALUE, 1 << 20);
        long primary = current.context();
        current.svd().svd(a);
        assertEquals(primary, driver.currentContext());
        current.close();
        assertEquals(0, driver.currentContext(), "a released primary context does not stay current");
    }

    @Test
    void svdKernelsOpenedAloneOwnTheirSession() {
        CudaSvdKernels alone = CudaSvdKernelsEmulatedTest.open(driver, CudaSvdKernels.Options.defaults());
        FloatMatrix a = SvdTestMatrices.gaussian(12, 5, 17);
        assertDecomposes(a, alone.svd(a));
        cuda.setCurrent(31);
        alone.close();
        assertEquals(31, driver.currentContext());
        assertEquals(1, count(driver.calls, "cuDevicePrimaryCtxRelease_v2"));
        assertThrows(IllegalStateException.class, () -> alone.svd(a));
    }
}

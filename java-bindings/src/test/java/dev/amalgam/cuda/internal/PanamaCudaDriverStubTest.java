package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.CudaException;
import dev.amalgam.cuda.CudaKernelProvider;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real Panama bindings against a stub driver library compiled from src/test/c: every
 * descriptor, out-parameter and string passes through FFM exactly as with libcuda.so.1.
 * Skipped when no C compiler is available.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
class PanamaCudaDriverStubTest {

    static Path library;
    static Cuda cuda;

    @BeforeAll
    static void buildStub() throws IOException, InterruptedException {
        Path source = Path.of("src", "test", "c", "stub_libcuda.c");
        Path out = Path.of("target", "stub", "libcuda_stub.so");
        Files.createDirectories(out.getParent());
        Process p;
        try {
            p = new ProcessBuilder("cc", "-shared", "-fPIC", "-O1", "-o", out.toString(), source.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no C compiler (cc) to build the stub driver: " + e.getMessage());
            return;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "cc failed:\n" + log);
        library = out.toAbsolutePath();
        PanamaCudaDriver.Loaded loaded = PanamaCudaDriver.load(library);
        assertNotNull(loaded.driver(), loaded.reason());
        cuda = new Cuda(loaded.driver());
    }

    @Test
    void missingLibraryIsAReasonNotAnError() {
        PanamaCudaDriver.Loaded l = PanamaCudaDriver.load(Path.of("/nonexistent/libcuda.so.1"));
        assertEquals(null, l.driver());
        assertEquals("/nonexistent/libcuda.so.1 not found", l.reason());
    }

    @Test
    void deviceQueries() {
        cuda.init();
        assertEquals(2, cuda.deviceCount());
        assertEquals(101, cuda.device(1));
        assertEquals("Stub GPU zero", cuda.deviceName(100));
        assertEquals(9, cuda.attribute(Cuda.ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 100));
        assertEquals(132, cuda.attribute(Cuda.ATTRIBUTE_MULTIPROCESSOR_COUNT, 100));
        assertEquals(80L << 30, cuda.totalMemory(100));
        assertArrayEquals(new long[] {79L << 30, 80L << 30}, cuda.memInfo());
        long ctx = cuda.retainPrimaryContext(100);
        assertEquals(0x1234, ctx);
        cuda.setCurrent(ctx);
        assertEquals(0x1234, cuda.currentContext());
        assertEquals(1, cuda.currentDevice());
        cuda.releasePrimaryContext(100);
    }

    @Test
    void pointerAttributesReadFourOrEightBytes() {
        assertEquals(0x1234, cuda.pointerAttribute(Cuda.POINTER_CONTEXT, 0xABCDEF, "probing"));
        assertEquals(0xABCD00, cuda.pointerAttribute(Cuda.POINTER_RANGE_START, 0xABCDEF, "probing"));
        assertEquals(2, cuda.pointerAttribute(2, 0xABCDEF, "probing"));  // MEMORY_TYPE: an unsigned int
        CudaException e = assertThrows(CudaException.class, () -> cuda.pointerAttribute(Cuda.POINTER_CONTEXT, 0, "checking tensor x"));
        assertEquals("cuPointerGetAttribute failed: CUDA_ERROR_INVALID_VALUE (invalid argument) while checking tensor x", e.getMessage());
    }

    @Test
    void errorsCarryDriverNamesAndTexts() {
        CudaException oom = assertThrows(CudaException.class, () -> cuda.memAlloc(12345));
        assertEquals("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory) while allocating 12345 bytes", oom.getMessage());
        CudaException unknown = assertThrows(CudaException.class, () -> cuda.setCurrent(5));
        assertEquals("cuCtxSetCurrent failed: CUresult 201 (unknown error code)", unknown.getMessage());
        CudaException device = assertThrows(CudaException.class, () -> cuda.device(7));
        assertEquals(101, device.result());
    }

    @Test
    void copiesMemsetAndEventsMoveRealBytes() {
        long stream = cuda.streamCreate();
        assertEquals(0x500 + Cuda.STREAM_NON_BLOCKING, stream);
        byte[] data = new byte[300];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 7 + 1);
        try (Arena arena = Arena.ofConfined(); Transfers t = new Transfers(cuda, stream, 64);
             DeviceBuffer d = new DeviceBuffer(cuda, 512)) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_BYTE, data);
            t.upload(src, 0, d.address(), data.length);
            MemorySegment back = arena.allocate(data.length);
            t.download(d.address(), back, 0, data.length);
            assertArrayEquals(data, back.toArray(ValueLayout.JAVA_BYTE));
            cuda.memsetAsync(d.address() + 10, 0xAB, 5, stream);
            t.download(d.address(), back, 0, data.length);
            assertEquals((byte) 0xAB, back.get(ValueLayout.JAVA_BYTE, 14));
            assertEquals(data[15], back.get(ValueLayout.JAVA_BYTE, 15));
            cuda.copyDtoDAsync(d.address() + 400, d.address(), 100, stream);
            t.download(d.address() + 400, back, 0, 100);
            assertEquals(data[99], back.get(ValueLayout.JAVA_BYTE, 99));
            assertEquals((byte) 0xAB, back.get(ValueLayout.JAVA_BYTE, 10));
        }
        long e1 = cuda.eventCreate(0), e2 = cuda.eventCreate(Cuda.EVENT_DISABLE_TIMING);
        assertEquals(0x602, e2);
        cuda.streamWaitEvent(stream, e2);  // the stub rejects flags != 0 and a null event
        assertThrows(CudaException.class, () -> cuda.streamWaitEvent(stream, 0));
        assertEquals(2.5f, cuda.eventElapsedMillis(e1, e2));
        cuda.eventDestroy(e1);
        cuda.eventDestroy(e2);
        cuda.streamDestroy(stream);
    }

    @Test
    void moduleFunctionsAndTheSingleStructKernelArgument() throws Throwable {
        byte[] image = "FATBIN-STUB".getBytes();
        try (KernelModule m = new KernelModule(cuda, image); Arena arena = Arena.ofConfined()) {
            assertEquals("amalgam_gta_merge".length(), m.gtaMerge);
            MemorySegment args = arena.allocate(88, 8);
            args.set(ValueLayout.JAVA_LONG, 0, 0xAAAAL);
            args.set(ValueLayout.JAVA_LONG, 8, 0xBBBBL);
            cuda.launch(m.gtaMerge, "amalgam_gta_merge", 3, 256, 100, 0, args);
            MemorySegment last = (MemorySegment) Linker.nativeLinker()
                    .downcallHandle(SymbolLookup.libraryLookup(library, Arena.global()).find("stub_last_launch").orElseThrow(),
                            FunctionDescriptor.of(ValueLayout.ADDRESS)).invokeExact();
            long[] seen = last.reinterpret(32).toArray(ValueLayout.JAVA_LONG);
            assertArrayEquals(new long[] {3256, 100, 0xAAAA, 0xBBBB}, seen);
        }
        CudaException bad = assertThrows(CudaException.class, () -> cuda.function(0x77, "other"));
        assertTrue(bad.getMessage().contains("looking up kernel other"), bad.getMessage());
        assertThrows(CudaException.class, () -> new KernelModule(cuda, new byte[] {1, 2, 3, 4}));
    }

    @Test
    void providerOverTheStubIsUsable() {
        CudaKernelProvider p = new CudaKernelProvider(() -> PanamaCudaDriver.load(library), () -> true);
        assertTrue(p.availability().usable(), p.availability().reason());
        assertEquals("CUDA device 0: Stub GPU zero, sm_90, 132 SMs, 80.0 GiB", p.availability().reason());
    }
}

package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** cuBLAS and cuSOLVER are optional: a missing library is a reason, never an error. */
class OptionalLibraryTest {

    @Test
    void missingSonamesAreAReasonListingWhatWasTried() {
        OptionalLibrary l = OptionalLibrary.open("cublas", List.of("libamalgam_absent_blas.so.99", "libamalgam_absent_blas.so.98"));
        assertFalse(l.found());
        assertNull(l.lookup());
        assertNull(l.soname());
        assertEquals("cublas not found (tried libamalgam_absent_blas.so.99, libamalgam_absent_blas.so.98)", l.reason());
    }

    @Test
    void missingPathIsAReasonToo() {
        OptionalLibrary l = OptionalLibrary.open("cusolver", List.of("/nonexistent/libcusolver.so.12"));
        assertFalse(l.found());
        assertEquals("cusolver not found (tried /nonexistent/libcusolver.so.12)", l.reason());
    }

    @Test
    void systemPropertyDisablesOrRedirects() {
        String key = "amalgam.cuda.amalgamtestlib";
        try {
            System.setProperty(key, "none");
            OptionalLibrary off = OptionalLibrary.find("amalgamtestlib", List.of("libc.so.6"));
            assertFalse(off.found());
            assertEquals("amalgamtestlib disabled by -Damalgam.cuda.amalgamtestlib=none", off.reason());
            System.setProperty(key, "/nonexistent/libx.so");
            assertEquals("amalgamtestlib not found (tried /nonexistent/libx.so)", OptionalLibrary.find("amalgamtestlib", List.of()).reason());
        } finally {
            System.clearProperty(key);
        }
    }

    @Test
    void aPresentLibraryIsFoundByItsSoname() {
        // libc is on every Linux machine that runs these tests; it stands in for libcublas.
        OptionalLibrary l = OptionalLibrary.open("libc", List.of("libamalgam_absent.so.1", "libc.so.6"));
        assertTrue(l.found(), l.reason());
        assertEquals("libc.so.6", l.soname());
        assertTrue(l.lookup().find("strlen").isPresent());
    }

    @Test
    void theRealLookupsNeverThrowAndCublasIsSkippedCleanly() {
        for (OptionalLibrary l : List.of(OptionalLibrary.find("cublas", OptionalLibrary.CUBLAS),
                OptionalLibrary.find("cusolver", OptionalLibrary.CUSOLVER))) {
            assertNotNull(l.reason());
            System.out.println("OptionalLibraryTest: " + l.reason());
            assertEquals(l.found(), l.soname() != null);
        }
        List<String> why = new ArrayList<>();
        OptionalLibrary absent = OptionalLibrary.open("cublas", List.of("libamalgam_absent_blas.so.1"));
        assertTrue(Cublas.open(absent, why::add).isEmpty());
        assertTrue(Cusolver.open(absent, 1e-7, 20, why::add).isEmpty());
        assertEquals(List.of(absent.reason(), absent.reason()), why);
    }

    @Test
    void aLibraryWithoutTheSymbolsIsUnusableWithAReason() {
        // libc has no cublasCreate_v2: binding fails, and open() says so instead of throwing.
        OptionalLibrary libc = OptionalLibrary.open("cublas", List.of("libc.so.6"));
        List<String> why = new ArrayList<>();
        assertTrue(Cublas.open(libc, why::add).isEmpty());
        assertEquals(1, why.size());
        assertTrue(why.getFirst().startsWith("cuBLAS (libc.so.6) unusable: libc.so.6 has no symbol cublas"), why.getFirst());
    }
}

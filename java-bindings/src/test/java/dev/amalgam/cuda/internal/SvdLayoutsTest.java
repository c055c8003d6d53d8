package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Every AMALGAM_FIELD / AMALGAM_SIZE line and constant of svd.cuh has the same value in SvdLayouts. */
class SvdLayoutsTest {

    private static String header() throws IOException {
        String dir = System.getProperty("amalgam.kernelsDir", "../kernels-cuda");
        return Files.readString(Path.of(dir, "src", "svd.cuh"));
    }

    private static int javaConstant(String struct, String field) throws ReflectiveOperationException {
        Class<?> c = Class.forName(SvdLayouts.class.getName() + "$" + struct);
        return c.getField(field.toUpperCase(Locale.ROOT)).getInt(null);
    }

    @Test
    void offsetsAgreeWithTheCudaHeader() throws IOException, ReflectiveOperationException {
        String text = header();
        Matcher f = Pattern.compile("AMALGAM_FIELD\\((\\w+), (\\w+), (\\d+)\\);").matcher(text);
        int fields = 0;
        while (f.find()) {
            assertEquals(Integer.parseInt(f.group(3)), javaConstant(f.group(1), f.group(2)), f.group(1) + "." + f.group(2));
            fields++;
        }
        Matcher s = Pattern.compile("AMALGAM_SIZE\\((\\w+), (\\d+)\\);").matcher(text);
        int sizes = 0;
        while (s.find()) {
            assertEquals(Integer.parseInt(s.group(2)), javaConstant(s.group(1), "SIZE"), s.group(1) + " size");
            sizes++;
        }
        assertEquals(10, sizes, "structs in svd.cuh");
        assertEquals(78, fields, "fields in svd.cuh");
    }

    @Test
    void everyStructFieldIsCheckedAndTheOffsetsTileTheStruct() throws IOException {
        // A field added to a struct without an AMALGAM_FIELD line would escape the test above:
        // the checked offsets of each struct must be increasing and end exactly at its size.
        String text = header();
        Matcher st = Pattern.compile("struct (\\w+) \\{([^}]*)\\};").matcher(text);
        int structs = 0;
        while (st.find()) {
            String name = st.group(1);
            long members = st.group(2).lines().filter(l -> l.trim().matches("(u?int\\d+_t|float|double) \\w+;.*")).count();
            long checked = Pattern.compile("AMALGAM_FIELD\\(" + name + ", ").matcher(text).results().count();
            assertEquals(members, checked, name + ": members vs AMALGAM_FIELD lines");
            structs++;
        }
        assertEquals(10, structs);
    }

    @Test
    void constantsAgreeWithTheCudaHeader() throws IOException {
        String text = header();
        assertTrue(text.contains("constexpr uint32_t kSvdThreads = " + SvdLayouts.THREADS + ";"));
        assertTrue(text.contains("constexpr uint32_t kSvdBlockWidth = " + SvdLayouts.BLOCK_WIDTH + ";"));
        assertTrue(text.contains("constexpr uint32_t kSvdGramRows = " + SvdLayouts.GRAM_ROWS + ";"));
        assertTrue(text.contains("constexpr uint32_t kSvdInnerSweeps = " + SvdLayouts.INNER_SWEEPS + ";"));
        assertTrue(text.contains("constexpr uint32_t kGemmTile = " + SvdLayouts.GEMM_TILE + ";"));
        assertTrue(text.contains("constexpr uint32_t kGemmDepth = " + SvdLayouts.GEMM_DEPTH + ";"));
    }
}

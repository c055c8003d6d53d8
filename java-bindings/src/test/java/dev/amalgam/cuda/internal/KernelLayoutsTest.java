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

/** Every AMALGAM_FIELD / AMALGAM_SIZE line of amalgam.cuh has the same offset in KernelLayouts. */
class KernelLayoutsTest {

    private static Path header() {
        String dir = System.getProperty("amalgam.kernelsDir", "../kernels-cuda");
        return Path.of(dir, "src", "amalgam.cuh");
    }

    private static int javaConstant(String struct, String field) throws ReflectiveOperationException {
        Class<?> c = Class.forName(KernelLayouts.class.getName() + "$" + struct);
        return c.getField(field.toUpperCase(Locale.ROOT)).getInt(null);
    }

    @Test
    void offsetsAgreeWithTheCudaHeader() throws IOException, ReflectiveOperationException {
        String text = Files.readString(header());
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
        assertEquals(8, sizes);
        assertTrue(fields > 50, "parsed only " + fields + " fields");
    }

    @Test
    void constantsAgreeWithTheCudaHeader() throws IOException {
        String text = Files.readString(header());
        assertTrue(text.contains("constexpr uint32_t kTile = " + KernelLayouts.TILE + ";"));
        assertTrue(text.contains("constexpr uint32_t kBlock = " + KernelLayouts.BLOCK + ";"));
        assertTrue(text.contains("DT_BF16 = " + KernelLayouts.DTYPE_BF16 + ";"));
        assertTrue(text.contains("SPARSIFY_BERNOULLI = " + KernelLayouts.SPARSIFY_BERNOULLI + ";"));
        assertTrue(text.contains("RESCALE_DIVIDE = " + KernelLayouts.RESCALE_DIVIDE + ";"));
        assertTrue(text.contains("CONSENSUS_COUNT = " + KernelLayouts.CONSENSUS_COUNT + ";"));
    }
}

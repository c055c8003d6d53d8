package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.internal.FatbinResource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The fatbin is on the class path exactly when native-build made one, and it is clean. */
class FatbinResourceTest {

    private static final Path BUILT = Path.of("..", "native-build", "target", "generated-resources", "cuda",
            "amalgam-cuda", "amalgam.fatbin");

    @Test
    void presentIffNativeBuildMadeIt() {
        System.out.println("amalgam.fatbin built: " + Files.exists(BUILT) + ", on the class path: " + FatbinResource.present());
        assertEquals(Files.exists(BUILT), FatbinResource.present());
    }

    @Test
    void whenPresentItIsAFatbinWithEveryKernelFreeOfSpills() throws IOException {
        if (!FatbinResource.present()) return;  // nothing to check: presentIffNativeBuildMadeIt covers why
        byte[] fatbin = FatbinResource.read();
        int magic = ByteBuffer.wrap(fatbin, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertEquals(0xBA55ED50, magic, "fatbin header magic");
        String summary;
        try (InputStream in = FatbinResource.class.getClassLoader().getResourceAsStream("amalgam-cuda/ptxas-summary.txt")) {
            summary = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (String kernel : new String[] {"amalgam_magnitude_histogram", "amalgam_gta_stats", "amalgam_gta_merge",
                "amalgam_linear", "amalgam_finite_scan"}) {
            for (String arch : new String[] {"sm_80", "sm_90"}) {
                assertTrue(summary.lines().anyMatch(l -> l.startsWith(kernel + " ") && l.contains(" " + arch + " ") && l.endsWith("ok")),
                        kernel + " " + arch + " in\n" + summary);
            }
        }
        assertTrue(summary.lines().noneMatch(l -> l.contains("SPILLS/LOCAL")));
    }
}

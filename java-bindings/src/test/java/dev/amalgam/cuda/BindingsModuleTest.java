package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The bindings on the module path: module {@code dev.amalgam.cuda} exports the API packages and
 * not {@code cuda.internal}, provides the {@code cuda} backend, resolves next to the core
 * without a split package, and {@code --enable-native-access} accepts its name.
 */
class BindingsModuleTest {

    /** The two modules (class folders or jars) and the core's dependencies' jars, from the test class path. */
    static List<Path> modulePath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<Path> out = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator)) {
            Path p = Path.of(e);
            String name = p.getFileName() == null ? "" : p.getFileName().toString();
            if (name.startsWith("jackson-") || name.startsWith("snakeyaml")) out.add(p);
            if (Files.exists(p.resolve("module-info.class")) && p.endsWith(Path.of("target", "classes"))) out.add(p);
            // In `verify` the reactor hands over the core as its jar rather than its classes folder.
            if (name.startsWith("amalgam-core-") && name.endsWith(".jar") && !name.endsWith("-tests.jar")) out.add(p);
        }
        return out;
    }

    @Test
    void exportsOnlyTheApiAndProvidesTheBackend() throws Exception {
        ModuleFinder finder = ModuleFinder.of(modulePath().toArray(Path[]::new));
        Configuration cf = ModuleLayer.boot().configuration().resolve(finder, ModuleFinder.of(), Set.of("dev.amalgam.cuda"));
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Module cuda = layer.findModule("dev.amalgam.cuda").orElseThrow();
        assertTrue(cuda.isExported("dev.amalgam.cuda"));
        assertTrue(cuda.isExported("dev.amalgam.cuda.jcuda"));
        assertFalse(cuda.isExported("dev.amalgam.cuda.internal"));
        ModuleDescriptor d = cuda.getDescriptor();
        assertEquals(List.of("dev.amalgam.cuda.CudaKernelProvider"), d.provides().stream()
                .filter(p -> p.service().equals("dev.amalgam.kernel.KernelProvider")).findFirst().orElseThrow().providers());
        // The core opens Philox to this module only; the bindings' classes load from the module.
        Module core = layer.findModule("dev.amalgam.core").orElseThrow();
        assertTrue(core.isExported("dev.amalgam.random", cuda));
        assertEquals(cuda, layer.findLoader("dev.amalgam.cuda").loadClass("dev.amalgam.cuda.internal.FatbinResource").getModule());
    }

    @Test
    void enableNativeAccessTakesTheModuleName() throws Exception {
        String mp = String.join(File.pathSeparator, modulePath().stream().map(Path::toString).toList());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "--module-path", mp, "--add-modules", "dev.amalgam.cuda",
                "--enable-native-access=dev.amalgam.cuda", "--illegal-native-access=deny", "--validate-modules")
                .redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), text);
        assertFalse(text.contains("Unknown module"), text);
    }
}

package dev.amalgam.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Loads the core on the module path (a module layer over {@code target/classes} and its
 * dependencies' jars): the API packages are exported, the internals are not, and the backend
 * providers are found through the module's {@code provides}.
 */
class ModulePathTest {

    static List<Path> modulePath() {
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<Path> out = new ArrayList<>();
        for (String e : cp.split(File.pathSeparator)) {
            Path p = Path.of(e);
            String name = p.getFileName() == null ? "" : p.getFileName().toString();
            if (name.startsWith("jackson-") || name.startsWith("snakeyaml")) out.add(p);
            if (Files.exists(p.resolve("module-info.class")) && p.endsWith(Path.of("target", "classes"))) out.add(p);
        }
        return out;
    }

    @Test
    void theCoreIsAModuleThatExportsOnlyItsApi() throws Exception {
        ModuleFinder finder = ModuleFinder.of(modulePath().toArray(Path[]::new));
        Configuration cf = ModuleLayer.boot().configuration().resolve(finder, ModuleFinder.of(), Set.of("dev.amalgam.core"));
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Module core = layer.findModule("dev.amalgam.core").orElseThrow();
        for (String api : List.of("dev.amalgam", "dev.amalgam.checkpoint", "dev.amalgam.config", "dev.amalgam.io",
                "dev.amalgam.kernel", "dev.amalgam.kernel.svd", "dev.amalgam.lora", "dev.amalgam.tensor")) {
            assertTrue(core.isExported(api), api);
        }
        for (String internal : List.of("dev.amalgam.kernel.cpu", "dev.amalgam.random", "dev.amalgam.merge")) {
            assertFalse(core.isExported(internal), internal);
        }
        ClassLoader loader = layer.findLoader("dev.amalgam.core");
        Class<?> amalgam = loader.loadClass("dev.amalgam.Amalgam");
        assertEquals(core, amalgam.getModule());
        try (AutoCloseable a = (AutoCloseable) amalgam.getMethod("open").invoke(null)) {
            // The vector module is in the boot layer (the test JVM adds it), so the fast CPU provider serves.
            assertEquals("cpu", amalgam.getMethod("backendName").invoke(a));
        }
        Class<?> pools = loader.loadClass("dev.amalgam.kernel.cpu.CpuPools");
        assertThrows(IllegalAccessException.class, () -> pools.getMethod("callWith", java.util.concurrent.ForkJoinPool.class,
                java.util.function.Supplier.class).invoke(null, null, (java.util.function.Supplier<Object>) () -> 1));
    }
}

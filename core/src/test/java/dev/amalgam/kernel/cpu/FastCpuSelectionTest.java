package dev.amalgam.kernel.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.kernel.ReferenceKernelProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which CPU backend {@link KernelBackends#select} picks, and that it says why. */
class FastCpuSelectionTest {

    @Test
    void serviceLoaderFindsTheFastProviderAndItIsPreferredOnCpu() {
        assertTrue(KernelBackends.providers().stream().anyMatch(p -> p.name().equals("cpu")), "registered in META-INF/services");
        for (Device device : new Device[] {Device.CPU, Device.AUTO}) {
            KernelBackends.Selection s = KernelBackends.select(device,
                    List.of(new ReferenceKernelProvider(), new FastCpuKernelProvider()).stream()
                            .sorted((a, b) -> b.priority() - a.priority()).toList());
            assertEquals("cpu", s.provider(), device.toString());
            assertEquals("cpu", s.backend().name());
            assertTrue(s.reason().startsWith("CPU backend 'cpu': fast CPU kernels, vectorized with"), s.reason());
        }
    }

    @Test
    void aMissingVectorModuleFallsBackToTheReferenceAndSaysWhy() {
        KernelProvider noVectors = new KernelProvider() {
            @Override
            public String name() {
                return "cpu";
            }

            @Override
            public Device device() {
                return Device.CPU;
            }

            @Override
            public int priority() {
                return 10;
            }

            @Override
            public Availability availability() {
                return Availability.unusable("module jdk.incubator.vector is not present");
            }

            @Override
            public KernelBackend open() {
                throw new AssertionError("never opened when unusable");
            }
        };
        KernelBackends.Selection s = KernelBackends.select(Device.CPU, List.of(noVectors, new ReferenceKernelProvider()));
        assertEquals("reference", s.provider());
        assertTrue(s.reason().contains("not used: cpu: module jdk.incubator.vector is not present"), s.reason());
    }

    @Test
    void theProviderIsUsableWhenTheModuleIsPresent() {
        // The test JVM runs with --add-modules jdk.incubator.vector (root pom argLine).
        KernelProvider.Availability a = new FastCpuKernelProvider().availability();
        assertTrue(a.usable(), a.reason());
        assertEquals(10, new FastCpuKernelProvider().priority());
        assertEquals(Device.CPU, new FastCpuKernelProvider().device());
    }
}

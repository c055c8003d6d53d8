package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.internal.FakeCudaDriver;
import dev.amalgam.cuda.internal.PanamaCudaDriver;
import dev.amalgam.kernel.BackendUnavailableException;
import dev.amalgam.kernel.Device;
import dev.amalgam.kernel.KernelBackends;
import dev.amalgam.kernel.KernelProvider;
import java.util.List;
import org.junit.jupiter.api.Test;

class CudaKernelProviderTest {

    private static CudaKernelProvider with(FakeCudaDriver fake, boolean fatbin) {
        return new CudaKernelProvider(() -> new PanamaCudaDriver.Loaded(fake, "fake"), () -> fatbin);
    }

    @Test
    void registeredAsCudaWithPriority100() {
        KernelProvider p = KernelBackends.providers().stream().filter(x -> x.name().equals("cuda")).findFirst().orElseThrow();
        assertEquals(Device.CUDA, p.device());
        assertEquals(100, p.priority());
    }

    @Test
    void withoutLibcudaSaysSoAndNeverThrows() {
        CudaKernelProvider p = new CudaKernelProvider(
                () -> new PanamaCudaDriver.Loaded(null, "libcuda.so.1 not found (no NVIDIA driver on this machine)"), () -> true);
        assertFalse(p.availability().usable());
        assertEquals("libcuda.so.1 not found (no NVIDIA driver on this machine)", p.availability().reason());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, p::open);
        assertTrue(e.getMessage().contains("libcuda.so.1 not found"));
    }

    @Test
    void realProbeOnThisMachineGivesAReason() {
        KernelProvider.Availability a = new CudaKernelProvider().availability();
        System.out.println("CUDA provider on this machine: usable=" + a.usable() + ", " + a.reason());
        assertFalse(a.reason().isBlank());
        if (!PanamaCudaDriver.load().reason().equals(PanamaCudaDriver.LIBRARY)) {
            assertFalse(a.usable());
            assertTrue(a.reason().startsWith("libcuda.so.1 not found"), a.reason());
        }
    }

    @Test
    void deviceSelectionFallsBackToCpuWithTheReason() {
        CudaKernelProvider cuda = new CudaKernelProvider(
                () -> new PanamaCudaDriver.Loaded(null, "libcuda.so.1 not found (no NVIDIA driver on this machine)"), () -> true);
        List<KernelProvider> providers = List.of(cuda, new dev.amalgam.kernel.ReferenceKernelProvider());
        KernelBackends.Selection s = KernelBackends.select(Device.AUTO, providers);
        assertEquals("reference", s.provider());
        assertTrue(s.reason().contains("GPU not used: cuda: libcuda.so.1 not found"), s.reason());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> KernelBackends.select(Device.CUDA, providers));
        assertTrue(e.getMessage().contains("libcuda.so.1 not found"), e.getMessage());
    }

    @Test
    void noDevice() {
        FakeCudaDriver fake = new FakeCudaDriver();
        fake.deviceCount = 0;
        assertEquals("the NVIDIA driver reports no CUDA device", with(fake, true).availability().reason());
    }

    @Test
    void initFailureCarriesTheDriverError() {
        FakeCudaDriver fake = new FakeCudaDriver().failing("cuInit", 100);
        assertEquals("cuInit failed: CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)",
                with(fake, true).availability().reason());
    }

    @Test
    void deviceOlderThanAmpereIsRefused() {
        FakeCudaDriver fake = new FakeCudaDriver();
        fake.computeMajor = 7;
        fake.computeMinor = 5;
        fake.deviceName = "Tesla T4";
        String reason = with(fake, true).availability().reason();
        assertTrue(reason.startsWith("CUDA device 0: Tesla T4, sm_75"), reason);
        assertTrue(reason.endsWith("is older than sm_80, which Amalgam's kernels need"), reason);
    }

    @Test
    void missingFatbinSaysTheBackendWasNotBuilt() {
        KernelProvider.Availability a = with(new FakeCudaDriver(), false).availability();
        assertFalse(a.usable());
        assertTrue(a.reason().startsWith("the CUDA backend was not built: amalgam-cuda/amalgam.fatbin"), a.reason());
    }

    @Test
    void usableDeviceIsDescribed() {
        KernelProvider.Availability a = with(new FakeCudaDriver(), true).availability();
        assertTrue(a.usable());
        assertEquals("CUDA device 0: Fake H100, sm_90, 132 SMs, 80.0 GiB", a.reason());
    }
}

package dev.amalgam.kernel;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Chooses the kernel backend once per merge. {@code auto} takes a usable CUDA provider, else the
 * best CPU one, and says why; {@code cuda} without a usable GPU is an error. The system property
 * {@code amalgam.device} sets the device when the caller asks for {@code auto}, and
 * {@code amalgam.backend} names one provider outright (e.g. {@code reference} in tests and
 * benchmarks).
 */
public final class KernelBackends {

    private static final System.Logger LOG = System.getLogger(KernelBackends.class.getName());

    private KernelBackends() {
    }

    /** The chosen backend and, in words, why it serves. */
    public record Selection(KernelBackend backend, String provider, Device device, String reason) {
    }

    /**
     * Every provider on the class or module path, best first; the reference is always there.
     *
     * @return the providers
     */
    public static List<KernelProvider> providers() {
        List<KernelProvider> all = new ArrayList<>();
        // The SPI's own loader, not the thread's: the providers that can see this KernelProvider type.
        ServiceLoader.load(KernelProvider.class, KernelProvider.class.getClassLoader()).forEach(all::add);
        if (all.stream().noneMatch(p -> p.name().equals("reference"))) all.add(new ReferenceKernelProvider());
        all.sort(Comparator.comparingInt(KernelProvider::priority).reversed());
        return all;
    }

    /**
     * Chooses a backend for a device, honouring the {@code amalgam.backend} and {@code amalgam.device} properties.
     *
     * @param requested the device
     * @return the selection
     */
    public static Selection select(Device requested) {
        return select(requested, providers());
    }

    /**
     * Chooses among {@code providers} (tests), honouring the system properties.
     *
     * @param requested the device
     * @param providers the candidates
     * @return the selection
     */
    public static Selection select(Device requested, List<KernelProvider> providers) {
        String forced = System.getProperty("amalgam.backend");
        if (forced != null && !forced.isBlank()) {
            return named(forced.trim(), providers, "forced by -Damalgam.backend=" + forced);
        }
        Device device = requested;
        String property = System.getProperty("amalgam.device");
        if (device == Device.AUTO && property != null && !property.isBlank()) device = Device.parse(property.trim());
        return forDevice(device, providers);
    }

    /**
     * The provider called {@code name} ({@code reference}, {@code cpu}, {@code cuda}, …), whatever
     * the system properties say: an explicit choice beats {@code amalgam.backend}.
     *
     * @throws BackendUnavailableException if it is unknown or not usable here, with the reason
     */
    public static Selection byName(String name) {
        return named(name, providers(), "chosen by name");
    }

    /**
     * Like {@link #select(Device)} but ignoring {@code amalgam.backend} and {@code amalgam.device}:
     * for callers that pass an explicit device.
     */
    public static Selection forDevice(Device device) {
        return forDevice(device, providers());
    }

    private static Selection named(String name, List<KernelProvider> providers, String why) {
        for (KernelProvider p : providers) {
            if (p.name().equalsIgnoreCase(name)) {
                KernelProvider.Availability a = p.availability();
                if (!a.usable()) throw new BackendUnavailableException("backend '" + name + "' is not usable: " + a.reason());
                return chosen(p, why + " (" + a.reason() + ")");
            }
        }
        throw new BackendUnavailableException("unknown backend '" + name + "'; available: "
                + providers.stream().map(KernelProvider::name).toList());
    }

    private static Selection forDevice(Device device, List<KernelProvider> providers) {

        List<String> whyNot = new ArrayList<>();
        if (device == Device.AUTO || device == Device.CUDA) {
            for (KernelProvider p : providers) {
                if (p.device() != Device.CUDA) continue;
                KernelProvider.Availability a = p.availability();
                if (a.usable()) return chosen(p, a.reason());
                whyNot.add(p.name() + ": " + a.reason());
            }
            if (whyNot.isEmpty()) whyNot.add("no CUDA backend on the class path");
            if (device == Device.CUDA) {
                throw new BackendUnavailableException("--device cuda: no usable GPU (" + String.join("; ", whyNot)
                        + "). Use --device auto or cpu to run on the CPU.");
            }
        }
        // CPU providers by priority (fast CPU before reference); the reason names the one that
        // serves and why each better one did not (e.g. the vector module missing).
        List<String> cpuWhyNot = new ArrayList<>();
        for (KernelProvider p : providers) {
            if (p.device() != Device.CPU) continue;
            KernelProvider.Availability a = p.availability();
            if (a.usable()) {
                String reason = "CPU backend '" + p.name() + "': " + a.reason();
                if (!cpuWhyNot.isEmpty()) reason += "; not used: " + String.join("; ", cpuWhyNot);
                if (!whyNot.isEmpty()) reason += "; GPU not used: " + String.join("; ", whyNot);
                if (device == Device.CPU) reason += " (--device cpu)";
                return chosen(p, reason);
            }
            cpuWhyNot.add(p.name() + ": " + a.reason());
        }
        whyNot.addAll(cpuWhyNot);
        throw new BackendUnavailableException("no usable kernel backend: " + String.join("; ", whyNot));
    }

    private static Selection chosen(KernelProvider p, String reason) {
        LOG.log(Level.DEBUG, "kernel backend {0}: {1}", p.name(), reason);
        return new Selection(p.open(), p.name(), p.device(), reason);
    }

}

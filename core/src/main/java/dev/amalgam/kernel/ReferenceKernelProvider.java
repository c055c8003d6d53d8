package dev.amalgam.kernel;

/** The pure-Java reference: always usable, lowest priority. */
public final class ReferenceKernelProvider implements KernelProvider {

    /** The provider ServiceLoader instantiates. */
    public ReferenceKernelProvider() {
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        return Availability.usable("pure Java, runs everywhere");
    }

    @Override
    public KernelBackend open() {
        return new ReferenceKernels();
    }
}

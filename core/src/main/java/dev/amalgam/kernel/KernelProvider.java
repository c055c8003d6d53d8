package dev.amalgam.kernel;

/**
 * A kernel implementation found through {@link java.util.ServiceLoader}. It says whether it
 * can run here and, if not, why — the selection logs that reason (Lucene's
 * VectorizationProvider is the model).
 */
public interface KernelProvider {

    /** {@code reference}, {@code cpu}, {@code cuda}, … */
    String name();

    /** Which device it runs on. */
    Device device();

    /** Higher wins among usable providers of the requested device. */
    int priority();

    /** Whether it can be used on this machine, and why not. Cheap, never throws. */
    Availability availability();

    /** Creates the backend; only called when {@link #availability()} is usable. */
    KernelBackend open();

    /**
     * Whether a provider can run here.
     *
     * @param usable whether it can
     * @param reason why (or why not), for logs
     */
    record Availability(boolean usable, String reason) {
        /**
         * A usable provider.
         *
         * @param reason what it runs on
         * @return the availability
         */
        public static Availability usable(String reason) {
            return new Availability(true, reason);
        }

        /**
         * An unusable provider.
         *
         * @param reason why, with the remedy
         * @return the availability
         */
        public static Availability unusable(String reason) {
            return new Availability(false, reason);
        }
    }
}

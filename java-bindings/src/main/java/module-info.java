/**
 * Amalgam's CUDA backend: the kernel provider {@code cuda} (Panama FFM over the CUDA driver),
 * device tensors and passes, and an adapter for applications that already use JCuda.
 *
 * <p>Exported: {@code dev.amalgam.cuda} and {@code dev.amalgam.cuda.jcuda}. Not exported: the
 * driver bindings, launch plumbing and fatbin loading ({@code dev.amalgam.cuda.internal}).
 * The kernels ({@code amalgam-cuda/amalgam.fatbin}) come in the jar of
 * {@code amalgam-native-build}, automatic module {@code dev.amalgam.cuda.fatbin}, in a resource
 * folder that is not a package (nothing splits with this module); on the module path resolve it
 * with {@code --add-modules dev.amalgam.cuda.fatbin}. Calls into the driver are restricted
 * methods: run with {@code --enable-native-access=dev.amalgam.cuda} (or {@code ALL-UNNAMED}
 * on the class path, where the jars work as before).
 */
module dev.amalgam.cuda {
    requires transitive dev.amalgam.core;
    requires static jcuda;

    exports dev.amalgam.cuda;
    exports dev.amalgam.cuda.jcuda;

    provides dev.amalgam.kernel.KernelProvider with dev.amalgam.cuda.CudaKernelProvider;
}

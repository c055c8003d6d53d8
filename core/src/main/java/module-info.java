/**
 * Amalgam's core: merge configs (YAML or builder), checkpoints (model folders, in-memory
 * tensors), the {@link dev.amalgam.Amalgam} entry point, the kernel SPI with its reference
 * backend, and the fast CPU kernels behind it.
 *
 * <p>Exported: the API packages. Not exported: the fast CPU kernels
 * ({@code dev.amalgam.kernel.cpu}), Philox ({@code dev.amalgam.random}, opened to the CUDA
 * bindings only) and the merge planning and execution ({@code dev.amalgam.merge}).
 * On the class path the jar works as before.
 */
module dev.amalgam.core {
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.dataformat.yaml;
    requires static jdk.incubator.vector;

    exports dev.amalgam;
    exports dev.amalgam.analysis;
    exports dev.amalgam.checkpoint;
    exports dev.amalgam.config;
    exports dev.amalgam.io;
    exports dev.amalgam.kernel;
    exports dev.amalgam.kernel.svd;
    exports dev.amalgam.lora;
    exports dev.amalgam.synth;
    exports dev.amalgam.tensor;

    exports dev.amalgam.random to dev.amalgam.cuda;

    uses dev.amalgam.kernel.KernelProvider;
    provides dev.amalgam.kernel.KernelProvider with
            dev.amalgam.kernel.ReferenceKernelProvider,
            dev.amalgam.kernel.cpu.FastCpuKernelProvider;
}

package dev.amalgam.cuda;

import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.KernelAttributes;
import dev.amalgam.cuda.internal.OptionalLibrary;
import dev.amalgam.cuda.internal.SvdEmulatedCudaDriver;
import dev.amalgam.kernel.svd.SvdKernels;
import dev.amalgam.kernel.svd.SvdKernelsContract;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The SVD contract on the host: CudaSvdKernels' orchestration (grouping, chunking, argument
 * blocks, the launch sequence of both Jacobi variants, emission, host completion, the kernel
 * SGEMM) over a fake driver that runs Java mirrors of the svd.cu kernels. With the default 48 KiB
 * shared limit the larger cases (150×70, 120×96) take the blocked variant, the others the
 * shared one. The device code itself is covered by {@link CudaSvdContractTest}.
 */
class CudaSvdKernelsEmulatedTest extends SvdKernelsContract {

    static SvdEmulatedCudaDriver driver;
    static CudaSvdKernels kernels;

    static CudaSvdKernels open(SvdEmulatedCudaDriver driver, CudaSvdKernels.Options options) {
        return new CudaSvdKernels(new Cuda(driver), 0, new byte[16], KernelAttributes.NONE,
                OptionalLibrary.open("cublas", List.of("libamalgam_no_cublas_in_host_tests.so")), options);
    }

    @BeforeAll
    static void openEmulated() {
        driver = new SvdEmulatedCudaDriver();
        kernels = open(driver, CudaSvdKernels.Options.defaults());
    }

    @AfterAll
    static void close() {
        kernels.close();
        System.out.println("CudaSvdKernelsEmulatedTest launches: " + driver.launches);
    }

    @Override
    protected SvdKernels kernels() {
        return kernels;
    }
}

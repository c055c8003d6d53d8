package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/**
 * {@code cuFuncSetAttribute}, which the one-block-per-matrix SVD kernel needs to use more than
 * 48 KiB of dynamic shared memory. Kept apart from {@link CudaDriver} so that the driver
 * interface (and its fakes) stay as they are; without it the kernel stays under 48 KiB and larger
 * matrices take the blocked variant.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public interface KernelAttributes {

    /** {@code CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES}. */
    int MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    /** {@code CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN}. */
    int DEVICE_MAX_SHARED_PER_BLOCK_OPTIN = 97;

    /** Raw {@code CUresult} of {@code cuFuncSetAttribute(function, attribute, value)}. */
    int cuFuncSetAttribute(long function, int attribute, int value);

    /** Whether the attribute can be set at all (false: stay within the defaults). */
    boolean available();

    /** No attribute can be set: kernels keep the driver's defaults. */
    KernelAttributes NONE = new KernelAttributes() {
        @Override
        public int cuFuncSetAttribute(long function, int attribute, int value) {
            return 801;  // CUDA_ERROR_NOT_SUPPORTED
        }

        @Override
        public boolean available() {
            return false;
        }
    };

    /**
     * {@code cuFuncSetAttribute} of the library behind {@code cuda}'s driver (a {@link PanamaCudaDriver}:
     * libcuda.so.1 or the library it was loaded from), the driver itself when it implements this
     * interface (test drivers), or {@link #NONE}.
     */
    static KernelAttributes of(Cuda cuda) {
        if (cuda.driver() instanceof PanamaCudaDriver p) return p.kernelAttributes();
        return cuda.driver() instanceof KernelAttributes own ? own : NONE;  // a test driver that has them
    }

    /** {@code cuFuncSetAttribute} from {@code libcuda.so.1}, or {@link #NONE} if it cannot be bound. */
    static KernelAttributes fromDriverLibrary() {
        try {
            return from(SymbolLookup.libraryLookup(PanamaCudaDriver.LIBRARY, Arena.global()));
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return NONE;
        }
    }

    /** {@code cuFuncSetAttribute} from {@code lib}, or {@link #NONE} if it has none. */
    static KernelAttributes from(SymbolLookup lib) {
        try {
            MethodHandle h = Linker.nativeLinker().downcallHandle(lib.find("cuFuncSetAttribute").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT));
            return new KernelAttributes() {
                @Override
                public int cuFuncSetAttribute(long function, int attribute, int value) {
                    try {
                        return (int) h.invokeExact(function, attribute, value);
                    } catch (RuntimeException | Error e) {
                        throw e;
                    } catch (Throwable t) {
                        throw new IllegalStateException(t);
                    }
                }

                @Override
                public boolean available() {
                    return true;
                }
            };
        } catch (RuntimeException | UnsatisfiedLinkError e) {
            return NONE;
        }
    }
}

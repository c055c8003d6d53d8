package dev.amalgam.cuda;

/**
 * A CUDA driver call failed. The message names the call and the driver's error name and text,
 * e.g. {@code cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (out of memory)}.
 */
public final class CudaException extends dev.amalgam.AmalgamException {

    private final String call;
    private final int result;
    private final String errorName;

    public CudaException(String call, int result, String errorName, String errorText, String context) {
        super(call + " failed: " + errorName + " (" + errorText + ")" + (context == null ? "" : " while " + context));
        this.call = call;
        this.result = result;
        this.errorName = errorName;
    }

    /** The driver symbol that failed, e.g. {@code cuLaunchKernel}. */
    public String call() {
        return call;
    }

    /** The raw {@code CUresult}. */
    public int result() {
        return result;
    }

    /** The {@code CUresult} name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }
}

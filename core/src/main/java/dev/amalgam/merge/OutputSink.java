package dev.amalgam.merge;

import dev.amalgam.tensor.Tensor;

/** Where output tensors go: a writable view per planned tensor (the checkpoint writer's mapped files). */
public interface OutputSink {
    Tensor tensorFor(String name);
}

package dev.amalgam.merge;

import dev.amalgam.io.ShardWriter;
import dev.amalgam.tensor.Tensor;

/** Where output tensors go: a writable view per planned tensor (the checkpoint writer's mapped files). */
public interface OutputSink {

    Tensor tensorFor(String name);

    /** Called once a tensor is complete, so its bytes can be written back while others are computed. */
    default void written(String name) {
    }

    static OutputSink of(ShardWriter writer) {
        return new OutputSink() {
            @Override
            public Tensor tensorFor(String name) {
                return writer.tensorFor(name);
            }

            @Override
            public void written(String name) {
                writer.written(name);
            }
        };
    }
}

package dev.amalgam.kernel.cpu;

import dev.amalgam.tensor.Tensor;
import java.util.List;

/** Finds the first input holding a NaN/Inf, chunks in parallel (0 = base, 1 + m = model m, −1 = none). */
final class FiniteScan {

    private FiniteScan() {
    }

    static int first(Tensor base, List<Tensor> models, int chunks, int chunk) {
        int inputs = models.size() + 1;
        boolean[] bad = new boolean[inputs];
        long n = base.elementCount();
        ChunkRunner.run(chunks, w -> c -> {
            long from = (long) c * chunk, to = Math.min(n, from + chunk);
            for (int j = 0; j < inputs; j++) {
                Tensor x = j == 0 ? base : models.get(j - 1);
                for (long i = from; i < to; i++) {
                    if (!Float.isFinite(x.getFloat(i))) {
                        bad[j] = true;  // benign race: only ever set to true
                        break;
                    }
                }
            }
        });
        for (int j = 0; j < inputs; j++) if (bad[j]) return j;
        return -1;
    }
}

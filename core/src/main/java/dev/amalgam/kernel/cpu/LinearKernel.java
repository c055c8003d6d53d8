package dev.amalgam.kernel.cpu;

import static dev.amalgam.kernel.cpu.Lanes.F;
import static dev.amalgam.kernel.cpu.Lanes.L;

import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.tensor.Tensor;
import java.util.List;
import jdk.incubator.vector.FloatVector;

/**
 * {@code linear} on all cores, bit-identical to the reference: per element
 * {@code acc = 0f; acc += w_j · x_j} in input order (float32, no FMA), then {@code acc / divisor}.
 * Non-finite inputs are detected while passing; the first offending input is reported.
 */
final class LinearKernel {

    private static final int CHUNK = GtaKernel.CHUNK;
    private static final int SUB = GtaKernel.SUB;

    private LinearKernel() {
    }

    static LinearResult run(LinearPass pass) {
        List<Tensor> inputs = pass.inputs();
        long n = pass.out().elementCount();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        boolean[] nonFinite = new boolean[inputs.size()];
        long nonFiniteOut = 0;
        for (Worker w : ChunkRunner.run(chunks, i -> new Worker(pass, n))) {
            for (int j = 0; j < nonFinite.length; j++) nonFinite[j] |= w.nonFinite[j];
            nonFiniteOut += w.nonFiniteOut;
        }
        if (!pass.allowNonfinite()) {
            for (int j = 0; j < nonFinite.length; j++) {
                if (nonFinite[j]) return new LinearResult(j, 0);
            }
        }
        return new LinearResult(-1, nonFiniteOut);
    }

    private static final class Worker implements ChunkRunner.Worker {
        private final LinearPass pass;
        private final long n;
        private final Tensor[] inputs;
        private final float[] acc = new float[SUB];
        private final float[] x = new float[SUB];
        private final short[] raw = new short[SUB];
        private final boolean[] nonFinite;
        private long nonFiniteOut;

        Worker(LinearPass pass, long n) {
            this.pass = pass;
            this.n = n;
            this.inputs = pass.inputs().toArray(new Tensor[0]);
            this.nonFinite = new boolean[inputs.length];
        }

        @Override
        public void run(int c) {
            long chunkStart = (long) c * CHUNK;
            int chunkLen = (int) Math.min(CHUNK, n - chunkStart);
            float divisor = pass.divisor();
            for (int s = 0; s < chunkLen; s += SUB) {
                int len = Math.min(SUB, chunkLen - s);
                long start = chunkStart + s;
                java.util.Arrays.fill(acc, 0f);
                for (int j = 0; j < inputs.length; j++) {
                    StorageCodec.load(inputs[j], start, len, x, raw);
                    if (!pass.allowNonfinite() && !nonFinite[j] && StorageCodec.anyNonFinite(x, len)) nonFinite[j] = true;
                    float w = pass.weights()[j];
                    for (int i = 0; i < len; i += L) {
                        FloatVector.fromArray(F, acc, i).add(FloatVector.fromArray(F, x, i).mul(w)).intoArray(acc, i);
                    }
                }
                for (int i = 0; i < len; i += L) FloatVector.fromArray(F, acc, i).div(divisor).intoArray(acc, i);
                nonFiniteOut += StorageCodec.store(pass.out(), start, len, acc, raw);
            }
        }
    }
}

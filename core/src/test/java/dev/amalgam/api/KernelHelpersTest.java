package dev.amalgam.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.ReferenceKernels;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.lora.LoraFactors;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The kernel helpers: the mask of a selection, precomputed task vectors, LoRA factors in memory. */
class KernelHelpersTest {

    private static Tensor tensor(Arena arena, long n, DType dtype) {
        return new Tensor(new TensorInfo("model.layers.0.w", dtype, new long[] {n}), arena.allocate(n * dtype.byteSize()));
    }

    /** The mask agrees with what the reference trim keeps, ties at the threshold included (values on a coarse grid). */
    @Test
    void theMaskIsWhatTheTrimKeeps() {
        ReferenceKernels ref = new ReferenceKernels();
        SplittableRandom rnd = new SplittableRandom(3);
        try (Arena arena = Arena.ofShared()) {
            for (long n : new long[] {1, 2, 17, 1009, 4099}) {
                Tensor tau = tensor(arena, n, DType.F32);
                for (long i = 0; i < n; i++) tau.setFloat(i, (rnd.nextInt(9) - 4) * 0.25f + (rnd.nextInt(3) == 0 ? -0.0f : 0f));
                DeltaSource delta = DeltaSource.ofTaskVector(tau, arena);
                for (long k : new long[] {0, 1, n / 3, n - 1, n}) {
                    MagnitudeThreshold t = ref.selectLargest(List.of(delta), k);
                    BitSet mask = t.mask(List.of(delta));
                    assertEquals(Math.min(k, n), mask.cardinality(), "n=" + n + " k=" + k);
                    Tensor out = tensor(arena, n, DType.F32);
                    ref.gta(new GtaPass("model.layers.0.w", delta.base(), List.of(tau), new int[] {0}, new float[] {1f},
                            new Sparsifier[] {Sparsifier.MagnitudeBand.trim(t)}, RescaleMode.NONE, 0, ConsensusMethod.NONE,
                            false, 1f, out, false));
                    for (int i = 0; i < n; i++) {
                        float expected = mask.get(i) ? tau.getFloat(i) : 0f;
                        assertEquals(expected, out.getFloat(i), 0f, "n=" + n + " k=" + k + " i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void loraFactorsReconstructALowRankDelta() {
        SplittableRandom rnd = new SplittableRandom(9);
        int out = 23, in = 17;
        try (Arena arena = Arena.ofShared()) {
            Tensor base = new Tensor(new TensorInfo("w", DType.BF16, new long[] {out, in}), arena.allocate(2L * out * in));
            Tensor ft = new Tensor(new TensorInfo("w", DType.F32, new long[] {out, in}), arena.allocate(4L * out * in));
            float[] u = new float[out], v = new float[in], u2 = new float[out], v2 = new float[in];
            for (int i = 0; i < out; i++) { u[i] = (float) rnd.nextGaussian(); u2[i] = (float) rnd.nextGaussian(); }
            for (int j = 0; j < in; j++) { v[j] = (float) rnd.nextGaussian(); v2[j] = (float) rnd.nextGaussian(); }
            for (int i = 0; i < out; i++) {
                for (int j = 0; j < in; j++) {
                    base.setFloat((long) i * in + j, (float) rnd.nextGaussian());
                    ft.setFloat((long) i * in + j, base.getFloat((long) i * in + j) + 3 * u[i] * v[j] + u2[i] * v2[j]);
                }
            }
            LoraFactors two = LoraFactors.ofRank(ReferenceSvdKernels.INSTANCE, base, ft, 2);
            assertEquals(2, two.rank());
            assertEquals(1.0, two.retained(), 1e-5);
            FloatMatrix ba = ReferenceSvdKernels.INSTANCE.multiply(two.b(), two.a());
            FloatMatrix delta = FloatMatrix.copyOf(ft);
            FloatMatrix b0 = FloatMatrix.copyOf(base);
            for (int i = 0; i < out * in; i++) assertEquals(delta.data()[i] - b0.data()[i], ba.data()[i], 2e-4f);
            LoraFactors one = LoraFactors.ofRank(ReferenceSvdKernels.INSTANCE, base, ft, 1);
            assertTrue(one.retained() > 0.5 && one.retained() < 1, String.valueOf(one.retained()));
            assertEquals(2, LoraFactors.aboveThreshold(ReferenceSvdKernels.INSTANCE, base, ft, 1e-3, 100).rank());
            assertEquals(0, LoraFactors.ofRank(ReferenceSvdKernels.INSTANCE, base, base, 3).rank());
        }
    }
}

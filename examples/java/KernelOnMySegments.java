import dev.amalgam.Amalgam;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Single kernels on memory you own: the exact top-k magnitude selection of a task vector and
 * its keep mask, then one fused TIES pass over two task vectors, on the backend of this machine.
 * Run: examples/java/run KernelOnMySegments
 */
public class KernelOnMySegments {
    public static void main(String[] args) {
        long n = 10_007;                                          // an awkward size on purpose
        try (Arena arena = Arena.ofShared(); Amalgam amalgam = Amalgam.open()) {
            Tensor base = random("w", n, arena, 1), a = random("w", n, arena, 2), b = random("w", n, arena, 3);
            KernelBackend kernels = amalgam.kernels();

            // The 30% largest |a − base|: a threshold with its tie budget, then the mask it selects.
            long k = 3 * n / 10;
            DeltaSource deltaA = new DeltaSource(base, a), deltaB = new DeltaSource(base, b);
            MagnitudeThreshold keepA = kernels.selectLargest(List.of(deltaA), k);
            BitSet mask = keepA.mask(List.of(deltaA));
            System.out.printf("kept %d of %d elements of a's task vector (k = %d)%n", mask.cardinality(), n, k);
            if (mask.cardinality() != k) throw new IllegalStateException("the mask must keep exactly k elements");

            // TIES on the two task vectors: trim each to 30%, elect signs, disjoint mean, add the base.
            MagnitudeThreshold keepB = kernels.selectLargest(List.of(deltaB), k);
            Tensor out = new Tensor(new TensorInfo("w", DType.F32, new long[] {n}), arena.allocate(4 * n));
            GtaPass ties = new GtaPass("w", base, List.of(a, b), new int[] {0, 1}, new float[] {1f, 1f},
                    new Sparsifier[] {Sparsifier.MagnitudeBand.trim(keepA), Sparsifier.MagnitudeBand.trim(keepB)},
                    RescaleMode.NONE, 0, ConsensusMethod.SUM, true, 1f, out, false);
            GtaResult r = kernels.gta(ties);
            System.out.printf("TIES on %s: %d sign conflicts; out[0..3] = %.4f %.4f %.4f%n", amalgam.backendName(),
                    r.signConflicts(), out.getFloat(0), out.getFloat(1), out.getFloat(2));
        }
    }

    static Tensor random(String name, long n, Arena arena, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        MemorySegment s = arena.allocate(4 * n);
        for (long i = 0; i < n; i++) s.setAtIndex(Tensor.F32_LE, i, (float) rnd.nextGaussian());
        return new Tensor(new TensorInfo(name, DType.F32, new long[] {n}), s);
    }
}

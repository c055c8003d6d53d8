package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.DeltaSource;
import dev.amalgam.kernel.GtaPass;
import dev.amalgam.kernel.GtaResult;
import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.LinearPass;
import dev.amalgam.kernel.LinearResult;
import dev.amalgam.kernel.MagnitudeThreshold;
import java.util.List;

/**
 * The fast CPU backend: {@code jdk.incubator.vector} SIMD on all cores, bit-identical to
 * {@link dev.amalgam.kernel.ReferenceKernels} (§1.10), including L1 sums (both follow
 * {@link dev.amalgam.kernel.BlockedL1Sum}).
 *
 * <p>Implementation notes. Stateless between calls; each call splits its tensor into 64K-element
 * chunks run by {@link ChunkRunner} on a shared daemon fork/join pool. Inputs are read straight
 * from their (usually memory-mapped) segments. Results never depend on the thread count or the
 * schedule: selections are functions of merged histogram counts, trims take ties in flat order
 * through the {@link TieLedger}, reductions combine per-chunk values in chunk order. Scratch is
 * per worker, made once per call. See {@link GtaKernel}, {@link SelectionKernel}, {@link LinearKernel}, {@link GramKernel},
 * {@link CombineKernel}.
 */
public final class FastCpuKernels implements KernelBackend {

    private final TieLedger.Guess guess;

    public FastCpuKernels() {
        this(TieLedger.Guess.ESTIMATE);
    }

    /** With forced tie guesses (tests: every guess is checked and wrong ones recomputed). */
    FastCpuKernels(TieLedger.Guess guess) {
        this.guess = guess;
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public MagnitudeThreshold selectLargest(List<DeltaSource> parts, long k) {
        return SelectionKernel.select(parts, k);
    }

    @Override
    public GtaResult gta(GtaPass pass) {
        return new GtaKernel(pass, guess).run();
    }

    @Override
    public LinearResult linear(LinearPass pass) {
        return LinearKernel.run(pass);
    }

    @Override
    public dev.amalgam.kernel.GramResult gram(dev.amalgam.kernel.GramPass pass) {
        return GramKernel.run(pass);
    }

    @Override
    public LinearResult combine(dev.amalgam.kernel.CombinePass pass) {
        return CombineKernel.run(pass);
    }

    @Override
    public GtaResult della(dev.amalgam.kernel.DellaPass pass) {
        return DellaKernel.run(pass);
    }

    @Override
    public dev.amalgam.kernel.ScePass.Result sce(dev.amalgam.kernel.ScePass pass) {
        return SceKernel.run(pass);
    }

    @Override
    public long[] taskVector(dev.amalgam.kernel.TauPass pass) {
        return TallKernel.tau(pass);
    }

    @Override
    public dev.amalgam.kernel.TallPass.Result tallMasks(dev.amalgam.kernel.TallPass pass) {
        return TallKernel.masks(pass);
    }

    @Override
    public LinearResult nearswap(dev.amalgam.kernel.NearswapPass pass) {
        return ElementwiseKernels.nearswap(pass);
    }

    @Override
    public dev.amalgam.kernel.RamPass.Overlap ramOverlap(dev.amalgam.kernel.RamPass pass) {
        return ElementwiseKernels.ramOverlap(pass);
    }

    @Override
    public LinearResult ram(dev.amalgam.kernel.RamPass pass) {
        return ElementwiseKernels.ram(pass);
    }

    /** Gram-side eigensolver SVDs, vectorized GEMMs, batches spread over the cores. */
    @Override
    public dev.amalgam.kernel.svd.SvdKernels svd() {
        return FastCpuSvdKernels.INSTANCE;
    }

    /** Vector shape and thread count, for logs. */
    public static String describe() {
        return Lanes.describe() + " on " + ChunkRunner.parallelism() + " threads";
    }
}

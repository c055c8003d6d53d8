package dev.amalgam.kernel;

import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.kernel.svd.SvdKernels;
import java.util.List;

/**
 * The kernel SPI: every heavy computation of a merge goes through one of these. Implementations
 * (reference, fast CPU, CUDA) agree bit for bit where the spec says so (§1.10); the reference is
 * the oracle. A backend is used by one merge thread at a time.
 */
public interface KernelBackend extends AutoCloseable {

    /** Short name for logs and reports, e.g. {@code reference}, {@code cpu}, {@code cuda}. */
    String name();

    /**
     * Exact selection of the k largest |δ| over the concatenation of {@code parts} (flat index =
     * position in the concatenation), with the tie rule of §1.6. k ≤ 0 gives
     * {@link MagnitudeThreshold#KEEP_NONE}; k ≥ n gives {@link MagnitudeThreshold#KEEP_ALL}.
     */
    MagnitudeThreshold selectLargest(List<DeltaSource> parts, long k);

    /** The fused task-arithmetic pass for one tensor. */
    GtaResult gta(GtaPass pass);

    /** The {@code linear} merge of one tensor. */
    LinearResult linear(LinearPass pass);

    /**
     * The float64 Gram matrices (dots, squared norms) of the pass's vectors, summed in the
     * {@link BlockedSum} order so that every backend agrees bit for bit. The default runs
     * {@link ReferenceReductions} on the host (what a backend without device reductions does).
     */
    default GramResult gram(GramPass pass) {
        return ReferenceReductions.gram(pass);
    }

    /**
     * A per-vector linear combination (row- or column-wise coefficients); bit for bit the
     * reference's float32 arithmetic. The default runs {@link ReferenceReductions} on the host.
     */
    default LinearResult combine(CombinePass pass) {
        return ReferenceReductions.combine(pass);
    }

    /**
     * {@code della}/{@code della_linear} of one tensor (§8); bit for bit {@link ReferenceDella},
     * which the default runs on the host.
     */
    default GtaResult della(DellaPass pass) {
        return ReferenceDella.run(pass);
    }

    /** {@code sce} of one tensor (§9); bit for bit {@link ReferenceSce}, which the default runs on the host. */
    default ScePass.Result sce(ScePass pass) {
        return ReferenceSce.run(pass);
    }

    /**
     * The unscaled multi-task vector τ_MTL of one tensor (§10 step 1); returns the per-model trim
     * survivors. Bit for bit {@link ReferenceTall#tau}, which the default runs on the host.
     */
    default long[] taskVector(TauPass pass) {
        return ReferenceTall.tau(pass);
    }

    /** The TALL masks and consensus output of one tensor (§10 steps 2–4); default on the host. */
    default TallPass.Result tallMasks(TallPass pass) {
        return ReferenceTall.masks(pass);
    }

    /** {@code nearswap} of one tensor; the default runs {@link ReferenceElementwise} on the host. */
    default LinearResult nearswap(NearswapPass pass) {
        return ReferenceElementwise.nearswap(pass);
    }

    /** The RAM contribution counts of one tensor ({@code ramplus_tl}'s ρ); default on the host. */
    default RamPass.Overlap ramOverlap(RamPass pass) {
        return ReferenceElementwise.ramOverlap(pass);
    }

    /** {@code ram}/{@code ramplus_tl} of one tensor; the default runs {@link ReferenceElementwise} on the host. */
    default LinearResult ram(RamPass pass) {
        return ReferenceElementwise.ram(pass);
    }

    /**
     * The SVD kernels (TSV-M, Iso-C, Iso-CTS, LoRA extraction); the double-precision reference
     * unless the backend has faster ones.
     */
    default SvdKernels svd() {
        return ReferenceSvdKernels.INSTANCE;
    }

    @Override
    default void close() {
    }
}

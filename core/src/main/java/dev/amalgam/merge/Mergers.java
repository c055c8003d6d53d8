package dev.amalgam.merge;

/**
 * Makes the tensor mergers of the interpolation and geometric methods (§12, §16.6, RAM) for the
 * method registry; the classes themselves stay internal to this package.
 */
public final class Mergers {

    private Mergers() {
    }

    public static TensorMerger slerp() {
        return new SlerpMerger();
    }

    public static TensorMerger nuslerp() {
        return new NuSlerpMerger();
    }

    public static TensorMerger multislerp() {
        return new MultiSlerpMerger();
    }

    public static TensorMerger karcher() {
        return new KarcherMerger();
    }

    public static TensorMerger modelStock() {
        return new ModelStockMerger();
    }

    public static TensorMerger nearswap() {
        return new NearswapMerger();
    }

    public static TensorMerger arceeFusion() {
        return new ArceeFusionMerger();
    }

    /** {@code ram}, or {@code ramplus_tl} when {@code plus}. */
    public static TensorMerger ram(boolean plus) {
        return new RamMerger(plus);
    }
}

package dev.amalgam.cuda.internal;

/**
 * Byte layouts of the kernel argument structs and device tables, mirroring the AMALGAM_FIELD /
 * AMALGAM_SIZE lines of {@code kernels-cuda/src/amalgam.cuh} (a host test checks that every
 * offset here equals the one there). Values are little-endian, naturally aligned.
 *
 * <pre>
 *   GtaModel (72 bytes, one per model, device table)
 *   0 model_ptr  8 keep_cutoff  16 exclude_cutoff  24 rescale(double)
 *   32 dtype  36 sparsifier  40 keep_key  44 exclude_key  48 has_exclude  52 rescale_mode
 *   56 model_index  60 keep_bound  64 weight(float)  68 reserved
 * </pre>
 */
public final class KernelLayouts {

    private KernelLayouts() {
    }

    public static final int TILE = 4096;
    public static final int BLOCK = 256;

    public static final int DTYPE_F32 = 0, DTYPE_F16 = 1, DTYPE_BF16 = 2;
    public static final int SPARSIFY_NONE = 0, SPARSIFY_BAND = 1, SPARSIFY_BERNOULLI = 2;
    public static final int RESCALE_NONE = 0, RESCALE_MULTIPLY = 1, RESCALE_DIVIDE = 2;
    public static final int CONSENSUS_NONE = 0, CONSENSUS_SUM = 1, CONSENSUS_COUNT = 2;

    /** The one key of every NaN in the kernels (amalgam.cuh magnitude_key): Java's {@code Float.NaN} key. */
    public static final int NAN_KEY = dev.amalgam.kernel.MagnitudeKey.NAN_KEY;

    /**
     * The magnitude key as the kernels compute it: {@link dev.amalgam.kernel.MagnitudeKey}, whose
     * NaN key is canonical. GPU arithmetic drops NaN payloads, so host and device agree only on
     * canonical NaN keys; every key that crosses between them goes through here.
     */
    public static int deviceKey(float x) {
        return dev.amalgam.kernel.MagnitudeKey.of(x);
    }

    /** {@code key} with a NaN key made {@link #NAN_KEY}. */
    public static int canonicalKey(int key) {
        return key > 0x7F800000 ? NAN_KEY : key;
    }

    public static final class SelectSegment {
        public static final int BASE_PTR = 0, MODEL_PTR = 8, COUNT = 16, BASE_DTYPE = 24, MODEL_DTYPE = 28, SIZE = 32;
    }

    public static final class SelectArgs {
        public static final int SEGMENTS = 0, TILE_STARTS = 8, HISTOGRAM = 16, TOTAL_TILES = 24, SEGMENT_COUNT = 32,
                SHIFT = 36, BITS = 40, PREFIX = 44, SIZE = 48;
    }

    public static final class GtaModel {
        public static final int MODEL_PTR = 0, KEEP_CUTOFF = 8, EXCLUDE_CUTOFF = 16, RESCALE = 24, DTYPE = 32,
                SPARSIFIER = 36, KEEP_KEY = 40, EXCLUDE_KEY = 44, HAS_EXCLUDE = 48, RESCALE_MODE = 52,
                MODEL_INDEX = 56, KEEP_BOUND = 60, WEIGHT = 64, RESERVED = 68, SIZE = 72;
    }

    public static final class GtaStatsArgs {
        public static final int BASE_PTR = 0, MODELS = 8, CHUNK_START = 16, COUNT = 24, TIES_KEEP = 32,
                TIES_EXCLUDE = 40, L1 = 48, NONFINITE = 56, TOTAL_TILES = 64, BASE_DTYPE = 72, MODEL_COUNT = 76,
                MODE = 80, NAME_HASH = 84, SEED_LO = 88, SEED_HI = 92, SIZE = 96;
    }

    public static final class GtaMergeArgs {
        public static final int BASE_PTR = 0, OUT_PTR = 8, MODELS = 16, CHUNK_START = 24, COUNT = 32, COUNTERS = 40,
                BASE_DTYPE = 48, OUT_DTYPE = 52, MODEL_COUNT = 56, CONSENSUS = 60, NORMALIZE = 64, DIVISOR = 68,
                LAMBDA = 72, NAME_HASH = 76, SEED_LO = 80, SEED_HI = 84, SIZE = 88;
    }

    public static final class LinearInput {
        public static final int PTR = 0, DTYPE = 8, WEIGHT = 12, SIZE = 16;
    }

    public static final class LinearArgs {
        public static final int INPUTS = 0, OUT_PTR = 8, COUNT = 16, COUNTERS = 24, INPUT_COUNT = 32, OUT_DTYPE = 36,
                DIVISOR = 40, RESERVED = 44, SIZE = 48;
    }

    public static final class FiniteScanArgs {
        public static final int INPUTS = 0, COUNT = 8, FLAGS = 16, INPUT_COUNT = 24, RESERVED = 28, SIZE = 32;
    }

    /** The kernel dtype code of a storage dtype, or -1 if the kernels cannot read it. */
    public static int dtypeCode(dev.amalgam.tensor.DType dtype) {
        return switch (dtype) {
            case F32 -> DTYPE_F32;
            case F16 -> DTYPE_F16;
            case BF16 -> DTYPE_BF16;
            default -> -1;
        };
    }
}

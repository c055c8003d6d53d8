package dev.amalgam.kernel;

/**
 * The result of selecting the k largest magnitudes: keep every element whose key is greater
 * than {@code key}, plus the first {@code tiesToKeep} elements (in flat-index order) whose key
 * equals it. This applies the tie rule of the spec (lower index counts as larger) exactly
 * without a sort.
 *
 * <pre>
 *   rank(x) &lt; k   ⇔   key(x) &gt; key  ∨  (key(x) = key ∧ #{ties before x} &lt; tiesToKeep)
 * </pre>
 */
public record MagnitudeThreshold(int key, long tiesToKeep) {

    /** Keeps everything (k ≥ n). */
    public static final MagnitudeThreshold KEEP_ALL = new MagnitudeThreshold(0, Long.MAX_VALUE);
    /** Keeps nothing (k = 0). */
    public static final MagnitudeThreshold KEEP_NONE = new MagnitudeThreshold(0x7FFFFFFF, 0);

    public MagnitudeThreshold {
        if (key < 0) throw new IllegalArgumentException("magnitude key is 31-bit: " + key);
        if (tiesToKeep < 0) throw new IllegalArgumentException("tiesToKeep < 0");
    }

    public boolean keepsAll() {
        return key == 0 && tiesToKeep == Long.MAX_VALUE;
    }

    /** The same threshold with a smaller tie budget (what is left of a model-wide budget). */
    public MagnitudeThreshold withTiesToKeep(long ties) {
        return new MagnitudeThreshold(key, ties);
    }
}

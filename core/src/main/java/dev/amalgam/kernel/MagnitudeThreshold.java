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

    /** Checks that the key is 31-bit and the tie budget not negative. */
    public MagnitudeThreshold {
        if (key < 0) throw new IllegalArgumentException("magnitude key is 31-bit: " + key);
        if (tiesToKeep < 0) throw new IllegalArgumentException("tiesToKeep < 0");
    }

    /**
     * Whether this is {@link #KEEP_ALL}.
     *
     * @return true if every element is kept
     */
    public boolean keepsAll() {
        return key == 0 && tiesToKeep == Long.MAX_VALUE;
    }

    /**
     * The keep mask this threshold selects over the concatenation of {@code parts} (the parts
     * it was selected from), with the tie rule applied: bit i is set if flat element i is kept.
     * A convenience for callers of {@link KernelBackend#selectLargest}; one pass on the calling
     * thread.
     *
     * @param parts the task vectors, in the order given to the selection
     * @return the mask, {@code cardinality()} = k (or n for {@link #KEEP_ALL})
     * @throws IllegalArgumentException if the parts hold more than {@code Integer.MAX_VALUE} elements
     */
    public java.util.BitSet mask(java.util.List<DeltaSource> parts) {
        long n = 0;
        for (DeltaSource p : parts) n += p.elementCount();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException(n + " elements do not fit a BitSet");
        java.util.BitSet mask = new java.util.BitSet((int) n);
        long ties = tiesToKeep;
        int flat = 0;
        for (DeltaSource p : parts) {
            for (long i = 0; i < p.elementCount(); i++, flat++) {
                int k = MagnitudeKey.of(p.model().getFloat(i) - p.base().getFloat(i));
                if (keepsAll() || k > key || (k == key && ties-- > 0)) mask.set(flat);
            }
        }
        return mask;
    }

    /** The same threshold with a smaller tie budget (what is left of a model-wide budget). */
    public MagnitudeThreshold withTiesToKeep(long ties) {
        return new MagnitudeThreshold(key, ties);
    }
}

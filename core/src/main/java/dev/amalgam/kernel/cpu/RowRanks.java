package dev.amalgam.kernel.cpu;

/**
 * The row-ranking kernel: the magnitude ranks of one vector (spec §8, 1 = smallest key, equal
 * keys: the higher position ranks lower), by a stable LSD radix sort on the 31-bit
 * {@link dev.amalgam.kernel.MagnitudeKey} in three 11-bit digits. Positions enter in descending
 * order, so stability puts equal keys in descending position, which is exactly the tie rule.
 * Short vectors use an insertion sort of the same order. One instance per worker thread: its
 * buffers grow to the longest vector and are reused.
 */
final class RowRanks {

    private static final int BITS = 11;
    private static final int RADIX = 1 << BITS;
    private static final int SHORT = 48;

    private int[] keyA = new int[0], keyB = new int[0], posA = new int[0], posB = new int[0];
    private final int[] count = new int[RADIX];

    /** Buffer the caller fills with the keys of positions 0..length−1 before {@link #sort}. */
    int[] keys(int length) {
        if (keyA.length < length) {
            keyA = new int[length];
            keyB = new int[length];
            posA = new int[length];
            posB = new int[length];
        }
        return keyB;
    }

    /**
     * Sorts the keys written into {@link #keys}; returns the positions in ascending rank order
     * (entry s has rank s + 1). The returned array is reused by the next call.
     */
    int[] sort(int length) {
        // Load in descending position order.
        for (int s = 0; s < length; s++) {
            int p = length - 1 - s;
            keyA[s] = keyB[p];
            posA[s] = p;
        }
        if (length <= SHORT) {
            for (int s = 1; s < length; s++) {
                int k = keyA[s], p = posA[s], j = s - 1;
                while (j >= 0 && keyA[j] > k) {
                    keyA[j + 1] = keyA[j];
                    posA[j + 1] = posA[j];
                    j--;
                }
                keyA[j + 1] = k;
                posA[j + 1] = p;
            }
            return posA;
        }
        int[] ks = keyA, ps = posA, kd = keyB, pd = posB;
        for (int shift = 0; shift < 31; shift += BITS) {
            java.util.Arrays.fill(count, 0);
            for (int s = 0; s < length; s++) count[(ks[s] >>> shift) & (RADIX - 1)]++;
            if (count[(ks[0] >>> shift) & (RADIX - 1)] == length) continue;  // one digit everywhere
            int sum = 0;
            for (int d = 0; d < RADIX; d++) {
                int c = count[d];
                count[d] = sum;
                sum += c;
            }
            for (int s = 0; s < length; s++) {
                int at = count[(ks[s] >>> shift) & (RADIX - 1)]++;
                kd[at] = ks[s];
                pd[at] = ps[s];
            }
            int[] tk = ks; ks = kd; kd = tk;
            int[] tp = ps; ps = pd; pd = tp;
        }
        return ps;
    }
}

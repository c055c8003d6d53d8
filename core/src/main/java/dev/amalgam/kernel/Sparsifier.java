package dev.amalgam.kernel;

/** How one model's δ is sparsified before weighting (§1.4 step 2). */
public sealed interface Sparsifier {

    /** No sparsification. */
    record None() implements Sparsifier {
    }

    /**
     * Keep ranks in [excluded, kept): {@code keep} selects the ranks below K (trim), and
     * {@code exclude}, if not null, drops the ranks below n_top again (Breadcrumbs outliers).
     */
    record MagnitudeBand(MagnitudeThreshold exclude, MagnitudeThreshold keep) implements Sparsifier {
        /** Checks the two thresholds. */
        public MagnitudeBand {
            if (keep == null) throw new IllegalArgumentException("keep threshold is required");
        }

        /**
         * The magnitude trim: keep the selected largest, exclude nothing.
         *
         * @param keep the selection of the k largest
         * @return the band
         */
        public static MagnitudeBand trim(MagnitudeThreshold keep) {
            return new MagnitudeBand(null, keep);
        }
    }

    /** DARE: keep element i iff its Philox draw is below {@code density} (§1.9). */
    record Bernoulli(double density) implements Sparsifier {
    }

    /** No sparsification: every element is kept. */
    Sparsifier NONE = new None();
}

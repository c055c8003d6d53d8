package dev.amalgam.merge;

import dev.amalgam.kernel.GtaResult;

/** The non-finite checks every GTA-shaped pass result goes through (§1.3). */
final class GtaResults {

    private GtaResults() {
    }

    /** Throws the merge error for a non-finite input or (unless allowed) output. */
    static void check(GtaResult result, PlanEntry entry, MergeContext ctx) {
        if (result.nonFiniteInput() >= 0) {
            MergeInput bad = ctx.input(result.nonFiniteInput());
            throw new MergeException("tensor " + entry.name() + " of model " + bad.label()
                    + " contains NaN or Inf (set parameters.allow_nonfinite: true to merge anyway)");
        }
        if (result.nonFiniteOutputs() > 0 && !ctx.allowNonfinite()) {
            throw new MergeException("tensor " + entry.name() + ": " + result.nonFiniteOutputs()
                    + " output elements are NaN or Inf in " + entry.output().dtype()
                    + " (e.g. float16 overflow); set parameters.allow_nonfinite: true to keep them");
        }
    }
}

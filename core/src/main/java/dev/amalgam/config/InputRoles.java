package dev.amalgam.config;

/**
 * Which models a merge method combines (spec §2 "base model" column and its model counts), and
 * how the planner lays them out.
 *
 * <p>Implementation notes. {@code minOthers}/{@code maxOthers} count the listed models that are
 * not the base. For {@link Layout#BASE_FIRST} the plan's input 0 is the base (when one is set)
 * and the other models follow in model-index order; for {@link Layout#AS_INPUTS} the plan's
 * inputs are {@link MergeConfig#inputs()} (every listed model, plus a set but unlisted base when
 * {@code baseAddedAsInput}). A method with {@code maxOthers} = 1 and no other model listed (only
 * the base) outputs the base, as mergekit's single-input early exits do.
 *
 * @param base             what the method does with {@code base_model}
 * @param baseAddedAsInput a base that is set but not listed becomes an extra input (linear, karcher)
 * @param minOthers        fewest non-base models (0 = a base-only config merges to the base)
 * @param maxOthers        most non-base models, {@link Integer#MAX_VALUE} for any number
 * @param layout           how the planner orders the inputs
 */
public record InputRoles(BaseModelRule base, boolean baseAddedAsInput, int minOthers, int maxOthers, Layout layout) {

    /** Input order of the plan. */
    public enum Layout {
        /** The base (if set) first, then the non-base models: task-vector and base-relative methods. */
        BASE_FIRST,
        /** {@link MergeConfig#inputs()} as they are: methods that treat every model alike. */
        AS_INPUTS
    }

    /** Base required, task models after it, any number of them (the GTA and SVD families). */
    public static InputRoles baseAndTasks() {
        return new InputRoles(BaseModelRule.REQUIRED, false, 0, Integer.MAX_VALUE, Layout.BASE_FIRST);
    }

    /** Base required plus between {@code min} and {@code max} others. */
    public static InputRoles baseAnd(int min, int max) {
        return new InputRoles(BaseModelRule.REQUIRED, false, min, max, Layout.BASE_FIRST);
    }

    /** Every model alike; a set base is an extra input (linear, karcher) or unused. */
    public static InputRoles allModels(boolean baseAddedAsInput) {
        return new InputRoles(BaseModelRule.UNUSED, baseAddedAsInput, 0, Integer.MAX_VALUE, Layout.AS_INPUTS);
    }

    /** An optional base as origin, then {@code min}..{@code max} others. */
    public static InputRoles optionalBase(int min, int max) {
        return new InputRoles(BaseModelRule.OPTIONAL, false, min, max, Layout.BASE_FIRST);
    }

    /** The same roles with another base rule (e.g. passthrough: no base). */
    public InputRoles withBase(BaseModelRule rule) {
        return new InputRoles(rule, baseAddedAsInput, minOthers, maxOthers, layout);
    }

    /**
     * Null if {@code others} non-base models are acceptable, else the reason, e.g.
     * "takes the base plus exactly 1 other model; 3 are listed".
     */
    public String countError(int others) {
        if (others >= minOthers && others <= maxOthers) return null;
        String who = base == BaseModelRule.REQUIRED ? "the base plus " : base == BaseModelRule.OPTIONAL ? "an optional base plus " : "";
        String range = minOthers == maxOthers ? "exactly " + minOthers
                : maxOthers == Integer.MAX_VALUE ? "at least " + minOthers
                : minOthers == 0 ? "at most " + maxOthers
                : minOthers + " to " + maxOthers;
        String noun = base == BaseModelRule.REQUIRED || base == BaseModelRule.OPTIONAL ? " other model" : " model";
        int shown = maxOthers == Integer.MAX_VALUE ? minOthers : maxOthers;
        String plural = shown == 1 ? "" : "s";
        return "takes " + who + range + noun + plural + "; " + others + (others == 1 ? " is" : " are") + " listed";
    }
}

package dev.amalgam.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The method table of spec §2 with the per-method details of §3–§13.
 *
 * <p>Implementation notes: every method also accepts {@code random_seed} (integer, 0) and
 * {@code allow_nonfinite} (false). GTA methods (§1.4) accept {@code int8_mask} (false, no effect),
 * and {@code density}/{@code rescale}/{@code rescale_mode} even without a sparsifier (warning if
 * not default). {@code rescale_mode} choices: {@code l1}, plus {@code inverse_density} for
 * dare_*, {@code inverse_probability} for della*. {@code lines} (LiNeS, §13.3) is declared on
 * methods producing θ0 + Δ but is planned.
 */
public final class MethodRegistry {

    /** The methods Amalgam implements today; the rest of the table is planned. */
    private static final List<String> IMPLEMENTED = List.of(
            "linear", "task_arithmetic", "ties", "dare_linear", "dare_ties", "breadcrumbs", "breadcrumbs_ties",
            "tsv_m", "iso_c", "iso_cts", "passthrough");

    private static final Map<String, MethodSpec> METHODS = build();

    private MethodRegistry() {
    }

    /** The method named {@code name} (exact, case-sensitive), if it is in the table. */
    public static Optional<MethodSpec> find(String name) {
        return Optional.ofNullable(METHODS.get(name));
    }

    /** The method named {@code name}; IllegalArgumentException if unknown. */
    public static MethodSpec get(String name) {
        MethodSpec m = METHODS.get(name);
        if (m == null) throw new IllegalArgumentException("unknown merge_method: " + name);
        return m;
    }

    /** All methods, in table order. */
    public static Collection<MethodSpec> all() {
        return METHODS.values();
    }

    /** All method names, in table order. */
    public static List<String> names() {
        return List.copyOf(METHODS.keySet());
    }

    /** True if some method declares {@code param} (mergekit ignores a parameter its method does not read). */
    public static boolean isKnownParameter(String param) {
        return METHODS.values().stream().anyMatch(m -> m.declares(param));
    }

    /** Every parameter name any method declares. */
    public static java.util.Set<String> knownParameters() {
        java.util.Set<String> out = new java.util.TreeSet<>();
        for (MethodSpec m : METHODS.values()) out.addAll(m.parameters().keySet());
        return out;
    }

    /** Names of the implemented methods, in table order. */
    public static List<String> implementedNames() {
        List<String> out = new ArrayList<>();
        for (MethodSpec m : METHODS.values()) if (m.implemented()) out.add(m.name());
        return out;
    }

    // ---------------------------------------------------------------------------------------

    private static Map<String, MethodSpec> build() {
        Map<String, MethodSpec> t = new LinkedHashMap<>();

        ParamSpec weightReq = ParamSpec.requiredNumber("weight").perModelScope();
        ParamSpec lambda = ParamSpec.number("lambda", 1.0);
        ParamSpec consensus = ParamSpec.choice("consensus_method", "sum", "sum", "count");
        ParamSpec densityScope = ParamSpec.choice("density_scope", "tensor", "tensor", "model").asScalarOnly();
        ParamSpec lines = ParamSpec.mapping("lines").asPlanned();

        add(t, new Def("linear", BaseModelRule.UNUSED).addedAsInput()
                .p(weightReq, ParamSpec.bool("normalize", true)));
        add(t, new Def("task_arithmetic", BaseModelRule.REQUIRED).gta()
                .p(weightReq, ParamSpec.bool("normalize", false), lambda)
                .noSparsifier().p(lines));
        add(t, new Def("ties", BaseModelRule.REQUIRED).gta()
                .p(weightReq, density(1.0), ParamSpec.bool("normalize", true), ParamSpec.bool("rescale", false),
                        lambda, consensus, densityScope)
                .rescaleModes().p(lines));
        for (String name : List.of("dare_linear", "dare_ties")) {
            Def d = new Def(name, BaseModelRule.REQUIRED).gta()
                    .p(weightReq, density(1.0), ParamSpec.bool("normalize", false), ParamSpec.bool("rescale", true), lambda);
            if (name.equals("dare_ties")) d.p(consensus);
            add(t, d.rescaleModes("inverse_density").p(lines));
        }
        for (String name : List.of("breadcrumbs", "breadcrumbs_ties")) {
            Def d = new Def(name, BaseModelRule.REQUIRED).gta()
                    .p(weightReq, density(1.0), ParamSpec.number("gamma", 0.01).perModelScope().asFraction(),
                            ParamSpec.bool("normalize", false), ParamSpec.bool("rescale", false), lambda);
            if (name.equals("breadcrumbs_ties")) d.p(consensus);
            add(t, d.rescaleModes().p(lines));
        }
        for (String name : List.of("della", "della_linear")) {
            boolean elects = name.equals("della");
            Def d = new Def(name, BaseModelRule.REQUIRED).gta()
                    .p(weightReq, density(1.0), ParamSpec.number("epsilon", 0.15).perModelScope(),
                            ParamSpec.bool("normalize", elects), ParamSpec.bool("rescale", true), lambda);
            if (elects) d.p(consensus);
            add(t, d.rescaleModes("inverse_probability").p(lines));
        }
        add(t, new Def("sce", BaseModelRule.REQUIRED)
                .p(ParamSpec.number("select_topk", 1.0), lines));

        Map<String, String> consensusRenames = Map.of(
                "lambda", "Amalgam's consensus methods replace mergekit's `lambda`: use `alpha` for the global "
                        + "scale and `lambda_tall` for the per-model TALL-mask threshold",
                "k", "Amalgam's consensus methods replace mergekit's `k`: use `consensus_k` (default 2)");
        Def cta = new Def("consensus_ta", BaseModelRule.REQUIRED).gta()
                .p(ParamSpec.number("weight", 1.0).perModelScope(), lambdaTall(), ParamSpec.integer("consensus_k", 2),
                        ParamSpec.number("alpha", 1.0), ParamSpec.bool("normalize", false))
                .noSparsifier().p(lines);
        cta.rejected.putAll(consensusRenames);
        add(t, cta);
        Def cties = new Def("consensus_ties", BaseModelRule.REQUIRED).gta()
                .p(ParamSpec.number("weight", 1.0).perModelScope(), lambdaTall(), ParamSpec.integer("consensus_k", 2),
                        ParamSpec.number("alpha", 1.0), ParamSpec.bool("normalize", false),
                        density(0.2), densityScope, consensus, ParamSpec.bool("rescale", false))
                .rescaleModes().p(lines);
        cties.rejected.putAll(consensusRenames);
        add(t, cties);

        add(t, new Def("tsv_m", BaseModelRule.REQUIRED)
                .p(ParamSpec.number("alpha", 1.0), ParamSpec.stringList("exclude"), lines));
        add(t, new Def("iso_c", BaseModelRule.REQUIRED)
                .p(ParamSpec.number("alpha", 1.0), ParamSpec.stringList("exclude"), lines));
        add(t, new Def("iso_cts", BaseModelRule.REQUIRED)
                .p(ParamSpec.number("alpha", 1.0), ParamSpec.stringList("exclude"),
                        ParamSpec.number("common_space_fraction", 0.8).asFraction(), lines));
        add(t, new Def("slerp", BaseModelRule.REQUIRED).p(ParamSpec.requiredNumber("t")));
        add(t, new Def("nuslerp", BaseModelRule.OPTIONAL)
                .p(weightReq, ParamSpec.bool("nuslerp_flatten", true), ParamSpec.bool("nuslerp_row_wise", false)));
        add(t, new Def("multislerp", BaseModelRule.OPTIONAL)
                .p(weightReq, ParamSpec.bool("normalize_weights", true), ParamSpec.number("eps", 1e-8)));
        add(t, new Def("karcher", BaseModelRule.UNUSED).addedAsInput()
                .p(ParamSpec.integer("max_iter", 10), ParamSpec.number("tol", 1e-5)));
        add(t, new Def("model_stock", BaseModelRule.REQUIRED).p(ParamSpec.bool("filter_wise", false)));
        add(t, new Def("nearswap", BaseModelRule.REQUIRED).p(ParamSpec.requiredNumber("t")));
        add(t, new Def("passthrough", BaseModelRule.NONE).p(ParamSpec.optionalNumber("scale").perModelScope()));

        add(t, new Def("fisher", BaseModelRule.UNUSED).later()
                .p(ParamSpec.number("weight", 1.0).perModelScope(), ParamSpec.requiredString("fisher_file").perModelScope(),
                        ParamSpec.number("fisher_floor", 1e-6), ParamSpec.bool("normalize_fisher", true)));
        add(t, new Def("regmean", BaseModelRule.UNUSED).later()
                .p(ParamSpec.requiredString("gram_file").perModelScope(), ParamSpec.number("alpha", 1.0)));
        add(t, new Def("pcb", BaseModelRule.REQUIRED).later()
                .p(ParamSpec.number("pcb_ratio", 0.1), ParamSpec.number("clip_ratio", 1e-4), lambda, lines));
        add(t, new Def("widen", BaseModelRule.REQUIRED).later()
                .p(ParamSpec.number("above_average_ratio", 1.0), ParamSpec.number("calibration_value", 1.0), lines));
        return t;
    }

    private static ParamSpec density(double def) {
        return ParamSpec.number("density", def).perModelScope().asFraction();
    }

    private static ParamSpec lambdaTall() {
        return ParamSpec.number("lambda_tall", 0.4).perModelScope();
    }

    private static void add(Map<String, MethodSpec> t, Def d) {
        Map<String, ParamSpec> params = new LinkedHashMap<>(d.params);
        params.put("random_seed", ParamSpec.integer("random_seed", 0));
        params.put("allow_nonfinite", ParamSpec.bool("allow_nonfinite", false));
        if (d.gta) params.put("int8_mask", ParamSpec.bool("int8_mask", false));
        t.put(d.name, new MethodSpec(d.name, d.base, d.addedAsInput, d.gta, IMPLEMENTED.contains(d.name),
                d.later, params, d.rejected));
    }

    /** Mutable builder for one table row. */
    private static final class Def {
        final String name;
        final BaseModelRule base;
        final Map<String, ParamSpec> params = new LinkedHashMap<>();
        final Map<String, String> rejected = new LinkedHashMap<>();
        boolean addedAsInput;
        boolean gta;
        boolean later;

        Def(String name, BaseModelRule base) {
            this.name = name;
            this.base = base;
        }

        Def addedAsInput() {
            addedAsInput = true;
            return this;
        }

        Def gta() {
            gta = true;
            return this;
        }

        Def later() {
            later = true;
            return this;
        }

        Def p(ParamSpec... specs) {
            for (ParamSpec s : specs) params.put(s.name(), s);
            return this;
        }

        /** rescale_mode: l1 plus the method's own modes; only meaningful with rescale. */
        Def rescaleModes(String... extra) {
            String[] choices = new String[extra.length + 1];
            choices[0] = "l1";
            System.arraycopy(extra, 0, choices, 1, extra.length);
            return p(ParamSpec.choice("rescale_mode", "l1", choices).asScalarOnly());
        }

        /** §1.4: GTA methods without a sparsifier still accept density/rescale (warning if not default). */
        Def noSparsifier() {
            p(ParamSpec.number("density", 1.0).perModelScope().asFraction().asInert(),
                    ParamSpec.bool("rescale", false).asInert(),
                    ParamSpec.choice("rescale_mode", "l1", "l1").asScalarOnly().asInert());
            return this;
        }
    }
}

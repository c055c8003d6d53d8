package dev.amalgam.config;

import dev.amalgam.merge.LiteratureMergers;
import dev.amalgam.merge.Mergers;
import dev.amalgam.merge.GtaMerger;
import dev.amalgam.merge.LinearMerger;
import dev.amalgam.merge.PassthroughMerger;
import dev.amalgam.merge.ShapePolicy;
import dev.amalgam.merge.SparsifierKind;
import dev.amalgam.merge.SvdMerger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.IntUnaryOperator;

/**
 * The method table of spec §2 with the per-method details of §3–§13: one {@link MethodSpec} per
 * method, and the only place that knows a method by its name (mergekit's
 * {@code merge_methods/registry.py} is the precedent).
 *
 * <p>Implementation notes: every method also accepts {@code random_seed} (integer, 0) and
 * {@code allow_nonfinite} (false). GTA methods (§1.4) accept {@code density}/{@code rescale}/
 * {@code rescale_mode} even without a sparsifier (warning if not default). {@code rescale_mode}
 * choices: {@code l1}, plus {@code inverse_density} for dare_*, {@code inverse_probability} for
 * della*. {@code lines} (LiNeS, §13.3) is declared on methods producing θ0 + Δ (merge.Lines).
 * Parameters mergekit accepts and ignores ({@code int8_mask} everywhere, a leftover per-model
 * {@code density} on methods without a sparsifier, per-model {@code weight} on methods that take
 * no weights) are declared as {@link ParamSpec#ignored() ignored}: setting them is a warning
 * that names them, not an error. A method is implemented exactly when its row has a merger.
 */
public final class MethodRegistry {

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

    /** Names of the implemented methods, in table order. */
    public static List<String> implementedNames() {
        List<String> out = new ArrayList<>();
        for (MethodSpec m : METHODS.values()) if (m.implemented()) out.add(m.name());
        return out;
    }

    /** Every parameter name some method declares (for "did you mean" suggestions), sorted. */
    public static Set<String> allParameterNames() {
        Set<String> out = new java.util.TreeSet<>();
        for (MethodSpec m : METHODS.values()) out.addAll(m.parameters().keySet());
        return out;
    }

    // ---------------------------------------------------------------------------------------

    private static final String NO_WEIGHTS = "this method takes no per-model weights (mergekit ignores `weight` here)";
    private static final String NO_SPARSIFIER = "this method has no sparsifier (mergekit ignores a leftover `density`)";
    private static final String INT8_MASK = "mergekit's int8 storage of masks; results are the same without it";

    private static Map<String, MethodSpec> build() {
        Map<String, MethodSpec> t = new LinkedHashMap<>();

        ParamSpec weightReq = ParamSpec.requiredNumber("weight").perModelScope();
        ParamSpec lambda = ParamSpec.number("lambda", 1.0);
        ParamSpec consensus = ParamSpec.choice("consensus_method", "sum", "sum", "count");
        ParamSpec densityScope = ParamSpec.choice("density_scope", "tensor", "tensor", "model").asScalarOnly();
        ParamSpec lines = ParamSpec.mapping("lines");

        add(t, new Def("linear", InputRoles.allModels(true), ShapePolicy.CROP_TO_COMMON)
                .merger(m -> new LinearMerger())
                .p(weightReq, ParamSpec.bool("normalize", true)).noDensity());
        add(t, gta("task_arithmetic", SparsifierKind.NONE)
                .p(weightReq, ParamSpec.bool("normalize", false), lambda)
                .noSparsifier().p(lines));
        add(t, gta("ties", SparsifierKind.MAGNITUDE)
                .p(weightReq, density(1.0), ParamSpec.bool("normalize", true), ParamSpec.bool("rescale", false),
                        lambda, consensus, densityScope)
                .rescaleModes().p(lines));
        for (String name : List.of("dare_linear", "dare_ties")) {
            Def d = gta(name, SparsifierKind.BERNOULLI)
                    .p(weightReq, density(1.0), ParamSpec.bool("normalize", false), ParamSpec.bool("rescale", true), lambda);
            if (name.equals("dare_ties")) d.p(consensus);
            add(t, d.rescaleModes("inverse_density").p(lines));
        }
        for (String name : List.of("breadcrumbs", "breadcrumbs_ties")) {
            Def d = gta(name, SparsifierKind.BAND)
                    .p(weightReq, density(1.0), ParamSpec.number("gamma", 0.01).perModelScope().asFraction(),
                            ParamSpec.bool("normalize", false), ParamSpec.bool("rescale", false), lambda);
            if (name.equals("breadcrumbs_ties")) d.p(consensus);
            add(t, d.rescaleModes().p(lines));
        }
        for (String name : List.of("della", "della_linear")) {
            boolean elects = name.equals("della");
            Def d = gta(name, null).merger(LiteratureMergers::della)
                    .p(weightReq, density(1.0), ParamSpec.number("epsilon", 0.15).perModelScope(),
                            ParamSpec.bool("normalize", elects), ParamSpec.bool("rescale", true), lambda);
            if (elects) d.p(consensus);
            add(t, d.rescaleModes("inverse_probability").p(lines));
        }
        add(t, new Def("sce", InputRoles.baseAndTasks(), ShapePolicy.CROP_TO_BASE).merger(LiteratureMergers::sce)
                .p(ParamSpec.number("select_topk", 1.0), lines).noWeights().noDensity());

        Map<String, String> consensusRenames = Map.of(
                "lambda", "Amalgam's consensus methods replace mergekit's `lambda`: use `alpha` for the global "
                        + "scale and `lambda_tall` for the per-model TALL-mask threshold",
                "k", "Amalgam's consensus methods replace mergekit's `k`: use `consensus_k` (default 2)");
        Def cta = gta("consensus_ta", null).merger(LiteratureMergers::consensus)
                .p(ParamSpec.number("weight", 1.0).perModelScope(), lambdaTall(), ParamSpec.integer("consensus_k", 2),
                        ParamSpec.number("alpha", 1.0), ParamSpec.bool("normalize", false))
                .noSparsifier().p(lines);
        cta.rejected.putAll(consensusRenames);
        add(t, cta);
        Def cties = gta("consensus_ties", null).merger(LiteratureMergers::consensus)
                .p(ParamSpec.number("weight", 1.0).perModelScope(), lambdaTall(), ParamSpec.integer("consensus_k", 2),
                        ParamSpec.number("alpha", 1.0), ParamSpec.bool("normalize", false),
                        density(0.2), densityScope, consensus, ParamSpec.bool("rescale", false))
                .rescaleModes().p(lines);
        cties.rejected.putAll(consensusRenames);
        add(t, cties);

        add(t, svd("tsv_m", SvdMerger.Kind.TSV_M)
                .p(ParamSpec.number("alpha", 1.0), ParamSpec.stringList("exclude"), lines));
        add(t, svd("iso_c", SvdMerger.Kind.ISO_C)
                .p(ParamSpec.number("alpha", 1.0), ParamSpec.stringList("exclude"), lines));
        add(t, svd("iso_cts", SvdMerger.Kind.ISO_CTS)
                .p(ParamSpec.number("alpha", 1.0), ParamSpec.stringList("exclude"),
                        ParamSpec.number("common_space_fraction", 0.8).asFraction(), lines));
        add(t, new Def("slerp", InputRoles.baseAnd(0, 1), ShapePolicy.CROP_TO_COMMON).merger(m -> Mergers.slerp())
                .p(ParamSpec.requiredNumber("t")).noWeights().noDensity());
        add(t, new Def("nuslerp", InputRoles.optionalBase(2, 2), ShapePolicy.CROP_TO_COMMON).merger(m -> Mergers.nuslerp())
                .p(weightReq, ParamSpec.bool("nuslerp_flatten", true), ParamSpec.bool("nuslerp_row_wise", false))
                .noDensity());
        add(t, new Def("multislerp", InputRoles.optionalBase(1, Integer.MAX_VALUE), ShapePolicy.EXACT)
                .merger(m -> Mergers.multislerp())
                .p(weightReq, ParamSpec.bool("normalize_weights", true), ParamSpec.number("eps", 1e-8)).noDensity());
        add(t, new Def("karcher", InputRoles.allModels(true), ShapePolicy.EXACT).merger(m -> Mergers.karcher())
                .p(ParamSpec.integer("max_iter", 10), ParamSpec.number("tol", 1e-5)).noWeights().noDensity());
        add(t, new Def("model_stock", InputRoles.baseAnd(2, Integer.MAX_VALUE), ShapePolicy.CROP_TO_COMMON)
                .merger(m -> Mergers.modelStock())
                .p(ParamSpec.bool("filter_wise", false)).noWeights().noDensity());
        add(t, new Def("nearswap", InputRoles.baseAnd(1, 1), ShapePolicy.EXACT).merger(m -> Mergers.nearswap())
                .p(ParamSpec.requiredNumber("t")).noWeights().noDensity());
        add(t, new Def("passthrough", new InputRoles(BaseModelRule.NONE, false, 1, 1, InputRoles.Layout.AS_INPUTS),
                ShapePolicy.EXACT).merger(m -> new PassthroughMerger())
                .p(ParamSpec.optionalNumber("scale").perModelScope()).noWeights().noDensity());
        add(t, new Def("arcee_fusion", InputRoles.baseAnd(0, 1), ShapePolicy.EXACT).merger(m -> Mergers.arceeFusion())
                .scratch(n -> 2).noWeights().noDensity());
        add(t, new Def("ram", InputRoles.baseAndTasks(), ShapePolicy.EXACT).merger(m -> Mergers.ram(false))
                .p(ParamSpec.number("epsilon", 1e-5)).noWeights().noDensity());
        add(t, new Def("ramplus_tl", InputRoles.baseAndTasks(), ShapePolicy.EXACT).merger(m -> Mergers.ram(true))
                .p(ParamSpec.number("epsilon", 1e-5), ParamSpec.number("r", 0.1), ParamSpec.number("alpha", 0.2))
                .noWeights().noDensity());

        add(t, new Def("fisher", InputRoles.allModels(false), ShapePolicy.EXACT).later()
                .p(ParamSpec.number("weight", 1.0).perModelScope(), ParamSpec.requiredString("fisher_file").perModelScope(),
                        ParamSpec.number("fisher_floor", 1e-6), ParamSpec.bool("normalize_fisher", true)));
        add(t, new Def("regmean", InputRoles.allModels(false), ShapePolicy.EXACT).later()
                .p(ParamSpec.requiredString("gram_file").perModelScope(), ParamSpec.number("alpha", 1.0)));
        add(t, new Def("pcb", InputRoles.baseAndTasks(), ShapePolicy.EXACT).later()
                .p(ParamSpec.number("pcb_ratio", 0.1), ParamSpec.number("clip_ratio", 1e-4), lambda, lines));
        add(t, new Def("widen", InputRoles.baseAndTasks(), ShapePolicy.EXACT).later()
                .p(ParamSpec.number("above_average_ratio", 1.0), ParamSpec.number("calibration_value", 1.0), lines));
        return t;
    }

    /** A GTA row (§1.4): base first, larger embeddings cropped to the base; planned if {@code sparsifier} is null. */
    private static Def gta(String name, SparsifierKind sparsifier) {
        Def d = new Def(name, InputRoles.baseAndTasks(), ShapePolicy.CROP_TO_BASE).gta().scratch(n -> n - 1);
        if (sparsifier != null) d.merger(m -> new GtaMerger(m, sparsifier));
        return d;
    }

    /** An SVD row (§11): base first, shapes must match, one float32 τ per task model. */
    private static Def svd(String name, SvdMerger.Kind kind) {
        return new Def(name, InputRoles.baseAndTasks(), ShapePolicy.EXACT).scratch(n -> n - 1)
                .merger(m -> new SvdMerger(kind));
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
        params.putIfAbsent("int8_mask", ParamSpec.bool("int8_mask", false).asIgnored(INT8_MASK));
        t.put(d.name, new MethodSpec(d.name, d.roles, d.shapePolicy, d.gta, d.later, params, d.rejected,
                d.scratch, d.merger));
    }

    /** Mutable builder for one table row. */
    private static final class Def {
        final String name;
        final InputRoles roles;
        final ShapePolicy shapePolicy;
        final Map<String, ParamSpec> params = new LinkedHashMap<>();
        final Map<String, String> rejected = new LinkedHashMap<>();
        boolean gta;
        boolean later;
        IntUnaryOperator scratch = n -> 0;
        MethodSpec.MergerFactory merger;

        Def(String name, InputRoles roles, ShapePolicy shapePolicy) {
            this.name = name;
            this.roles = roles;
            this.shapePolicy = shapePolicy;
        }

        Def merger(MethodSpec.MergerFactory factory) {
            merger = factory;
            return this;
        }

        Def scratch(IntUnaryOperator tensors) {
            scratch = tensors;
            return this;
        }

        /** mergekit accepts a per-model {@code weight} here and ignores it. */
        Def noWeights() {
            return p(ParamSpec.number("weight", 1.0).perModelScope().asIgnored(NO_WEIGHTS));
        }

        /** mergekit accepts a leftover per-model {@code density} here and ignores it. */
        Def noDensity() {
            return p(ParamSpec.number("density", 1.0).perModelScope().asIgnored(NO_SPARSIFIER));
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

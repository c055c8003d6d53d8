package dev.amalgam.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The bundled examples ({@code examples/*.yaml} and {@code examples/family/}) of the repository. */
final class ExampleFiles {

    private ExampleFiles() {
    }

    /** The repository root: the first folder upwards from the working directory that holds {@code examples/family}. */
    static Path repositoryRoot() {
        Path dir = Path.of(System.getProperty("user.dir")).toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("examples").resolve("family")) && Files.exists(d.resolve("pom.xml"))) return d;
        }
        throw new IllegalStateException("no examples/family above " + dir);
    }

    static Path examples() {
        return repositoryRoot().resolve("examples");
    }

    /** The names of every {@code examples/*.yaml}, sorted. */
    static List<String> configNames() {
        try (Stream<Path> s = Files.list(examples())) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** SVD methods (§11) agree across backends only within a tolerance, so the bit-exact oracle leaves them out. */
    static final List<String> SVD_METHODS = List.of("tsv_m.yaml", "iso_c.yaml", "iso_cts.yaml");

    /** Interpolation, geometric and RAM methods: checked by {@code OracleFreeExamplesTest}, not the naive oracle. */
    static final List<String> INTERPOLATION_METHODS = List.of("slerp.yaml", "nuslerp.yaml", "multislerp.yaml", "karcher.yaml",
            "model_stock.yaml", "nearswap.yaml", "arcee_fusion.yaml", "ram.yaml", "ramplus_tl.yaml");

    /** DELLA, SCE, TALL-mask consensus: checked by {@code OracleFreeExamplesTest}, not the naive oracle. */
    static final List<String> LITERATURE_METHODS = List.of("della.yaml", "della_linear.yaml", "sce.yaml", "consensus_ta.yaml",
            "consensus_ties.yaml");

    /** The example configs the naive element-wise oracle covers. */
    static List<String> oracleConfigNames() {
        return configNames().stream().filter(n -> !SVD_METHODS.contains(n) && !INTERPOLATION_METHODS.contains(n)
                && !LITERATURE_METHODS.contains(n)).toList();
    }

    /** The example configs of SVD methods. */
    static List<String> svdConfigNames() {
        return configNames().stream().filter(SVD_METHODS::contains).toList();
    }

    /** Copies the examples folder (configs and family) into {@code into}; configs refer to the family relatively. */
    static Path copyTo(Path into) throws IOException {
        Path from = examples();
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path dst = into.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(dst);
                else Files.copy(p, dst);
            }
        }
        return into;
    }
}

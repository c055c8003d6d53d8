package dev.amalgam.config;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parses YAML snippets against a fixed directory and checks error messages. */
final class ConfigFixtures {

    static final Path DIR = Path.of("/configs/run").toAbsolutePath();

    private ConfigFixtures() {
    }

    static MergeConfig parse(String yaml) {
        return MergeConfig.parse(yaml, DIR, "test.yaml");
    }

    /** Asserts the YAML is rejected and the message names every fragment given (key paths, choices). */
    static ConfigException assertRejected(String yaml, String... fragments) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("test.yaml: "), () -> "message lacks the source: " + msg);
        for (String f : fragments) {
            assertTrue(msg.contains(f), () -> "message lacks `" + f + "`: " + msg);
        }
        return e;
    }

    /** A valid ties config over base + two models; {@code extra} is appended verbatim. */
    static String ties(String extra) {
        return """
                merge_method: ties
                base_model: base
                models:
                  - model: base
                  - model: a
                    parameters: {weight: 0.5, density: 0.3}
                  - model: b
                    parameters: {weight: 0.5}
                """ + extra;
    }
}

package dev.amalgam.source.hub;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where the Hugging Face cache is and how the Hub is reached, from the variables
 * {@code huggingface_hub} reads: {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else
 * {@code ~/.cache/huggingface/hub}; {@code HF_ENDPOINT} (default {@code https://huggingface.co});
 * {@code HF_TOKEN}, else the token file ({@code HF_TOKEN_PATH}, else {@code HF_HOME/token});
 * {@code HF_HUB_OFFLINE=1}. A JVM system property of the same name overrides the
 * environment variable (how tests and the CLI's {@code --offline} set them).
 *
 * @param cacheRoot the hub cache folder
 * @param endpoint  the Hub's base URL, no trailing slash
 * @param token     the access token, if any
 * @param offline   never touch the network
 */
public record HubSettings(Path cacheRoot, String endpoint, Optional<String> token, boolean offline) {

    /** The CLI's {@code --offline} sets this system property to {@code 1}. */
    public static final String OFFLINE = "HF_HUB_OFFLINE";

    /** @return the settings of this process (system properties over the environment) */
    public static HubSettings current() {
        return from(name -> {
            String p = System.getProperty(name);
            return p != null ? p : System.getenv(name);
        });
    }

    /** @return settings from a fixed map of variables (tests) */
    public static HubSettings of(Map<String, String> vars) {
        return from(vars::get);
    }

    private static HubSettings from(UnaryOperator<String> var) {
        String home = nonBlank(var.apply("HF_HOME"));
        Path hfHome = home != null ? Path.of(home) : Path.of(System.getProperty("user.home"), ".cache", "huggingface");
        String cache = nonBlank(var.apply("HF_HUB_CACHE"));
        Path root = cache != null ? Path.of(cache) : hfHome.resolve("hub");
        String endpoint = nonBlank(var.apply("HF_ENDPOINT"));
        endpoint = endpoint == null ? "https://huggingface.co" : endpoint.replaceAll("/+$", "");
        String token = nonBlank(var.apply("HF_TOKEN"));
        if (token == null) {
            String tokenPath = nonBlank(var.apply("HF_TOKEN_PATH"));
            Path file = tokenPath != null ? Path.of(tokenPath) : hfHome.resolve("token");
            try {
                if (Files.isRegularFile(file)) token = nonBlank(Files.readString(file).strip());
            } catch (IOException ignored) {
                // an unreadable token file is the same as none: public repositories still work
            }
        }
        String off = nonBlank(var.apply(OFFLINE));
        boolean offline = off != null && (off.equals("1") || off.equalsIgnoreCase("true") || off.equalsIgnoreCase("yes")
                || off.equalsIgnoreCase("on"));
        return new HubSettings(root.toAbsolutePath(), endpoint, Optional.ofNullable(token), offline);
    }

    private static String nonBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}

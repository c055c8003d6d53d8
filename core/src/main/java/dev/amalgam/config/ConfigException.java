package dev.amalgam.config;

/**
 * An invalid merge configuration. The message always starts with the config source (file
 * name) and the YAML key path, e.g. {@code merge.yaml: models[1].parameters.weight: ...}.
 */
public final class ConfigException extends dev.amalgam.AmalgamException {

    private static final long serialVersionUID = 1L;

    private final String keyPath;

    public ConfigException(String source, String keyPath, String message) {
        super(format(source, keyPath, message));
        this.keyPath = keyPath;
    }

    public ConfigException(String source, String keyPath, String message, Throwable cause) {
        super(format(source, keyPath, message), cause);
        this.keyPath = keyPath;
    }

    /** The YAML key path the error is about, e.g. {@code models[1].parameters.weight}; "" for the whole file. */
    public String keyPath() {
        return keyPath;
    }

    private static String format(String source, String keyPath, String message) {
        StringBuilder sb = new StringBuilder();
        if (source != null && !source.isEmpty()) sb.append(source).append(": ");
        if (keyPath != null && !keyPath.isEmpty()) sb.append(keyPath).append(": ");
        return sb.append(message).toString();
    }
}

package dev.amalgam.source;

import dev.amalgam.source.hub.HubCache;
import dev.amalgam.source.hub.HubId;
import dev.amalgam.source.hub.HubSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where a config's model value points (spec §16.4): {@code PATH} or {@code MODEL+ADAPTER},
 * each part a folder relative to the config's folder, else to the current directory, else a
 * Hugging Face Hub id ({@code org/name[@revision]}) taken from the cache or downloaded when
 * the merge opens it. Resolving touches no network.
 *
 * <p>Thread-safety: stateless.
 */
public final class ModelResolver {

    /** One part of a model value: a local folder, or a hub id to look up when opened. */
    public record Location(String written, Path local, Optional<HubId> hub) {
        /** Whether the local path exists (then the hub id is not used). */
        public boolean existsLocally() {
            return Files.exists(local);
        }

        @Override
        public String toString() {
            return written;
        }
    }

    /**
     * A resolved model value.
     *
     * @param written as written in the config
     * @param model   the model part
     * @param adapter the LoRA adapter part, if written {@code MODEL+ADAPTER}
     */
    public record Resolved(String written, Location model, Optional<Location> adapter) {
        /** A key that is equal for two values naming the same input (for duplicate detection). */
        public String identity() {
            return key(model) + adapter.map(a -> "+" + key(a)).orElse("");
        }

        private static String key(Location l) {
            return l.existsLocally() || l.hub().isEmpty() ? l.local().toString() : "hub:" + l.hub().get();
        }
    }

    private ModelResolver() {
    }

    /**
     * @param written a {@code model:} value
     * @param baseDir the config file's folder
     * @return where it points
     */
    public static Resolved resolve(String written, Path baseDir) {
        int plus = written.indexOf('+');
        if (plus > 0 && plus < written.length() - 1 && !Files.exists(baseDir.resolve(written))) {
            return new Resolved(written, location(written.substring(0, plus), baseDir),
                    Optional.of(location(written.substring(plus + 1), baseDir)));
        }
        return new Resolved(written, location(written, baseDir), Optional.empty());
    }

    /** One part: the config folder, then the current directory, then a hub id. */
    public static Location location(String written, Path baseDir) {
        Path inConfigDir = baseDir.resolve(written).toAbsolutePath().normalize();
        Optional<HubId> hub = HubId.parse(written);
        if (Files.exists(inConfigDir)) return new Location(written, inConfigDir, Optional.empty());
        Path inCwd = Path.of(written).toAbsolutePath().normalize();
        if (!Path.of(written).isAbsolute() && Files.exists(inCwd)) return new Location(written, inCwd, Optional.empty());
        if (hub.isPresent()) {
            try { // a cached snapshot is used offline; a damaged one is reported when the merge opens it
                Optional<Path> snap = new HubCache(HubSettings.current().cacheRoot()).snapshot(hub.get());
                if (snap.isPresent()) return new Location(written, snap.get(), hub);
            } catch (IOException ignored) {
                // reported by ModelSources.open
            }
        }
        return new Location(written, inConfigDir, hub);
    }
}

package dev.amalgam.source;

import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.source.ModelResolver.Location;
import dev.amalgam.source.ModelResolver.Resolved;
import dev.amalgam.source.hub.HubCache;
import dev.amalgam.source.hub.HubDownloader;
import dev.amalgam.source.hub.HubSettings;
import dev.amalgam.source.lora.LoraAdapter;
import dev.amalgam.source.lora.LoraCheckpoint;
import dev.amalgam.source.torch.TorchCheckpoint;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Opens a config's model value as a {@link Checkpoint}: a safetensors folder or file
 * ({@link ModelFolder}), a PyTorch checkpoint ({@link TorchCheckpoint}; used when a folder has
 * no safetensors), a hub id (from the cache, downloaded if missing), and any of those with a
 * LoRA adapter applied on the fly ({@link LoraCheckpoint}).
 *
 * <p>Thread-safety: stateless.
 */
public final class ModelSources {

    private ModelSources() {
    }

    /** Where hub download progress goes (stderr; null for none). */
    private static volatile PrintStream progress = System.err;

    /** Sets where hub download progress is printed (null: nowhere). */
    public static void progressTo(PrintStream out) {
        progress = out;
    }

    /**
     * @param resolved a resolved model value
     * @return the opened checkpoint; the caller closes it
     * @throws IOException one line naming the folder, file, hub id or adapter module
     */
    public static Checkpoint open(Resolved resolved) throws IOException {
        Checkpoint model = openFolder(materialize(resolved.model()));
        if (resolved.adapter().isEmpty()) return model;
        try {
            LoraAdapter adapter = LoraAdapter.open(materialize(resolved.adapter().get()));
            try {
                return LoraCheckpoint.of(resolved.written(), model, adapter);
            } catch (IOException | RuntimeException e) {
                adapter.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * The local folder of a location: itself, or the hub cache snapshot (downloaded if missing).
     *
     * @throws IOException if a hub id cannot be had
     */
    public static Path materialize(Location l) throws IOException {
        if (l.existsLocally() || l.hub().isEmpty()) return l.local();
        try {
            return new HubDownloader(HubSettings.current(), progress).snapshot(l.hub().get());
        } catch (IOException e) {
            // A misspelt folder also looks like org/name: say both.
            throw new dev.amalgam.io.AmalgamIOException(l.local(), "no such model folder, and as a hub id: "
                    + e.getMessage(), e);
        }
    }

    /**
     * The folder a location names now, without downloading: the local path, else the cached
     * snapshot, else the local path (which does not exist).
     */
    public static Path currentFolder(Location l) {
        if (l.existsLocally() || l.hub().isEmpty()) return l.local();
        try {
            return new HubCache(HubSettings.current().cacheRoot()).snapshot(l.hub().get()).orElse(l.local());
        } catch (IOException e) {
            return l.local();
        }
    }

    /** Opens a folder or weight file: safetensors first, PyTorch when there are none. */
    public static Checkpoint openFolder(Path path) throws IOException {
        String name = path.getFileName() == null ? "" : path.getFileName().toString();
        if (Files.isRegularFile(path) && (name.endsWith(".bin") || name.endsWith(".bin.index.json") || name.endsWith(".pt")
                || name.endsWith(".pth"))) {
            return TorchCheckpoint.open(path);
        }
        if (Files.isDirectory(path) && TorchCheckpoint.isTorchFolder(path) && !hasSafetensors(path)) {
            return TorchCheckpoint.open(path);
        }
        return ModelFolder.open(path);
    }

    private static boolean hasSafetensors(Path dir) throws IOException {
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "*.safetensors*")) {
            return s.iterator().hasNext();
        }
    }
}

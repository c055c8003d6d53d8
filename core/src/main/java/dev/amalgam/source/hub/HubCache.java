package dev.amalgam.source.hub;

import dev.amalgam.io.AmalgamIOException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The local Hugging Face hub cache, in {@code huggingface_hub}'s layout:
 * {@code models--org--name/refs/<revision>} holds a commit hash,
 * {@code snapshots/<commit>/<file>} are (usually symbolic) links to {@code blobs/<etag>}.
 * Reading it needs no network.
 *
 * <p>Thread-safety: stateless apart from its root; safe to share.
 */
public final class HubCache {

    private final Path root;

    /** @param root the cache folder ({@link HubSettings#cacheRoot()}) */
    public HubCache(Path root) {
        this.root = root;
    }

    /** The cache folder. */
    public Path root() {
        return root;
    }

    /** The repository's folder in the cache (it may not exist). */
    public Path repoFolder(HubId id) {
        return root.resolve(id.cacheFolderName());
    }

    /**
     * The snapshot folder of a cached revision, checked for dangling links.
     *
     * @param id the repository and revision
     * @return the snapshot folder, or empty if the revision is not in the cache
     * @throws AmalgamIOException naming the link if a file of the snapshot points nowhere
     */
    public Optional<Path> snapshot(HubId id) throws IOException {
        Path repo = repoFolder(id);
        String commit = null;
        Path ref = repo.resolve("refs").resolve(id.revision());
        if (Files.isRegularFile(ref)) commit = Files.readString(ref).strip();
        else if (id.isCommit()) commit = id.revision();
        if (commit == null || !commit.matches("[0-9A-Za-z]+")) return Optional.empty();
        Path snap = repo.resolve("snapshots").resolve(commit);
        if (!Files.isDirectory(snap)) return Optional.empty();
        checkLinks(id, snap);
        return Optional.of(snap);
    }

    private static void checkLinks(HubId id, Path snap) throws IOException {
        try (Stream<Path> files = Files.walk(snap)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (Files.isSymbolicLink(p) && !Files.exists(p)) {
                    throw new AmalgamIOException(p, "hub cache snapshot of " + id + " has a dangling link (to "
                            + Files.readSymbolicLink(p) + "); delete the snapshot folder and download it again");
                }
                if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    throw new AmalgamIOException(p, "hub cache snapshot of " + id + " has an unreadable entry");
                }
            }
        }
    }
}

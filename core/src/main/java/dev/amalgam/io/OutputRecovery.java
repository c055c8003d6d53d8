package dev.amalgam.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cleans up after merges that were killed in a folder: run by every {@link ShardWriter} on the
 * parent of its target before it writes.
 *
 * <p>What a writer leaves when killed, and what this does with it (X = a target, s = the random
 * suffix of one writer; the owner is the process named by the temporary folder's
 * {@link OwnerLock}, or by the lock still inside X right after its rename):
 * <ul>
 *   <li>{@code .X.amalgam-tmp-s} alone, owner dead: a merge killed while writing — deleted.</li>
 *   <li>{@code .X.amalgam-old-s} and no X: a {@code --force} replace killed between its two renames.
 *       If {@code .X.amalgam-tmp-s} is complete (it holds the output marker, written only after every
 *       byte is durable) the replace is completed (tmp renamed to X, old deleted); otherwise the
 *       previous output is restored (old renamed to X).</li>
 *   <li>{@code .X.amalgam-old-s} next to X whose lock is from a dead owner: a replace killed after
 *       its second rename — old deleted, the stale lock removed.</li>
 * </ul>
 * Folders whose owner is alive, on another host, or unknown (no readable lock) are left alone;
 * those without a lock are reported. Every action is reported through the notice consumer.
 */
final class OutputRecovery {

    private static final Pattern LEFTOVER = Pattern.compile("^\\.(.+)\\.amalgam-(tmp|old)-([0-9a-f]+)$");

    private record Key(String target, String suffix) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int c = target.compareTo(o.target);
            return c != 0 ? c : suffix.compareTo(o.suffix);
        }
    }

    private OutputRecovery() {
    }

    static String tempName(String target, String suffix) {
        return "." + target + ".amalgam-tmp-" + suffix;
    }

    static String oldName(String target, String suffix) {
        return "." + target + ".amalgam-old-" + suffix;
    }

    /** Recovers every leftover in {@code parent}; returns nothing, reports through {@code notices}. */
    static void recover(Path parent, Consumer<String> notices) throws IOException {
        if (!Files.isDirectory(parent)) return;
        Map<Key, List<String>> groups = new TreeMap<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path p : entries) {
                Matcher m = LEFTOVER.matcher(p.getFileName().toString());
                if (m.matches() && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    groups.computeIfAbsent(new Key(m.group(1), m.group(3)), k -> new ArrayList<>()).add(m.group(2));
                }
            }
        }
        for (Map.Entry<Key, List<String>> g : groups.entrySet()) {
            recoverOne(parent, g.getKey().target(), g.getKey().suffix(), g.getValue().contains("tmp"), g.getValue().contains("old"), notices);
        }
    }

    private static void recoverOne(Path parent, String name, String suffix, boolean hasTmp, boolean hasOld,
                                   Consumer<String> notices) throws IOException {
        Path target = parent.resolve(name);
        Path tmp = parent.resolve(tempName(name, suffix));
        Path old = parent.resolve(oldName(name, suffix));
        boolean targetExists = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
        if (hasTmp) {
            var lock = OwnerLock.readFrom(tmp);
            if (lock.isEmpty()) {
                notices.accept("left " + tmp + " alone: it has no lock file, so its owner is unknown; delete it if no merge is running");
                return;
            }
            if (!lock.get().ownerIsDead()) return; // a merge is writing it now
            if (hasOld && !targetExists) {
                if (Files.exists(tmp.resolve(ShardWriter.MARKER_FILE_NAME))) {
                    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                    ShardWriter.deleteRecursively(old);
                    Files.deleteIfExists(target.resolve(OwnerLock.FILE_NAME));
                    notices.accept("completed the replace of " + target + " that a killed merge (" + lock.get()
                            + ") had left half done: the new output is in place, the previous one deleted");
                } else {
                    Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
                    ShardWriter.deleteRecursively(tmp);
                    notices.accept("restored the previous output " + target + " that a killed merge (" + lock.get()
                            + ") had moved aside, and removed its unfinished output");
                }
                return;
            }
            ShardWriter.deleteRecursively(tmp);
            notices.accept("removed " + tmp + ", the unfinished output of a killed merge (" + lock.get() + ")");
        }
        if (hasOld) {
            if (!targetExists) {
                Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
                notices.accept("restored the previous output " + target + " from " + old + ", left by a killed merge");
                return;
            }
            var lock = OwnerLock.readFrom(target);
            if (lock.isPresent() && !lock.get().ownerIsDead()) return; // its owner is deleting it now
            ShardWriter.deleteRecursively(old);
            if (lock.isPresent()) Files.deleteIfExists(target.resolve(OwnerLock.FILE_NAME));
            notices.accept("removed " + old + ", a previous output that a killed merge had already replaced");
        }
    }
}

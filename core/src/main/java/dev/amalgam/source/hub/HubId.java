package dev.amalgam.source.hub;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Hugging Face Hub model repository as a config names it: {@code org/name} or
 * {@code org/name@revision} (a branch, tag or commit; default {@code main}).
 *
 * @param repo     {@code org/name}
 * @param revision the revision as written, {@code main} if none
 */
public record HubId(String repo, String revision) {

    private static final Pattern FORM = Pattern.compile("([A-Za-z0-9][A-Za-z0-9_.-]*)/([A-Za-z0-9_.-]+)(?:@([A-Za-z0-9_./-]+))?");

    /**
     * @param written a model value from a config
     * @return the hub id it names, if it has that form ({@code org/name[@revision]}, no other slash)
     */
    public static Optional<HubId> parse(String written) {
        Matcher m = FORM.matcher(written);
        if (!m.matches() || m.group(2).equals(".") || m.group(2).equals("..") || m.group(1).startsWith(".")) {
            return Optional.empty();
        }
        return Optional.of(new HubId(m.group(1) + "/" + m.group(2), m.group(3) == null ? "main" : m.group(3)));
    }

    /** The cache folder name, {@code models--org--name}. */
    public String cacheFolderName() {
        return "models--" + repo.replace("/", "--");
    }

    /** Whether the revision is a full commit hash. */
    public boolean isCommit() {
        return revision.matches("[0-9a-f]{40}");
    }

    @Override
    public String toString() {
        return revision.equals("main") ? repo : repo + "@" + revision;
    }
}

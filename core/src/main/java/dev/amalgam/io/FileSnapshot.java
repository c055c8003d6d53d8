package dev.amalgam.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.Objects;

/**
 * What identifies one version of an input file: its size, its inode (file key), its mtime and,
 * where the platform has one, its ctime — which no user can set back, so a same-size rewrite
 * that restores the mtime is still seen. Taken when a checkpoint is opened, compared before and
 * after each tensor is read and once more before the output is renamed into place.
 */
record FileSnapshot(long size, Object fileKey, FileTime modified, Object changed) {

    static FileSnapshot of(Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        Object ctime = null;
        try {
            Map<String, Object> unix = Files.readAttributes(file, "unix:ctime");
            ctime = unix.get("ctime");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            // not a Unix file system: size, key and mtime only
        }
        return new FileSnapshot(a.size(), a.fileKey(), a.lastModifiedTime(), ctime);
    }

    /** Fails, naming the file and what changed, unless {@code file} is still this version. */
    void check(Path file) throws AmalgamIOException {
        FileSnapshot now;
        try {
            now = of(file);
        } catch (IOException e) {
            throw new InputChangedException(file, "input file disappeared or became unreadable during the merge (" + e.getMessage() + ")", e);
        }
        String what = null;
        if (!Objects.equals(fileKey, now.fileKey)) what = "it was replaced by another file";
        else if (size != now.size) what = "its size changed from " + size + " to " + now.size + " bytes";
        else if (!Objects.equals(modified, now.modified) || !Objects.equals(changed, now.changed)) what = "it was modified";
        if (what != null) {
            throw new InputChangedException(file, "input file changed during the merge: " + what
                    + "; nothing was written, run the merge again once the inputs are stable");
        }
    }
}

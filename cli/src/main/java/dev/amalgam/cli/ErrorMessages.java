package dev.amalgam.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/** One-line messages for errors (stack traces only with {@code --verbose}). */
final class ErrorMessages {

    private ErrorMessages() {
    }

    static String oneLine(Throwable e) {
        String msg = switch (e) {
            case NoSuchFileException f -> "no such file or folder: " + f.getFile();
            case AccessDeniedException f -> "permission denied: " + f.getFile();
            case FileAlreadyExistsException f -> f.getFile() + ": "
                    + (f.getReason() != null ? f.getReason().replace("use force", "use --force") : "already exists");
            default -> e.getMessage();
        };
        if (msg == null || msg.isBlank()) msg = e.getClass().getSimpleName();
        return msg.replace('\n', ' ').strip();
    }
}

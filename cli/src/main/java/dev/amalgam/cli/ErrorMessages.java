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
            case FileAlreadyExistsException f -> "already exists: " + f.getFile();
            default -> e.getMessage();
        };
        if (msg == null || msg.isBlank()) msg = e.getClass().getSimpleName();
        return msg.replace('\n', ' ').strip();
    }
}

package dev.amalgam.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;

/** One-line messages for errors (stack traces only with {@code --verbose}). */
final class ErrorMessages {

    private ErrorMessages() {
    }

    static String oneLine(Throwable e) {
        // Wrappers add nothing but their class name: say what they wrap.
        while ((e instanceof java.io.UncheckedIOException || e instanceof java.util.concurrent.CompletionException
                || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        String msg = switch (e) {
            case OutOfMemoryError m -> "out of memory (" + m.getMessage() + "); give the JVM more with -Xmx, e.g. "
                    + "AMALGAM_JAVA_OPTS=-Xmx8g";
            case StackOverflowError s -> "stack overflow (an input nests too deeply?); rerun with --verbose and report it";
            case InternalError i -> "internal JVM error: " + i.getMessage()
                    + " (a memory-mapped input or output file was truncated or the disk is full?)";
            case VirtualMachineError v -> "JVM error: " + v;
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

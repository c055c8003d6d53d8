package dev.amalgam.it;

import dev.amalgam.cli.AmalgamCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs the {@code amalgam} command line in-process and captures what it prints. */
final class Cli {

    private Cli() {
    }

    record Result(int exitCode, String out, String err) {
        /** Everything printed, for assertion messages. */
        String all() {
            return "exit " + exitCode + "\n--- out ---\n" + out + "--- err ---\n" + err;
        }

        List<String> outLines() {
            return out.lines().toList();
        }

        List<String> errLines() {
            return err.lines().toList();
        }
    }

    static Result run(Object... args) {
        List<String> a = new ArrayList<>();
        for (Object o : args) a.add(o instanceof Path p ? p.toString() : String.valueOf(o));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code;
        try (PrintWriter o = new PrintWriter(out, true); PrintWriter e = new PrintWriter(err, true)) {
            code = AmalgamCommand.run(o, e, a.toArray(String[]::new));
        }
        return new Result(code, out.toString(), err.toString());
    }

    /** Runs with {@code -Damalgam.backend=backend} set for the duration (null: leave the selection alone). */
    static Result runWithBackend(String backend, Object... args) {
        String previous = System.getProperty("amalgam.backend");
        try {
            if (backend == null) System.clearProperty("amalgam.backend");
            else System.setProperty("amalgam.backend", backend);
            return run(args);
        } finally {
            if (previous == null) System.clearProperty("amalgam.backend");
            else System.setProperty("amalgam.backend", previous);
        }
    }
}

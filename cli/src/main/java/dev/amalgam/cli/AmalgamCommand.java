package dev.amalgam.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code amalgam} command line. Exit code: 0 on success, 1 on a failed merge, 2 on bad usage. */
@Command(name = "amalgam", mixinStandardHelpOptions = true, version = "amalgam 0.1.0",
        description = "Merge neural-network checkpoints (safetensors) with mergekit-style YAML configs.",
        subcommands = {MergeCommand.class, AnalyzeCommand.class, InspectCommand.class, GenerateFamilyCommand.class, ExtractLoraCommand.class, CommandLine.HelpCommand.class})
public final class AmalgamCommand {

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (for tests). */
    public static int run(String... args) {
        return run(null, null, args);
    }

    /** As {@link #run(String...)}, printing to {@code out} and {@code err} (null: stdout, stderr). */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new AmalgamCommand());
        if (out != null) cli.setOut(out);
        if (err != null) cli.setErr(err);
        cli.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            boolean verbose = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
            if (verbose) e.printStackTrace(cmd.getErr());
            cmd.getErr().println("amalgam: " + ErrorMessages.oneLine(e));
            return 1;
        });
        return cli.execute(args);
    }
}

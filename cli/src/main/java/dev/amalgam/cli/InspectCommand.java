package dev.amalgam.cli;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.MergeSummary;
import dev.amalgam.tensor.TensorInfo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code amalgam inspect PATH}: tensors, dtypes, shapes, sizes and the shard map of a checkpoint. */
@Command(name = "inspect", description = "List the tensors of a checkpoint folder or .safetensors file.")
final class InspectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "A model folder, an index file or a .safetensors file.")
    Path path;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (ModelFolder folder = ModelFolder.open(path)) {
            out.println("checkpoint: " + folder.path() + " (" + folder.layout().name().toLowerCase(Locale.ROOT) + ")");
            Map<Path, long[]> shards = new LinkedHashMap<>();
            for (Path shard : folder.shards()) shards.put(shard, new long[2]);
            long total = 0;
            Map<String, Long> byDtype = new LinkedHashMap<>();
            int nameWidth = 4;
            for (TensorInfo t : folder.tensors()) nameWidth = Math.max(nameWidth, t.name().length());
            out.printf(Locale.ROOT, "%-" + nameWidth + "s  %-7s  %-22s  %12s  %s%n", "name", "dtype", "shape", "bytes", "shard");
            for (TensorInfo t : folder.tensors()) {
                Path shard = folder.shardOf(t.name());
                long[] s = shards.get(shard);
                s[0]++;
                s[1] += t.byteSize();
                total += t.byteSize();
                byDtype.merge(t.dtype().name(), t.elementCount(), Long::sum);
                out.printf(Locale.ROOT, "%-" + nameWidth + "s  %-7s  %-22s  %12d  %s%n", t.name(), t.dtype(),
                        TensorInfo.shapeString(t.shape()), t.byteSize(), shard.getFileName());
            }
            out.println();
            out.println("shards:");
            for (var e : shards.entrySet()) {
                out.printf(Locale.ROOT, "  %s  %d tensors  %s%n", e.getKey().getFileName(), e.getValue()[0], MergeSummary.bytes(e.getValue()[1]));
            }
            out.print("elements by dtype:");
            byDtype.forEach((d, n) -> out.print(" " + d + "=" + n));
            out.println();
            if (!folder.metadata().isEmpty()) out.println("metadata: " + folder.metadata());
            out.printf(Locale.ROOT, "total: %d tensors, %s%n", folder.tensors().size(), MergeSummary.bytes(total));
        }
        return 0;
    }
}

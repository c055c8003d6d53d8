package dev.amalgam.benchmarks;

import dev.amalgam.Amalgam;
import dev.amalgam.MergeOptions;
import dev.amalgam.MergedCheckpoint;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.checkpoint.InMemoryCheckpoint;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.io.ShardWriter;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One TIES merge (base + 3 task models, density 0.5, BF16) of {@code params} parameters in
 * 16 tensors, through the application API: from in-memory checkpoints into memory, against the
 * same merge from model folders into a folder. The in-memory inputs are the caller's segments
 * (the merge reads them in place: {@code zeroCopy} checks that every view it hands out is the
 * caller's own address); the only memory the in-memory merge allocates is its output.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx2g"})
public class InMemoryMergeBenchmark {

    static final int TENSORS = 16;
    static final List<String> MODELS = List.of("base", "ft-1", "ft-2", "ft-3");

    @Param({"100000000"})
    public long params;

    @Param({"cpu"})
    public String backend;

    private Arena arena;
    private Amalgam amalgam;
    private Map<String, Checkpoint> inputs;
    private MergeConfig config;
    private Path dir;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        arena = Arena.ofShared();
        amalgam = Amalgam.builder().backend(backend).build();
        dir = Files.createTempDirectory("amalgam-inmem-bench-");
        long perTensor = params / TENSORS;
        inputs = new LinkedHashMap<>();
        Tensor[] bases = new Tensor[TENSORS];
        for (String m : MODELS) {
            InMemoryCheckpoint.Builder b = InMemoryCheckpoint.builder().label(m);
            List<Tensor> tensors = new ArrayList<>();
            for (int t = 0; t < TENSORS; t++) {
                String name = String.format("model.layers.%d.mlp.weight", t);
                Tensor x = m.equals("base") ? (bases[t] = BenchmarkData.base(arena, name, DType.BF16, perTensor, 1 + t))
                        : BenchmarkData.model(arena, name, DType.BF16, bases[t], 100L * MODELS.indexOf(m) + t);
                tensors.add(x);
                b.add(x);
            }
            inputs.put(m, b.build());
            writeFolder(dir.resolve(m), tensors);
        }
        var ties = MergeConfig.builder("ties").baseDir(dir).baseModel("base");
        for (String m : MODELS.subList(1, MODELS.size())) ties.model(m, p -> p.weight(1.0).density(0.5));
        config = ties.build();
    }

    private static void writeFolder(Path folder, List<Tensor> tensors) throws IOException {
        List<TensorInfo> infos = tensors.stream().map(Tensor::info).toList();
        try (ShardWriter w = ShardWriter.builder(folder, infos).open()) {
            for (Tensor t : tensors) MemorySegment.copy(t.data(), 0, w.tensorFor(t.name()).data(), 0, t.data().byteSize());
            w.finish();
        }
    }

    /** Checkpoints in memory → merged checkpoint in memory; no file is touched. */
    @Benchmark
    public long inMemory() {
        try (MergedCheckpoint merged = amalgam.merge(config, inputs)) {
            return merged.summary().bytesWritten();
        }
    }

    /** The same merge from model folders (memory-mapped) into a sharded folder (written, then renamed). */
    @Benchmark
    public long throughFiles() {
        return amalgam.mergeToFolder(config, Map.of(), dir.resolve("out"),
                MergeOptions.builder().force(true).build()).bytesWritten();
    }

    /** The in-memory inputs are read in place: every view is at the caller's address. */
    @Setup(Level.Trial)
    public void zeroCopy() {
        for (Checkpoint c : inputs.values()) {
            InMemoryCheckpoint in = (InMemoryCheckpoint) c;
            for (TensorInfo t : in.tensors()) {
                if (in.tensor(t.name()).data().address() != in.segment(t.name()).address()) {
                    throw new IllegalStateException("tensor " + t.name() + " was copied");
                }
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        amalgam.close();
        arena.close();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}

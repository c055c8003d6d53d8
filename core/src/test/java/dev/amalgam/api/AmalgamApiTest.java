package dev.amalgam.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.Amalgam;
import dev.amalgam.AmalgamException;
import dev.amalgam.MergeCancelledException;
import dev.amalgam.MergeOptions;
import dev.amalgam.MergeSummary;
import dev.amalgam.MergedCheckpoint;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.checkpoint.CheckpointSink;
import dev.amalgam.checkpoint.InMemoryCheckpoint;
import dev.amalgam.config.ConfigValue;
import dev.amalgam.config.DensityScope;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.io.ModelFolder;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.synth.SyntheticFamily;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The application API: in-memory checkpoints and outputs, the entry point's backend and threads, cancellation, errors. */
class AmalgamApiTest {

    @TempDir
    static Path dir;

    static final SyntheticFamily.Spec SPEC = new SyntheticFamily.Spec(2, 24, 40, 37, 3, DType.BF16, 11, 6_000);

    @BeforeAll
    static void family() throws IOException {
        SyntheticFamily.write(dir.resolve("family"), SPEC);
    }

    static MergeConfig ties(DensityScope scope) {
        return MergeConfig.builder("ties").baseDir(dir.resolve("family")).baseModel("base")
                .model("ft-1", m -> m.weight(1.0).density(0.3))
                .model("ft-2", m -> m.weight(ConfigValue.gradient(0.4, 1.0)).density(0.5))
                .model("ft-3", m -> m.weight(0.7).density(scope == DensityScope.MODEL ? ConfigValue.of(0.4)
                        : ConfigValue.filtered(ConfigValue.when("mlp", ConfigValue.of(0.2)), ConfigValue.otherwise(ConfigValue.of(0.6)))))
                .densityScope(scope).consensusMethod(ConsensusMethod.SUM).normalize(true)
                .build();
    }

    /** Copies a folder into native memory (one copy of each model: the caller's own weights). */
    static InMemoryCheckpoint copy(ModelFolder folder, Arena arena, boolean heap) {
        InMemoryCheckpoint.Builder b = InMemoryCheckpoint.builder();
        for (TensorInfo t : folder.tensors()) {
            MemorySegment src = folder.tensor(t.name()).data();
            MemorySegment dst = heap ? MemorySegment.ofArray(new byte[(int) src.byteSize()]) : arena.allocate(src.byteSize(), 64);
            MemorySegment.copy(src, 0, dst, 0, src.byteSize());
            b.add(t.name(), t.dtype(), t.shape(), dst);
        }
        return b.build();
    }

    static Map<String, Checkpoint> inMemoryFamily(Arena arena, boolean heap) throws IOException {
        Map<String, Checkpoint> inputs = new LinkedHashMap<>();
        for (String m : List.of("base", "ft-1", "ft-2", "ft-3")) {
            try (ModelFolder f = ModelFolder.open(dir.resolve("family").resolve(m))) {
                inputs.put(m, copy(f, arena, heap));
            }
        }
        return inputs;
    }

    static void assertSameTensors(Checkpoint expected, Checkpoint actual) {
        assertEquals(expected.tensors(), actual.tensors());
        for (TensorInfo t : expected.tensors()) {
            assertEquals(-1, expected.tensor(t.name()).data().mismatch(actual.tensor(t.name()).data()), t.name());
        }
    }

    @Test
    void inMemoryMergeIsBitIdenticalToTheFolderMerge() throws IOException {
        for (DensityScope scope : DensityScope.values()) {
            for (String backend : List.of("reference", "cpu")) {
                Path out = dir.resolve("out-" + scope + "-" + backend);
                try (Amalgam amalgam = Amalgam.builder().backend(backend).build();
                     Arena arena = Arena.ofShared()) {
                    MergeSummary folder = amalgam.mergeToFolder(ties(scope), out);
                    assertEquals(backend, folder.backend());
                    assertEquals(out, folder.output().orElseThrow());
                    try (ModelFolder written = ModelFolder.open(out)) {
                        for (boolean heap : new boolean[] {false, true}) {
                            try (MergedCheckpoint merged = amalgam.merge(ties(scope), inMemoryFamily(arena, heap))) {
                                assertSameTensors(written, merged);
                                assertTrue(merged.summary().output().isEmpty());
                                assertEquals(folder.signConflicts(), merged.summary().signConflicts());
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void inputsAreReadInPlaceAndNeverWritten() throws IOException {
        try (Amalgam amalgam = Amalgam.builder().backend("cpu").build(); Arena arena = Arena.ofShared()) {
            Map<String, Checkpoint> inputs = inMemoryFamily(arena, false);
            Map<String, byte[]> before = new LinkedHashMap<>();
            Checkpoint base = inputs.get("base");
            for (TensorInfo t : base.tensors()) before.put(t.name(), base.tensor(t.name()).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            MergedCheckpoint merged = amalgam.merge(ties(DensityScope.TENSOR), inputs, arena);
            for (TensorInfo t : base.tensors()) {
                // the view handed out is the caller's segment itself: no copy was made
                assertEquals(((InMemoryCheckpoint) base).segment(t.name()).address(), base.tensor(t.name()).data().address());
                assertEquals(-1, MemorySegment.ofArray(before.get(t.name())).mismatch(base.tensor(t.name()).data()));
            }
            merged.close(); // the caller's arena owns the output: close does nothing
            assertTrue(merged.segment(merged.tensors().getFirst().name()).scope().isAlive());
        }
    }

    @Test
    void mergesIntoTheCallersSegments() throws IOException {
        try (Amalgam amalgam = Amalgam.builder().backend("reference").build(); Arena arena = Arena.ofShared()) {
            Map<String, Checkpoint> inputs = inMemoryFamily(arena, false);
            try (MergedCheckpoint expected = amalgam.merge(ties(DensityScope.TENSOR), inputs)) {
                Map<String, MemorySegment> mine = new LinkedHashMap<>();
                for (TensorInfo t : expected.tensors()) mine.put(t.name(), arena.allocate(t.byteSize()));
                amalgam.merge(ties(DensityScope.TENSOR), inputs, CheckpointSink.into(mine), MergeOptions.defaults());
                for (TensorInfo t : expected.tensors()) assertEquals(-1, mine.get(t.name()).mismatch(expected.segment(t.name())));
                mine.remove(expected.tensors().getLast().name());
                assertThrows(IllegalArgumentException.class, () -> amalgam.merge(ties(DensityScope.TENSOR), inputs,
                        CheckpointSink.into(mine), MergeOptions.defaults()));
            }
        }
    }

    @Test
    void theCpuKernelsRunOnTheCallersThreadsWithTheSameResult() throws IOException {
        try (Arena arena = Arena.ofShared()) {
            Map<String, Checkpoint> inputs = inMemoryFamily(arena, false);
            ForkJoinPool mine = new ForkJoinPool(3);
            try (Amalgam all = Amalgam.builder().backend("cpu").build();
                 Amalgam one = Amalgam.builder().backend("cpu").parallelism(1).build();
                 Amalgam pooled = Amalgam.builder().backend("cpu").cpuPool(mine).build();
                 MergedCheckpoint a = all.merge(ties(DensityScope.MODEL), inputs);
                 MergedCheckpoint b = one.merge(ties(DensityScope.MODEL), inputs);
                 MergedCheckpoint c = pooled.merge(ties(DensityScope.MODEL), inputs)) {
                assertSameTensors(a, b);
                assertSameTensors(a, c);
            } finally {
                assertFalse(mine.isShutdown(), "the caller's pool is not shut down");
                mine.shutdown();
            }
        }
    }

    @Test
    void anExplicitBackendBeatsTheSystemProperty() {
        System.setProperty("amalgam.backend", "reference");
        try (Amalgam cpu = Amalgam.builder().backend("cpu").build();
             Amalgam auto = Amalgam.open()) {
            assertEquals("cpu", cpu.backendName());
            assertEquals("reference", auto.backendName());
        } finally {
            System.clearProperty("amalgam.backend");
        }
        AmalgamException e = assertThrows(AmalgamException.class, () -> Amalgam.builder().backend("tpu").build());
        assertTrue(e.getMessage().contains("unknown backend 'tpu'"), e.getMessage());
    }

    @Test
    void aListenerCancelsAndNothingIsWritten() {
        Path out = dir.resolve("cancelled");
        AtomicInteger calls = new AtomicInteger();
        MergeOptions cancelAfterTwo = MergeOptions.builder().listener(p -> {
            calls.incrementAndGet();
            if (p.tensorsDone() == 2) p.cancel();
        }).build();
        try (Amalgam amalgam = Amalgam.builder().backend("reference").build()) {
            MergeCancelledException e = assertThrows(MergeCancelledException.class,
                    () -> amalgam.mergeToFolder(ties(DensityScope.TENSOR), Map.of(), out, cancelAfterTwo));
            assertTrue(e.getMessage().contains("(2 of "), e.getMessage());
            assertEquals(3, calls.get(), "once before the first tensor, then after each");
            assertFalse(Files.exists(out));
            // the instance is still usable after a cancelled merge
            assertEquals("ties", amalgam.mergeToFolder(ties(DensityScope.TENSOR), out).method());
        }
    }

    @Test
    void nonFiniteInputsThrowUnlessAllowed() {
        try (Amalgam amalgam = Amalgam.builder().backend("cpu").build(); Arena arena = Arena.ofShared()) {
            long[] shape = {5, 7};
            Map<String, Checkpoint> in = new LinkedHashMap<>();
            for (String m : List.of("base", "a", "b")) {
                MemorySegment s = arena.allocate(35 * 4L);
                for (int i = 0; i < 35; i++) s.setAtIndex(Tensor.F32_LE, i, (float) Math.sin(i + m.length() * 3.1));
                if (m.equals("b")) s.setAtIndex(Tensor.F32_LE, 17, Float.NaN);
                in.put(m, InMemoryCheckpoint.builder().add("w", DType.F32, shape, s).build());
            }
            var cfg = MergeConfig.builder("ties").baseModel("base").model("a", p -> p.weight(1).density(0.5))
                    .model("b", p -> p.weight(1).density(0.5));
            AmalgamException e = assertThrows(AmalgamException.class, () -> amalgam.merge(cfg.build(), in));
            assertTrue(e.getMessage().contains("tensor w of model b contains NaN"), e.getMessage());
            try (MergedCheckpoint m = amalgam.merge(cfg.allowNonfinite(true).build(), in)) {
                assertEquals(35, m.info("w").elementCount());
            }
            AmalgamException typo = assertThrows(AmalgamException.class,
                    () -> amalgam.merge(cfg.build(), Map.of("bsae", in.get("base"))));
            assertEquals("inputs: `bsae` is not a model of the config; models: a, b, base", typo.getMessage());
        }
    }

    @Test
    void heapSegmentsMustWrapBytes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InMemoryCheckpoint.builder()
                .add("w", DType.F32, new long[] {2}, MemorySegment.ofArray(new float[2])));
        assertTrue(e.getMessage().contains("must wrap a byte[]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> InMemoryCheckpoint.builder()
                .add("w", DType.F32, new long[] {3}, MemorySegment.ofArray(new byte[8])));
        try (Arena confined = Arena.ofConfined()) {
            IllegalArgumentException c = assertThrows(IllegalArgumentException.class, () -> InMemoryCheckpoint.builder()
                    .add("w", DType.F32, new long[] {2}, confined.allocate(8)));
            assertTrue(c.getMessage().contains("confined to one thread"), c.getMessage());
        }
    }

    @Test
    void aMissingFolderIsACheckpointOrMergeError() {
        try (Amalgam amalgam = Amalgam.builder().backend("reference").build()) {
            MergeConfig cfg = MergeConfig.builder("linear").baseDir(dir).model("nowhere", m -> m.weight(1)).build();
            AmalgamException e = assertThrows(AmalgamException.class, () -> amalgam.mergeToFolder(cfg, dir.resolve("x")));
            assertTrue(e.getMessage().startsWith("model nowhere: "), e.getMessage());
        }
    }
}

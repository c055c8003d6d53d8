package dev.amalgam.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.Amalgam;
import dev.amalgam.MergeListener;
import dev.amalgam.MergeOptions;
import dev.amalgam.MergedCheckpoint;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.checkpoint.InMemoryCheckpoint;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Statistics through the public API, including inputs the merge has to copy (a cropped embedding). */
class AnalysisThroughApiTest {

    @Test
    void croppedEmbeddingLargerThanAChunkIsAnalysedFromWorkerThreads() {
        // ft's embedding has 2 more rows than the base's: cropped into scratch (§1.2), read by the parallel pass.
        int rows = 600, cols = 256;
        try (Amalgam amalgam = Amalgam.builder().backend("cpu").build(); Arena arena = Arena.ofShared()) {
            Map<String, Checkpoint> in = new LinkedHashMap<>();
            for (String m : List.of("base", "ft")) {
                int r = m.equals("ft") ? rows + 2 : rows;
                MemorySegment s = arena.allocate((long) r * cols * 4);
                for (int i = 0; i < r * cols; i++) {
                    s.setAtIndex(Tensor.F32_LE, i, (float) Math.sin(i * 0.37) + (m.equals("ft") ? (float) Math.cos(i * 1.3) * 0.1f : 0));
                }
                in.put(m, InMemoryCheckpoint.builder().add("model.embed_tokens.weight", DType.F32, new long[] {r, cols}, s).build());
            }
            MergeConfig cfg = MergeConfig.builder("ties").baseModel("base").model("ft", p -> p.weight(1).density(0.5)).build();
            try (MergedCheckpoint merged = amalgam.merge(cfg, in, MergeOptions.builder().analysis(true).build())) {
                MergeAnalysis a = merged.summary().analysis().orElseThrow();
                TensorStatistics s = a.tensors().getFirst();
                assertEquals((long) rows * cols, s.elements(), "statistics over the cropped block");
                assertEquals(TensorKind.EMBEDDING, s.kind());
                assertEquals(0.5, s.keptFraction()[0], 1e-9);
                assertTrue(s.mergedDeltaNormSq() > 0 && s.mergedDeltaNormSq() < s.deltaNormSq()[0], "the trim kept part of δ");
            }
            MergeAnalysis only = amalgam.analyze(cfg, in, MergeListener.NONE);
            assertEquals(1, only.tensors().size());
            assertTrue(!only.merged());
            assertEquals(only.tensors().getFirst().deltaNormSq()[0], only.wholeModel().relativeNorm()[0] * only.wholeModel().relativeNorm()[0]
                    * only.tensors().getFirst().baseNormSq(), 1e-9 * only.tensors().getFirst().deltaNormSq()[0]);
        }
    }
}

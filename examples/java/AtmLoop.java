import dev.amalgam.Amalgam;
import dev.amalgam.MergedCheckpoint;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.checkpoint.InMemoryCheckpoint;
import dev.amalgam.config.MergeConfig;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Alternating tuning and merging (ATM), all in memory: three task copies of one weight matrix
 * each train one epoch on their task, TIES merges them against the current model, and every
 * copy restarts from the merge. Ten rounds; no file is read or written.
 * Run: examples/java/run AtmLoop
 */
public class AtmLoop {
    static final int ROWS = 64, COLS = 48, N = ROWS * COLS, TASKS = 3, ROUNDS = 10;

    public static void main(String[] args) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[][] targets = new float[TASKS][N];           // each task wants a sparse change of its own
        for (float[] t : targets) for (int i = 0; i < N; i++) t[i] = rnd.nextInt(5) == 0 ? (float) rnd.nextGaussian() : 0f;
        try (Arena arena = Arena.ofShared(); Amalgam amalgam = Amalgam.open()) {
            MemorySegment model = arena.allocate(4L * N);    // the application's own weights
            MemorySegment[] copies = new MemorySegment[TASKS];
            for (int t = 0; t < TASKS; t++) copies[t] = arena.allocate(4L * N);
            var ties = MergeConfig.builder("ties").baseModel("model");
            for (int t = 0; t < TASKS; t++) ties.model("task-" + t, m -> m.weight(1.0).density(0.5));
            MergeConfig config = ties.build();
            double first = 0;
            for (float[] t : targets) first += loss(model, t) / TASKS;  // the model starts at zero
            for (int round = 1; round <= ROUNDS; round++) {
                Map<String, Checkpoint> inputs = new HashMap<>();
                inputs.put("model", weights(model));
                for (int t = 0; t < TASKS; t++) {
                    MemorySegment.copy(model, 0, copies[t], 0, 4L * N);  // restart the copy from the model
                    train(copies[t], targets[t]);
                    inputs.put("task-" + t, weights(copies[t]));
                }
                try (MergedCheckpoint merged = amalgam.merge(config, inputs)) {
                    MemorySegment.copy(merged.segment("w"), 0, model, 0, 4L * N);
                }
                double loss = 0;
                for (float[] t : targets) loss += loss(model, t) / TASKS;
                System.out.printf("round %2d  mean task loss of the merged model %.5f  (%s)%n", round, loss, amalgam.backendName());
                if (round == ROUNDS && !(loss < 0.9 * first)) throw new IllegalStateException("the loss did not go down from " + first);
            }
        }
    }

    static Checkpoint weights(MemorySegment w) {
        return InMemoryCheckpoint.builder().add("w", DType.F32, new long[] {ROWS, COLS}, w).build();
    }

    /** One epoch of gradient descent on ½‖w − target‖². */
    static void train(MemorySegment w, float[] target) {
        for (int step = 0; step < 3; step++) {
            for (int i = 0; i < N; i++) {
                float v = w.getAtIndex(Tensor.F32_LE, i);
                w.setAtIndex(Tensor.F32_LE, i, v - 0.3f * (v - target[i]));
            }
        }
    }

    static double loss(MemorySegment w, float[] target) {
        double s = 0;
        for (int i = 0; i < N; i++) s += Math.pow(w.getAtIndex(Tensor.F32_LE, i) - target[i], 2);
        return s / N;
    }
}

import dev.amalgam.Amalgam;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.lora.LoraFactors;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * In-memory LoRA factorisation: a fine-tune that differs from its base by a rank-4 update
 * plus noise is factorised into B·A at rank 4 (and by a singular-value threshold), no files.
 * Run: examples/java/run LoraFactorize
 */
public class LoraFactorize {
    public static void main(String[] args) {
        int out = 96, in = 80, trueRank = 4;
        SplittableRandom rnd = new SplittableRandom(5);
        try (Arena arena = Arena.ofShared(); Amalgam amalgam = Amalgam.open()) {
            Tensor base = matrix(out, in, arena), finetuned = matrix(out, in, arena);
            float[][] u = new float[trueRank][out], v = new float[trueRank][in];
            for (int l = 0; l < trueRank; l++) {
                for (int i = 0; i < out; i++) u[l][i] = (float) rnd.nextGaussian();
                for (int j = 0; j < in; j++) v[l][j] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < out; i++) {
                for (int j = 0; j < in; j++) {
                    float w = (float) rnd.nextGaussian(), d = 0.001f * (float) rnd.nextGaussian();
                    for (int l = 0; l < trueRank; l++) d += u[l][i] * v[l][j] / (l + 1);
                    base.setFloat((long) i * in + j, w);
                    finetuned.setFloat((long) i * in + j, w + d);
                }
            }
            LoraFactors lora = LoraFactors.ofRank(amalgam.kernels().svd(), base, finetuned, trueRank);
            FloatMatrix ba = amalgam.kernels().svd().multiply(lora.b(), lora.a());
            System.out.printf("rank %d: A %dx%d, B %dx%d, energy kept %.6f, sigma = %.2f %.2f %.2f %.2f%n", lora.rank(),
                    lora.a().rows(), lora.a().cols(), lora.b().rows(), lora.b().cols(), lora.retained(),
                    lora.singularValues()[0], lora.singularValues()[1], lora.singularValues()[2], lora.singularValues()[3]);
            double err = 0;
            for (int i = 0; i < out * in; i++) err = Math.max(err, Math.abs(finetuned.getFloat(i) - base.getFloat(i) - ba.data()[i]));
            System.out.printf("max |delta - B.A| = %.5f%n", err);
            if (lora.retained() < 0.999 || err > 0.01) throw new IllegalStateException("rank 4 should capture the update");
            LoraFactors byThreshold = LoraFactors.aboveThreshold(amalgam.kernels().svd(), base, finetuned, 0.01, Integer.MAX_VALUE);
            System.out.printf("threshold 0.01 of sigma_1 keeps rank %d%n", byThreshold.rank());
            if (byThreshold.rank() != trueRank) throw new IllegalStateException("the noise is far below 1% of sigma_1");
        }
    }

    static Tensor matrix(int rows, int cols, Arena arena) {
        return new Tensor(new TensorInfo("w", DType.F32, new long[] {rows, cols}), arena.allocate(4L * rows * cols));
    }
}

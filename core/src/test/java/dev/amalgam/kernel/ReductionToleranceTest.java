package dev.amalgam.kernel;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.kernel.KernelBackendContract.ReductionTolerance;
import dev.amalgam.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The contract's opt-in tolerance for l1 rescale outputs really bounds the difference: a backend
 * whose l1 outputs are off by {@code ulps} units in the last place passes only when it declares
 * at least that, and the default stays bit-exact.
 */
class ReductionToleranceTest {

    /** The reference, except that every output element of an l1 pass is moved up by {@code ulps} float32 ulps. */
    static final class OffByUlps implements KernelBackend {
        final ReferenceKernels reference = new ReferenceKernels();
        final int ulps;

        OffByUlps(int ulps) {
            this.ulps = ulps;
        }

        @Override
        public String name() {
            return "off-by-" + ulps + "-ulps";
        }

        @Override
        public MagnitudeThreshold selectLargest(java.util.List<DeltaSource> parts, long k) {
            return reference.selectLargest(parts, k);
        }

        @Override
        public LinearResult linear(LinearPass pass) {
            return reference.linear(pass);
        }

        @Override
        public GtaResult gta(GtaPass pass) {
            GtaResult r = reference.gta(pass);
            if (pass.rescale() != RescaleMode.L1) return r;
            Tensor out = pass.out();
            for (long i = 0; i < out.elementCount(); i++) {
                float v = out.getFloat(i);
                for (int u = 0; u < ulps; u++) v = Math.nextUp(v);
                out.setFloat(i, v);
            }
            return r;
        }
    }

    static KernelBackendContract contract(int ulps, ReductionTolerance tolerance) {
        return new KernelBackendContract() {
            @Override
            protected KernelBackend backend() {
                return new OffByUlps(ulps);
            }

            @Override
            protected ReductionTolerance reductionTolerance() {
                return tolerance;
            }
        };
    }

    /** Runs one l1-only contract case (F32 output: one float32 ulp is one output ulp). */
    static void runL1Cases(KernelBackendContract c) {
        c.openBackend();
        c.openOracle();
        try {
            c.gtaMatchesReferenceWithKZeroAndKAll();
        } finally {
            c.closeBackend();
        }
    }

    @Test
    void offByOneUlpPassesADeclaredOneUlpTolerance() {
        runL1Cases(contract(1, new ReductionTolerance(0, 1)));
    }

    @Test
    void offByThreeUlpsFailsAOneUlpTolerance() {
        assertThrows(AssertionError.class, () -> runL1Cases(contract(3, new ReductionTolerance(0, 1))));
    }

    @Test
    void theDefaultIsBitExact() {
        assertThrows(AssertionError.class, () -> runL1Cases(contract(1, ReductionTolerance.EXACT)));
    }
}

package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.KernelBackend;
import dev.amalgam.kernel.KernelBackendContract;
import org.junit.jupiter.api.Nested;

/**
 * The whole contract again with every trim tile forced to guess "all ties taken" or "none taken"
 * whatever is known: every guess must be checked against the exact flat-order rule and every
 * wrong tile recomputed (and its counts taken back), or outputs and counts differ from the
 * reference. The default schedule rarely guesses wrong, so this is what tests the recomputation.
 */
class FastCpuKernelsForcedTieGuessesTest {

    @Nested
    class GuessAll extends KernelBackendContract {
        @Override
        protected KernelBackend backend() {
            return new FastCpuKernels(TieLedger.Guess.ALL);
        }
    }

    @Nested
    class GuessNone extends KernelBackendContract {
        @Override
        protected KernelBackend backend() {
            return new FastCpuKernels(TieLedger.Guess.NONE);
        }
    }
}

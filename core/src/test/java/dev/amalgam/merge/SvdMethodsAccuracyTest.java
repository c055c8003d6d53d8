package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.kernel.cpu.FastCpuSvdKernels;
import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.JacobiSvd;
import dev.amalgam.kernel.svd.ReferenceSvdKernels;
import dev.amalgam.kernel.svd.SvdKernels;
import dev.amalgam.kernel.svd.SvdTestMatrices;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fast CPU kernels inside the SVD methods at sizes where the reference still runs quickly:
 * dense task matrices with the power-law spectrum of fine-tuning deltas (σ_i = 0.01/(i+1), the
 * shape of the TSV-M benchmark), merged M against the double-precision reference within 1e-5
 * relative Frobenius (§1.10 allows 1e-4), and the polar factor on the inputs TSV-M produces:
 * blockwise orthonormal Û, nearly orthonormal, and rank-deficient (duplicate tasks).
 */
class SvdMethodsAccuracyTest {

    private static final SvdKernels FAST = FastCpuSvdKernels.INSTANCE, REF = ReferenceSvdKernels.INSTANCE;

    /** G1·diag(0.01/(i+1))·G2 with Gaussian factors, seed-reproducible. */
    static FloatMatrix powerLawTask(int rows, int cols, long seed) {
        Random r = new Random(seed);
        int inner = Math.min(rows, cols);
        FloatMatrix left = FloatMatrix.zeros(rows, inner), right = FloatMatrix.zeros(inner, cols);
        for (int i = 0; i < left.data().length; i++) left.data()[i] = (float) (r.nextGaussian() / Math.sqrt(rows));
        for (int l = 0; l < inner; l++) {
            for (int j = 0; j < cols; j++) right.set(l, j, (float) (0.01 / (l + 1) * r.nextGaussian() / Math.sqrt(cols)));
        }
        return REF.multiply(left, right);
    }

    private static List<FloatMatrix> tasks(int rows, int cols, int t, long seed) {
        List<FloatMatrix> out = new ArrayList<>();
        for (int m = 0; m < t; m++) out.add(powerLawTask(rows, cols, seed + m));
        return out;
    }

    private static double relativeFrobenius(FloatMatrix x, FloatMatrix ref) {
        double e = 0, n = 0;
        for (int i = 0; i < x.data().length; i++) {
            double d = x.data()[i] - (double) ref.data()[i];
            e += d * d;
            n += (double) ref.data()[i] * ref.data()[i];
        }
        return Math.sqrt(e / n);
    }

    @Test
    void tsvMOfPowerLawTasksMatchesTheReference() {
        // 96×96, T = 8 (k = 12, Û square); 120×60 and 60×120, T = 4 (k = 15).
        int[][] shapes = {{96, 96, 8}, {120, 60, 4}, {60, 120, 4}};
        for (int[] sh : shapes) {
            long seed = 5000L + sh[0] + sh[1];
            List<FloatMatrix> taus = tasks(sh[0], sh[1], sh[2], seed);
            FloatMatrix fast = SvdMethods.tsvM(FAST, taus, w -> { });
            FloatMatrix ref = SvdMethods.tsvM(REF, taus, w -> { });
            double d = relativeFrobenius(fast, ref);
            System.out.printf("tsv_m %dx%d T=%d (seed %d): fast vs reference %.2e%n", sh[0], sh[1], sh[2], seed, d);
            assertTrue(d <= 1e-5, "tsv_m " + sh[0] + "×" + sh[1] + ": " + d);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        }
    }

    @Test
    void isoCAndIsoCtsOfPowerLawTasksMatchTheReference() {
        List<FloatMatrix> taus = tasks(80, 64, 4, 6000);
        double c = relativeFrobenius(SvdMethods.isoC(FAST, taus), SvdMethods.isoC(REF, taus));
        double cts = relativeFrobenius(SvdMethods.isoCts(FAST, taus, 0.8, w -> { }), SvdMethods.isoCts(REF, taus, 0.8, w -> { }));
        System.out.printf("iso_c %.2e, iso_cts %.2e (80×64, T = 4, seed 6000)%n", c, cts);
        assertTrue(c <= 1e-5, "iso_c " + c);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(cts <= 1e-5, "iso_cts " + cts);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
    }

    @Test
    void polarOfBlockwiseOrthonormalAndNearlyOrthonormalMatrices() {
        // Û as TSV-M builds it: 8 blocks of 12 orthonormal columns from independent tasks (96×96).
        List<FloatMatrix> taus = tasks(96, 96, 8, 7000);
        FloatMatrix u = FloatMatrix.zeros(96, 96);
        for (int m = 0; m < 8; m++) {
            FloatMatrix part = FAST.truncated(taus.get(m), 12).u();
            for (int i = 0; i < 96; i++) System.arraycopy(part.data(), i * 12, u.data(), i * 96 + m * 12, 12);
        }
        double[] s = JacobiSvd.decompose(u).s();
        System.out.printf("blockwise Û: σ from %.3g to %.3g%n", s[0], s[95]);
        // Perturbation bound of the polar factor: float32 rounding of Û (2⁻²⁴) amplified by ≈ 2/(σ_min + σ_min−1).
        double d = SvdTestMatrices.maxRelativeDifference(FAST.polar(u), REF.polar(u));
        double bound = 0x1p-24 * 2 / (s[95] + s[94]) * 10;
        System.out.printf("blockwise Û: polar vs reference %.2e (bound %.2e)%n", d, bound);
        assertTrue(d <= bound, "blockwise Û: polar differs from the reference by " + d + " > " + bound);
        assertTrue(SvdTestMatrices.columnOrthogonality(FAST.polar(u)) <= 1e-5);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32

        // Q + 1e-6·E with Q orthonormal: σ within 1e-5 of 1, the polar factor within 1e-5 of the reference.
        FloatMatrix q = REF.polar(SvdTestMatrices.gaussian(70, 50, 7001));
        FloatMatrix e = SvdTestMatrices.gaussian(70, 50, 7002);
        FloatMatrix near = q.copy();
        for (int i = 0; i < near.data().length; i++) near.data()[i] += 1e-6f * e.data()[i];
        FloatMatrix p = FAST.polar(near);
        double dn = SvdTestMatrices.maxRelativeDifference(p, REF.polar(near));
        assertTrue(dn <= 1e-5, "nearly orthonormal: " + dn);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertTrue(SvdTestMatrices.columnOrthogonality(p) <= 1e-6, "nearly orthonormal: orthogonality");  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        assertEquals(0, SvdTestMatrices.maxRelativeDifference(p, q), 2e-5, "polar(Q + 1e-6 E) ≈ Q");  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
    }

    @Test
    void polarOfARankDeficientÛIsAValidFactor() {
        // Two identical tasks: Û = [U_k, U_k] has rank k; any orthonormal P with PᵀÛ symmetric PSD is valid (§11).
        FloatMatrix tau = powerLawTask(64, 64, 8000);
        FloatMatrix uk = FAST.truncated(tau, 32).u();
        FloatMatrix u = FloatMatrix.zeros(64, 64);
        for (int i = 0; i < 64; i++) {
            System.arraycopy(uk.data(), i * 32, u.data(), i * 64, 32);
            System.arraycopy(uk.data(), i * 32, u.data(), i * 64 + 32, 32);
        }
        FloatMatrix p = FAST.polar(u);
        assertTrue(SvdTestMatrices.columnOrthogonality(p) <= 1e-5, "orthonormal columns");  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        FloatMatrix h = REF.multiplyTransposed(p, u);
        double norm = u.frobenius();
        for (int i = 0; i < 64; i++) {
            for (int j = 0; j < i; j++) assertEquals(h.get(i, j), h.get(j, i), 1e-5 * norm, "H symmetric at " + i + "," + j);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        }
        double[] hs = JacobiSvd.decompose(h).s();
        double[] us = JacobiSvd.decompose(u).s();
        // H = PᵀÛ is the PSD factor: its singular values are Û's (√2 on 32 directions, 0 on the rest).
        for (int i = 0; i < 64; i++) assertEquals(us[i], hs[i], 1e-5, "σ" + i + " of H");  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
        double reconstruct = relativeFrobenius(REF.multiply(p, h), u);
        assertTrue(reconstruct <= 1e-5, "P·H = Û: " + reconstruct);  // §1.10 SVD tolerance (relative Frobenius 1e-4), tightened for float32
    }
}

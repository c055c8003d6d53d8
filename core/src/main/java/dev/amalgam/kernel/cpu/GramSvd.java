package dev.amalgam.kernel.cpu;

import dev.amalgam.kernel.svd.FloatMatrix;
import dev.amalgam.kernel.svd.Svd;
import dev.amalgam.kernel.svd.SvdKernels;

/**
 * Thin and truncated SVD through the Gram matrix of the smaller side: for B (p×q, p ≥ q; A or
 * Aᵀ, scaled by 1/max|a|), G = BᵀB in double (upper triangle, mirrored), its k largest
 * eigenpairs G·v = λ·v ({@link SymmetricEigen#top}), σ = √λ, U = B·V·Σ⁻¹ (float32 GEMM).
 *
 * <p>Implementation notes — accuracy. G and its eigenpairs are double, so σ_i is accurate to
 * about 2⁻⁵²·σ_1²/σ_i (relative) and V to double rounding over the eigengap. Columns of U for
 * σ_i ≥ {@link #TRUSTED}·σ_1 are orthogonal to float32 rounding; smaller ones lose accuracy as
 * σ_1/σ_i, so they are re-orthogonalized (Gram–Schmidt against all earlier columns, twice, in
 * double), and a column that is mostly inside the span of the earlier ones (σ_i ≈ 0: rank
 * deficiency) is replaced by a unit vector orthogonal to them ({@link #completion}). Their singular values are tiny,
 * so the reconstruction error this allows stays below 1e-6·‖A‖ (tested by the contract suite).
 * The QL iteration count is reported as the sweep count.
 */
final class GramSvd {

    /** σ_i/σ_1 above which B·v_i/σ_i is trusted as is. */
    static final double TRUSTED = 1e-2;

    private GramSvd() {
    }

    /** The top {@code k} triplets (k ≤ min(m, n)). */
    static Svd decompose(FloatMatrix a, int k) {
        SvdKernels.requireFinite(a);
        int m = a.rows(), n = a.cols();
        boolean wide = m < n;
        int p = wide ? n : m, q = wide ? m : n;
        k = Math.max(0, Math.min(k, q));
        float scale = a.maxAbs();
        if (q == 0 || k == 0 || scale == 0) return zeroMatrix(m, n, k, wide);

        // B, scaled (float32 for the GEMM with V, double for the Gram matrix).
        float[] b = wide ? a.transpose().data() : a.data(); // B row-major p×q
        float inv = 1f / scale;
        float[] bs = new float[b.length];
        for (int i = 0; i < b.length; i++) bs[i] = b[i] * inv;
        if (!Float.isFinite(inv) || hasInfinite(bs)) { // subnormal max: rescale in double
            double dinv = 1.0 / scale;
            for (int i = 0; i < b.length; i++) bs[i] = (float) (b[i] * dinv);
        }
        double[] bd = new double[bs.length];
        for (int i = 0; i < bs.length; i++) bd[i] = bs[i];
        double[] g = DenseKernels.gramFlat(bd, p, q);
        SymmetricEigen.Result eig = SymmetricEigen.top(g, q, k);

        double[] sigma = new double[k];
        float[] vk = new float[q * k]; // V_k, q×k row-major
        for (int l = 0; l < k; l++) {
            sigma[l] = Math.sqrt(Math.max(0, eig.values()[l]));
            double[] v = eig.vectors()[l];
            for (int j = 0; j < q; j++) vk[j * k + l] = (float) v[j];
        }
        float[] bv = DenseKernels.gemm(bs, vk, p, q, k); // p×k
        double[][] u = new double[k][p];
        for (int l = 0; l < k; l++) {
            double f = sigma[l] > 0 ? 1 / sigma[l] : 0;
            for (int i = 0; i < p; i++) u[l][i] = bv[i * k + l] * f;
        }
        repairColumns(u, sigma, p);

        FloatMatrix uOut = FloatMatrix.zeros(p, k);
        FloatMatrix vhOut = FloatMatrix.zeros(k, q);
        double[] s = new double[k];
        for (int l = 0; l < k; l++) {
            s[l] = sigma[l] * scale;
            for (int i = 0; i < p; i++) uOut.data()[i * k + l] = (float) u[l][i];
            double[] v = eig.vectors()[l];
            for (int j = 0; j < q; j++) vhOut.data()[l * q + j] = (float) v[j];
        }
        if (!wide) return new Svd(uOut, s, vhOut, eig.iterations(), 0);
        // A = Bᵀ = V·Σ·Uᵀ.
        return new Svd(vhOut.transpose(), s, uOut.transpose(), eig.iterations(), 0);
    }

    private static boolean hasInfinite(float[] x) {
        for (float v : x) if (Float.isInfinite(v)) return true;
        return false;
    }

    /** Re-orthogonalizes the columns of small σ and replaces those in the span of earlier ones. */
    private static void repairColumns(double[][] u, double[] sigma, int p) {
        int k = u.length;
        for (int l = 0; l < k; l++) {
            if (sigma[l] >= TRUSTED * sigma[0] && sigma[l] > 0) continue;
            double[] w = u[l];
            double before = Math.sqrt(DenseKernels.dot(w, w, p));
            for (int pass = 0; pass < 2; pass++) {
                for (int j = 0; j < l; j++) DenseKernels.axpy(-DenseKernels.dot(u[j], w, p), u[j], 0, w, 0, p);
            }
            double after = Math.sqrt(DenseKernels.dot(w, w, p));
            if (sigma[l] > 0 && after > 0.5 * before && after > 0) {
                for (int i = 0; i < p; i++) w[i] /= after;
            } else {
                u[l] = completion(u, l, p);
                if (sigma[l] <= 0) sigma[l] = 0;
            }
        }
    }

    /**
     * A unit vector orthogonal to u[0..l): the unit vector e_l if it is mostly outside their span
     * (the zero matrix gets the identity's columns), else fixed-seed Gaussian vectors, whose
     * component outside an l-dimensional span is about √((p − l)/p) of their norm. (Trying only
     * unit vectors fails when l is close to p: then none need keep half its norm.)
     */
    private static double[] completion(double[][] u, int l, int p) {
        double[] w = new double[p];
        w[l % p] = 1;
        if (orthogonalizedNorm(u, l, w, p) > 0.5) return normalize(w, p);
        java.util.SplittableRandom random = new java.util.SplittableRandom(0xC0FFEEL + 31L * l + p);
        for (int attempt = 0; attempt < 64; attempt++) {
            for (int i = 0; i < p; i++) w[i] = random.nextGaussian();
            double before = Math.sqrt(DenseKernels.dot(w, w, p));
            double after = orthogonalizedNorm(u, l, w, p);
            if (after > 1e-3 * before) {
                normalize(w, p);
                orthogonalizedNorm(u, l, w, p); // once more after normalizing: orthogonal to rounding
                return normalize(w, p);
            }
        }
        throw new IllegalStateException("no unit vector orthogonal to " + l + " columns of length " + p);
    }

    /** w minus its components along u[0..l) (Gram–Schmidt, twice); returns the norm left. */
    private static double orthogonalizedNorm(double[][] u, int l, double[] w, int p) {
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < l; j++) DenseKernels.axpy(-DenseKernels.dot(u[j], w, p), u[j], 0, w, 0, p);
        }
        return Math.sqrt(DenseKernels.dot(w, w, p));
    }

    private static double[] normalize(double[] w, int p) {
        double norm = Math.sqrt(DenseKernels.dot(w, w, p));
        for (int i = 0; i < p; i++) w[i] /= norm;
        return w;
    }

    private static Svd zeroMatrix(int m, int n, int k, boolean wide) {
        int p = wide ? n : m, q = wide ? m : n;
        double[][] u = new double[k][];
        for (int l = 0; l < k; l++) u[l] = completion(u, l, p);
        FloatMatrix uOut = FloatMatrix.zeros(p, k), vh = FloatMatrix.zeros(k, q);
        for (int l = 0; l < k; l++) {
            for (int i = 0; i < p; i++) uOut.data()[i * k + l] = (float) u[l][i];
            vh.data()[l * q + l] = 1;
        }
        if (!wide) return new Svd(uOut, new double[k], vh, 0, 0);
        return new Svd(vh.transpose(), new double[k], uOut.transpose(), 0, 0);
    }
}

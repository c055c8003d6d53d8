package dev.amalgam.cuda.internal;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.amalgam.cuda.internal.KernelLayouts.FiniteScanArgs;
import dev.amalgam.cuda.internal.KernelLayouts.GtaMergeArgs;
import dev.amalgam.cuda.internal.KernelLayouts.GtaModel;
import dev.amalgam.cuda.internal.KernelLayouts.GtaStatsArgs;
import dev.amalgam.cuda.internal.KernelLayouts.LinearArgs;
import dev.amalgam.cuda.internal.KernelLayouts.LinearInput;
import dev.amalgam.cuda.internal.KernelLayouts.SelectArgs;
import dev.amalgam.cuda.internal.KernelLayouts.SelectSegment;
import dev.amalgam.random.Philox4x32;
import dev.amalgam.tensor.DTypeConversion;
import java.lang.foreign.MemorySegment;

/**
 * The fake driver plus a sequential Java emulation of each kernel of kernels-cuda, reading the
 * same argument blocks and device tables. It lets the host tests run CudaKernels end to end
 * (layouts, chunking, tie cutoffs, statistics, counters) against ReferenceKernels without a GPU.
 * It mirrors the .cu files statement by statement; it does not prove the CUDA code right — the
 * GPU run of the same contract does.
 */
@SuppressWarnings("restricted")  // FFM native access is this class's purpose; tests and launchers enable it
public final class EmulatedCudaDriver extends FakeCudaDriver implements KernelAttributes {

    /** Like a GPU with 227 KiB of opt-in shared memory per block (the kernels here ignore the limit). */
    @Override
    public int cuFuncSetAttribute(long function, int attribute, int value) {
        return attribute == MAX_DYNAMIC_SHARED_SIZE_BYTES && value <= 227 * 1024 ? 0 : 1;
    }

    @Override
    public boolean available() {
        return true;
    }

    @Override
    public int cuDeviceGetAttribute(int[] value, int attribute, int device) {
        int rc = super.cuDeviceGetAttribute(value, attribute, device);
        if (attribute == DEVICE_MAX_SHARED_PER_BLOCK_OPTIN) value[0] = 227 * 1024;
        return rc;
    }


    private static final int TILE = KernelLayouts.TILE;
    public int launches;

    @Override
    public int cuLaunchKernel(long function, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                              int sharedMemBytes, long stream, MemorySegment args) {
        int rc = super.cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedMemBytes, stream, args);
        if (rc != 0) return rc;
        launches++;
        switch (functionName(function)) {
            case "amalgam_magnitude_histogram" -> histogram(args);
            case "amalgam_gta_stats" -> gtaStats(args, gridX);
            case "amalgam_gta_merge" -> gtaMerge(args);
            case "amalgam_linear" -> linear(args);
            case "amalgam_finite_scan" -> finiteScan(args);
            default -> throw new IllegalStateException("unknown kernel " + functionName(function));
        }
        return 0;
    }

    private MemorySegment mem(long address) {
        return at(address, 1).reinterpret(Long.MAX_VALUE);  // bounds were checked when the data was copied in
    }

    private float load(long ptr, int dtype, long i) {
        MemorySegment m = mem(ptr);
        return switch (dtype) {
            case KernelLayouts.DTYPE_BF16 -> DTypeConversion.bf16ToFloat(m.getAtIndex(JAVA_SHORT, i));
            case KernelLayouts.DTYPE_F16 -> Float.float16ToFloat(m.getAtIndex(JAVA_SHORT, i));
            default -> m.getAtIndex(JAVA_FLOAT, i);
        };
    }

    private float store(long ptr, int dtype, long i, float v) {
        MemorySegment m = mem(ptr);
        switch (dtype) {
            case KernelLayouts.DTYPE_BF16 -> {
                short h = DTypeConversion.floatToBf16(v);
                m.setAtIndex(JAVA_SHORT, i, h);
                return DTypeConversion.bf16ToFloat(h);
            }
            case KernelLayouts.DTYPE_F16 -> {
                short h = Float.floatToFloat16(v);
                m.setAtIndex(JAVA_SHORT, i, h);
                return Float.float16ToFloat(h);
            }
            default -> {
                m.setAtIndex(JAVA_FLOAT, i, v);
                return v;
            }
        }
    }

    private void histogram(MemorySegment a) {
        MemorySegment table = mem(a.get(JAVA_LONG, SelectArgs.SEGMENTS));
        MemorySegment hist = mem(a.get(JAVA_LONG, SelectArgs.HISTOGRAM));
        int shift = a.get(JAVA_INT, SelectArgs.SHIFT), bits = a.get(JAVA_INT, SelectArgs.BITS);
        int prefix = a.get(JAVA_INT, SelectArgs.PREFIX);
        for (int s = 0; s < a.get(JAVA_INT, SelectArgs.SEGMENT_COUNT); s++) {
            long row = (long) s * SelectSegment.SIZE;
            long base = table.get(JAVA_LONG, row + SelectSegment.BASE_PTR), model = table.get(JAVA_LONG, row + SelectSegment.MODEL_PTR);
            int bd = table.get(JAVA_INT, row + SelectSegment.BASE_DTYPE), md = table.get(JAVA_INT, row + SelectSegment.MODEL_DTYPE);
            for (long i = 0; i < table.get(JAVA_LONG, row + SelectSegment.COUNT); i++) {
                int key = KernelLayouts.deviceKey(load(model, md, i) - load(base, bd, i));
                if (key >>> (shift + bits) == prefix) {
                    long bin = (key >>> shift) & ((1 << bits) - 1);
                    hist.setAtIndex(JAVA_LONG, bin, hist.getAtIndex(JAVA_LONG, bin) + 1);
                }
            }
        }
    }

    private record Model(long ptr, long keepCutoff, long excludeCutoff, double rescale, int dtype, int sparsifier, int keepKey,
                         int excludeKey, boolean hasExclude, int rescaleMode, int modelIndex, int keepBound, float weight) {
        static Model read(MemorySegment table, int m) {
            long r = (long) m * GtaModel.SIZE;
            return new Model(table.get(JAVA_LONG, r + GtaModel.MODEL_PTR), table.get(JAVA_LONG, r + GtaModel.KEEP_CUTOFF),
                    table.get(JAVA_LONG, r + GtaModel.EXCLUDE_CUTOFF), table.get(JAVA_DOUBLE, r + GtaModel.RESCALE),
                    table.get(JAVA_INT, r + GtaModel.DTYPE), table.get(JAVA_INT, r + GtaModel.SPARSIFIER),
                    table.get(JAVA_INT, r + GtaModel.KEEP_KEY), table.get(JAVA_INT, r + GtaModel.EXCLUDE_KEY),
                    table.get(JAVA_INT, r + GtaModel.HAS_EXCLUDE) != 0, table.get(JAVA_INT, r + GtaModel.RESCALE_MODE),
                    table.get(JAVA_INT, r + GtaModel.MODEL_INDEX), table.get(JAVA_INT, r + GtaModel.KEEP_BOUND),
                    table.get(JAVA_FLOAT, r + GtaModel.WEIGHT));
        }

        boolean keeps(int key, long i, int hash, int seedLo, int seedHi) {
            if (sparsifier == KernelLayouts.SPARSIFY_BAND) {
                boolean inKeep = key > keepKey || (key == keepKey && Long.compareUnsigned(i, keepCutoff) < 0);
                boolean inExclude = hasExclude && (key > excludeKey || (key == excludeKey && Long.compareUnsigned(i, excludeCutoff) < 0));
                return inKeep && !inExclude;
            }
            if (sparsifier == KernelLayouts.SPARSIFY_BERNOULLI) {
                int w = Philox4x32.word0((int) i, (int) (i >>> 32), modelIndex, hash, seedLo, seedHi);
                return Integer.compareUnsigned(w >>> 8, keepBound) < 0;
            }
            return true;
        }

        float rescale(float x) {
            if (rescaleMode == KernelLayouts.RESCALE_MULTIPLY) return (float) ((double) x * rescale);
            if (rescaleMode == KernelLayouts.RESCALE_DIVIDE) return (float) ((double) x / rescale);
            return x;
        }
    }

    private static int sgn(float x) {
        return (x > 0 ? 1 : 0) - (x < 0 ? 1 : 0);
    }

    private void gtaStats(MemorySegment a, int grid) {
        long base = a.get(JAVA_LONG, GtaStatsArgs.BASE_PTR);
        int bd = a.get(JAVA_INT, GtaStatsArgs.BASE_DTYPE), t = a.get(JAVA_INT, GtaStatsArgs.MODEL_COUNT);
        long start = a.get(JAVA_LONG, GtaStatsArgs.CHUNK_START), count = a.get(JAVA_LONG, GtaStatsArgs.COUNT);
        long totalTiles = a.get(JAVA_LONG, GtaStatsArgs.TOTAL_TILES);
        int mode = a.get(JAVA_INT, GtaStatsArgs.MODE);
        int hash = a.get(JAVA_INT, GtaStatsArgs.NAME_HASH), lo = a.get(JAVA_INT, GtaStatsArgs.SEED_LO), hi = a.get(JAVA_INT, GtaStatsArgs.SEED_HI);
        MemorySegment flags = t >= 0 ? mem(a.get(JAVA_LONG, GtaStatsArgs.NONFINITE)) : null;
        MemorySegment table = t > 0 ? mem(a.get(JAVA_LONG, GtaStatsArgs.MODELS)) : null;
        if (start % TILE != 0 || grid != (count + TILE - 1) / TILE) throw new IllegalStateException("stats grid " + grid);
        for (long lt = 0; lt < grid; lt++) {
            long tile = start / TILE + lt, first = lt * TILE, end = Math.min(first + TILE, count);
            if (mode == 0) {
                for (long j = first; j < end; j++) if (!Float.isFinite(load(base, bd, j))) flags.setAtIndex(JAVA_INT, 0, 1);
            }
            for (int m = 0; m < t; m++) {
                Model md = Model.read(table, m);
                double l1 = 0;
                int tiesKeep = 0, tiesExclude = 0;
                for (long j = first; j < end; j++) {
                    float x = load(md.ptr(), md.dtype(), j);
                    float d = x - load(base, bd, j);
                    int key = KernelLayouts.deviceKey(d);
                    if (mode == 0) {
                        if (!Float.isFinite(x)) flags.setAtIndex(JAVA_INT, m + 1, 1);
                        if (key == md.keepKey()) tiesKeep++;
                        if (key == md.excludeKey()) tiesExclude++;
                        l1 += Math.abs(d);
                    } else if (md.keeps(key, start + j, hash, lo, hi)) {
                        l1 += Math.abs(d);
                    }
                }
                mem(a.get(JAVA_LONG, GtaStatsArgs.L1)).setAtIndex(JAVA_DOUBLE, m * totalTiles + tile, l1);
                if (mode == 0) {
                    mem(a.get(JAVA_LONG, GtaStatsArgs.TIES_KEEP)).setAtIndex(JAVA_INT, m * totalTiles + tile, tiesKeep);
                    mem(a.get(JAVA_LONG, GtaStatsArgs.TIES_EXCLUDE)).setAtIndex(JAVA_INT, m * totalTiles + tile, tiesExclude);
                }
            }
        }
    }

    private void gtaMerge(MemorySegment a) {
        long base = a.get(JAVA_LONG, GtaMergeArgs.BASE_PTR), out = a.get(JAVA_LONG, GtaMergeArgs.OUT_PTR);
        int bd = a.get(JAVA_INT, GtaMergeArgs.BASE_DTYPE), od = a.get(JAVA_INT, GtaMergeArgs.OUT_DTYPE);
        int t = a.get(JAVA_INT, GtaMergeArgs.MODEL_COUNT), consensus = a.get(JAVA_INT, GtaMergeArgs.CONSENSUS);
        boolean normalize = a.get(JAVA_INT, GtaMergeArgs.NORMALIZE) != 0;
        float divisorAll = a.get(JAVA_FLOAT, GtaMergeArgs.DIVISOR), lambda = a.get(JAVA_FLOAT, GtaMergeArgs.LAMBDA);
        int hash = a.get(JAVA_INT, GtaMergeArgs.NAME_HASH), lo = a.get(JAVA_INT, GtaMergeArgs.SEED_LO), hi = a.get(JAVA_INT, GtaMergeArgs.SEED_HI);
        long start = a.get(JAVA_LONG, GtaMergeArgs.CHUNK_START), count = a.get(JAVA_LONG, GtaMergeArgs.COUNT);
        MemorySegment counters = mem(a.get(JAVA_LONG, GtaMergeArgs.COUNTERS));
        Model[] models = new Model[t];
        for (int m = 0; m < t; m++) models[m] = Model.read(mem(a.get(JAVA_LONG, GtaMergeArgs.MODELS)), m);
        long[] kept = new long[t];
        long conflicts = 0, nonfinite = 0;
        float[] v = new float[t];
        for (long j = 0; j < count; j++) {
            long i = start + j;
            float b = load(base, bd, j);
            float mixed = 0f;
            double sum = 0;
            int signs = 0;
            for (int m = 0; m < t; m++) {
                Model md = models[m];
                float d = load(md.ptr(), md.dtype(), j) - b;
                boolean keep = md.keeps(KernelLayouts.deviceKey(d), i, hash, lo, hi);
                if (keep) kept[m]++; else d = 0f;
                v[m] = md.weight() * md.rescale(d);
                if (consensus != KernelLayouts.CONSENSUS_NONE) {
                    sum += v[m];
                    signs += sgn(v[m]);
                } else {
                    mixed += v[m];
                }
            }
            boolean conflict = false;
            if (consensus != KernelLayouts.CONSENSUS_NONE) {
                int elected = consensus == KernelLayouts.CONSENSUS_SUM ? (sum >= 0 ? 1 : -1) : (signs >= 0 ? 1 : -1);
                float divisor = 0f;
                for (int m = 0; m < t; m++) {
                    if (sgn(v[m]) == elected) {
                        mixed += v[m];
                        divisor += models[m].weight();
                    } else if (v[m] != 0f) {
                        conflict = true;
                    }
                }
                if (normalize) mixed = mixed / (divisor == 0f ? 1f : divisor);
            } else if (normalize) {
                mixed = mixed / divisorAll;
            }
            mixed = mixed * lambda;
            if (!Float.isFinite(store(out, od, j, b + mixed))) nonfinite++;
            if (conflict) conflicts++;
        }
        for (int m = 0; m < t; m++) counters.setAtIndex(JAVA_LONG, m, counters.getAtIndex(JAVA_LONG, m) + kept[m]);
        counters.setAtIndex(JAVA_LONG, t, counters.getAtIndex(JAVA_LONG, t) + conflicts);
        counters.setAtIndex(JAVA_LONG, t + 1, counters.getAtIndex(JAVA_LONG, t + 1) + nonfinite);
    }

    private void linear(MemorySegment a) {
        int k = a.get(JAVA_INT, LinearArgs.INPUT_COUNT), od = a.get(JAVA_INT, LinearArgs.OUT_DTYPE);
        MemorySegment table = k > 0 ? mem(a.get(JAVA_LONG, LinearArgs.INPUTS)) : null;
        long out = a.get(JAVA_LONG, LinearArgs.OUT_PTR), count = a.get(JAVA_LONG, LinearArgs.COUNT);
        float divisor = a.get(JAVA_FLOAT, LinearArgs.DIVISOR);
        long nonfinite = 0;
        for (long j = 0; j < count; j++) {
            float acc = 0f;
            for (int x = 0; x < k; x++) {
                long r = (long) x * LinearInput.SIZE;
                acc += table.get(JAVA_FLOAT, r + LinearInput.WEIGHT)
                        * load(table.get(JAVA_LONG, r + LinearInput.PTR), table.get(JAVA_INT, r + LinearInput.DTYPE), j);
            }
            if (!Float.isFinite(store(out, od, j, acc / divisor))) nonfinite++;
        }
        MemorySegment c = mem(a.get(JAVA_LONG, LinearArgs.COUNTERS));
        c.set(JAVA_LONG, 0, c.get(JAVA_LONG, 0) + nonfinite);
    }

    private void finiteScan(MemorySegment a) {
        int k = a.get(JAVA_INT, FiniteScanArgs.INPUT_COUNT);
        MemorySegment table = mem(a.get(JAVA_LONG, FiniteScanArgs.INPUTS));
        MemorySegment flags = mem(a.get(JAVA_LONG, FiniteScanArgs.FLAGS));
        for (int x = 0; x < k; x++) {
            long r = (long) x * LinearInput.SIZE;
            for (long j = 0; j < a.get(JAVA_LONG, FiniteScanArgs.COUNT); j++) {
                if (!Float.isFinite(load(table.get(JAVA_LONG, r + LinearInput.PTR), table.get(JAVA_INT, r + LinearInput.DTYPE), j))) {
                    flags.setAtIndex(JAVA_INT, x, 1);
                }
            }
        }
    }
}

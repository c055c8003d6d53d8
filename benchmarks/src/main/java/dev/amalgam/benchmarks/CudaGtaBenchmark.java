package dev.amalgam.benchmarks;

import dev.amalgam.cuda.CudaKernelProvider;
import dev.amalgam.cuda.CudaKernels;
import dev.amalgam.cuda.DeviceDeltaSource;
import dev.amalgam.cuda.DeviceGtaPass;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.cuda.internal.Cuda;
import dev.amalgam.cuda.internal.FatbinResource;
import dev.amalgam.kernel.ConsensusMethod;
import dev.amalgam.kernel.KernelProvider;
import dev.amalgam.kernel.MagnitudeThreshold;
import dev.amalgam.kernel.RescaleMode;
import dev.amalgam.kernel.Sparsifier;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.DTypeConversion;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * The CUDA backend on device-resident tensors: the fused TIES pass for T models of n elements
 * (BF16 or F32), magnitude selection, and the device's own copy bandwidth (cuMemcpyDtoD) to
 * compare them with. Data stays on the device, so these time the kernels, not PCIe.
 *
 * <p>What is reported
 * <ul>
 *   <li>JMH's score: wall time per call of {@code gtaOnDevice} (TIES: statistics kernel, host
 *       tie cutoffs, fused merge kernel) and of {@code selectLargestOnDevice} (three histogram
 *       passes), and of one device-to-device copy.</li>
 *   <li>At the end of each trial, one line per case starting with {@code AMALGAM-BENCH}, with
 *       the bytes each kernel moves and its device time from CUDA events (kernel profiling on a
 *       separate run of a few calls, so it does not disturb JMH's timing): the fused merge moves
 *       (T+1)·n·s bytes read + n·s written, s = element size; statistics read (T+1)·n·s;
 *       selection (all three histogram passes) is reported against one read of its input, 2·n·s,
 *       as the "at most 2× one read" target; the copy moves 2·bytes (read + write).
 *       {@code run-gpu-suite.sh bench} turns these lines into the summary table.</li>
 * </ul>
 *
 * <p>Without a usable GPU every trial fails at setup with the provider's reason; {@link #main}
 * says so and exits with status 3 before starting JMH.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class CudaGtaBenchmark {

    /** Host values are generated for this many elements and repeated across the device buffers. */
    static final int PATTERN = 1 << 22;
    static final double DENSITY = 0.2;

    /** The backend, opened once per trial; fails with the reason when there is no usable GPU. */
    @State(Scope.Benchmark)
    public static class Device {
        CudaKernels kernels;
        Cuda cuda;
        final List<Long> allocations = new ArrayList<>();

        @Setup(Level.Trial)
        public void open() {
            CudaKernelProvider provider = new CudaKernelProvider();
            KernelProvider.Availability a = provider.availability();
            if (!a.usable()) throw new IllegalStateException("CUDA benchmark needs a usable GPU: " + a.reason());
            CudaKernelProvider.Probe p = provider.probe();
            cuda = p.cuda();
            kernels = new CudaKernels(cuda, p.ordinal(), FatbinResource.read(), Long.MAX_VALUE, 8L << 20);
            System.out.println("AMALGAM-BENCH device " + kernels.device());
        }

        long alloc(long bytes) {
            long address = cuda.memAlloc(bytes);
            allocations.add(address);
            return address;
        }

        @TearDown(Level.Trial)
        public void close() {
            if (kernels == null) return;
            cuda.setCurrent(kernels.context());
            for (long a : allocations) cuda.memFree(a);
            allocations.clear();
            kernels.close();
        }
    }

    /** T models, n elements, one dtype: base, models and output on the device, TIES at density 0.2. */
    @State(Scope.Benchmark)
    public static class Ties {
        @Param({"2", "4", "8"})
        public int models;
        @Param({"16777216", "67108864", "268435456"})
        public long elements;
        @Param({"BF16", "F32"})
        public String dtype;

        DeviceGtaPass pass;

        @Setup(Level.Trial)
        public void prepare(Device device) {
            DType type = DType.valueOf(dtype);
            DeviceTensor base = fill(device, "bench.weight", type, elements, 1, null);
            List<DeviceTensor> inputs = new ArrayList<>();
            for (int m = 0; m < models; m++) inputs.add(fill(device, "bench.weight", type, elements, 100 + m, base));
            DeviceTensor out = DeviceTensor.of("bench.weight", type, device.alloc(elements * type.byteSize()), elements);
            long k = (long) (DENSITY * elements);
            Sparsifier[] sparsifiers = new Sparsifier[models];
            for (int m = 0; m < models; m++) {
                MagnitudeThreshold t = device.kernels.selectLargestOnDevice(List.of(new DeviceDeltaSource(base, inputs.get(m))), k);
                sparsifiers[m] = Sparsifier.MagnitudeBand.trim(t);
            }
            int[] indices = new int[models];
            float[] weights = new float[models];
            for (int m = 0; m < models; m++) {
                indices[m] = m + 1;
                weights[m] = 1f;
            }
            pass = new DeviceGtaPass("bench.weight", base, inputs, indices, weights, sparsifiers, RescaleMode.NONE, 0,
                    ConsensusMethod.SUM, true, 1f, out, false);
        }

        /** Kernel device times over a few profiled calls, printed once per trial. */
        @TearDown(Level.Trial)
        public void report(Device device) {
            int s = DType.valueOf(dtype).byteSize();
            int calls = 3;
            device.kernels.profileKernels(true);
            device.kernels.resetKernelMillis();
            for (int i = 0; i < calls; i++) device.kernels.gtaOnDevice(pass);
            Map<String, Double> gta = device.kernels.kernelMillis();
            device.kernels.profileKernels(false);
            long n = elements;
            line("merge", models, n, dtype, (models + 2L) * n * s, gta.getOrDefault("amalgam_gta_merge", 0.0) / calls);
            line("stats", models, n, dtype, (models + 1L) * n * s, gta.getOrDefault("amalgam_gta_stats", 0.0) / calls);
        }
    }

    /** One base and one model of n elements: the k = 0.2·n largest |δ|. */
    @State(Scope.Benchmark)
    public static class Selection {
        @Param({"16777216", "67108864", "268435456"})
        public long elements;
        @Param({"BF16", "F32"})
        public String dtype;

        List<DeviceDeltaSource> delta;
        long k;

        @Setup(Level.Trial)
        public void prepare(Device device) {
            DType type = DType.valueOf(dtype);
            DeviceTensor base = fill(device, "bench.weight", type, elements, 1, null);
            delta = List.of(new DeviceDeltaSource(base, fill(device, "bench.weight", type, elements, 100, base)));
            k = (long) (DENSITY * elements);
        }

        /** Three histogram passes, each reading base and model once: compare with 2·n·s / copy bandwidth. */
        @TearDown(Level.Trial)
        public void report(Device device) {
            int calls = 3;
            device.kernels.profileKernels(true);
            device.kernels.resetKernelMillis();
            for (int i = 0; i < calls; i++) device.kernels.selectLargestOnDevice(delta, k);
            double ms = device.kernels.kernelMillis().getOrDefault("amalgam_magnitude_histogram", 0.0) / calls;
            device.kernels.profileKernels(false);
            line("select", 1, elements, dtype, 2L * elements * DType.valueOf(dtype).byteSize(), ms);
        }
    }

    /** {@code bytes} are one read of the inputs (+ one write for merge and copy); GB/s = bytes / time. */
    static void line(String kernel, int models, long n, String dtype, long bytes, double ms) {
        System.out.printf(Locale.ROOT, "AMALGAM-BENCH kernel=%s T=%d n=%d dtype=%s bytes=%d ms=%.4f GBps=%.1f%n",
                kernel, models, n, dtype, bytes, ms, bytes / (ms * 1e6));
    }

    /** Fills a device tensor: a pattern of PATTERN random values repeated; models are base + small deltas. */
    static DeviceTensor fill(Device device, String name, DType type, long n, long seed, DeviceTensor base) {
        long address = device.alloc(n * type.byteSize());
        SplittableRandom rnd = new SplittableRandom(seed);
        int pattern = (int) Math.min(n, PATTERN);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment host = arena.allocate((long) pattern * type.byteSize(), 8);
            SplittableRandom baseRnd = new SplittableRandom(1);
            for (int i = 0; i < pattern; i++) {
                float b = (float) (baseRnd.nextGaussian() * 0.02);
                float v = base == null ? b : b + (float) (rnd.nextGaussian() * 0.002);
                if (type == DType.BF16) host.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, DTypeConversion.floatToBf16(v));
                else host.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
            }
            long patternBytes = host.byteSize();
            for (long off = 0; off < n * type.byteSize(); off += patternBytes) {
                long len = Math.min(patternBytes, n * type.byteSize() - off);
                device.cuda.copyHtoDAsync(address + off, host.address(), len, 0);
            }
            device.cuda.streamSynchronize(0);
        }
        return DeviceTensor.of(name, type, address, n);
    }

    /** One large device-to-device copy: the bandwidth the fused pass is compared with. */
    @State(Scope.Benchmark)
    public static class Copy {
        @Param({"4294967296"})
        public long bytes;
        long src, dst;

        @Setup(Level.Trial)
        public void prepare(Device device) {
            src = device.alloc(bytes);
            dst = device.alloc(bytes);
            device.cuda.memsetAsync(src, 0x3C, bytes, 0);
            device.cuda.streamSynchronize(0);
        }

        @TearDown(Level.Trial)
        public void report(Device device) {
            long start = device.cuda.eventCreate(0), end = device.cuda.eventCreate(0);
            int calls = 5;
            device.cuda.eventRecord(start, 0);
            for (int i = 0; i < calls; i++) device.cuda.copyDtoDAsync(dst, src, bytes, 0);
            device.cuda.eventRecord(end, 0);
            device.cuda.eventSynchronize(end);
            double ms = device.cuda.eventElapsedMillis(start, end) / calls;
            device.cuda.eventDestroy(start);
            device.cuda.eventDestroy(end);
            line("copy", 0, bytes, "U8", 2 * bytes, ms);
        }
    }

    @Benchmark
    public Object tiesPass(Device device, Ties ties) {
        return device.kernels.gtaOnDevice(ties.pass);
    }

    @Benchmark
    public Object magnitudeSelection(Device device, Selection selection) {
        return device.kernels.selectLargestOnDevice(selection.delta, selection.k);
    }

    @Benchmark
    public void deviceCopy(Device device, Copy copy) {
        device.cuda.copyDtoDAsync(copy.dst, copy.src, copy.bytes, 0);
        device.cuda.streamSynchronize(0);
    }

    /**
     * Runs the benchmarks through JMH when a GPU is usable; otherwise prints why not and exits
     * with status 3. Arguments are passed to JMH (default: this class).
     */
    public static void main(String[] args) throws Exception {
        KernelProvider.Availability a = new CudaKernelProvider().availability();
        if (!a.usable()) {
            System.err.println("CudaGtaBenchmark skipped: no usable GPU: " + a.reason());
            System.exit(3);
        }
        org.openjdk.jmh.Main.main(args.length > 0 ? args : new String[] {CudaGtaBenchmark.class.getName()});
    }
}

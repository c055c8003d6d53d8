package dev.amalgam.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a Hugging Face style checkpoint folder: sharded {@code .safetensors} files, the
 * {@code model.safetensors.index.json} when there is more than one shard, and copies of the
 * non-weight files (config, tokenizer, …) — all or nothing.
 *
 * <pre>{@code
 * try (ShardWriter w = ShardWriter.builder(target, outputInfos).maxShardSize(2_000_000_000L)
 *         .copyFiles(ShardWriter.nonWeightFiles(baseDir)).open()) {
 *     for (TensorInfo t : outputInfos) kernel.writeInto(w.tensorFor(t.name()));
 *     w.finish();
 * }   // closing without finish() deletes everything written
 * }</pre>
 *
 * <p>Implementation notes.
 * <ul>
 *   <li>All output sizes are known up front, so {@link Builder#open} plans the shards
 *       ({@link ShardPlan}), creates a temporary folder {@code .<target>.amalgam-tmp-<random>}
 *       next to the target (same file system, so the final rename is atomic), writes every
 *       shard's header, and maps every shard's data section read-write into one shared arena.
 *       Tensors are written by the caller straight into the mapping (no heap copy); the OS
 *       writes dirty pages back in the background.</li>
 *   <li>{@link Builder#open} fails fast on what would otherwise fail hours later: a non-empty target
 *       without {@code force}, missing files to copy, name clashes.</li>
 *   <li>{@link #finish} refuses if any tensor was never handed out (it would silently be
 *       zeros), then forces the mappings, fsyncs every file and the folder, and renames the
 *       temporary folder to the target. With {@code force}, an existing target is renamed aside
 *       first, the new folder renamed in, and only then is the old one deleted; if renaming in
 *       fails the old target is put back.</li>
 *   <li>Any failure in {@link #finish}, {@link #abort} and {@link #close} before a finish
 *       delete the temporary folder. After finish or abort every handed-out segment is
 *       invalid (access throws {@link IllegalStateException}).</li>
 *   <li>Threads: {@link #segmentFor}, {@link #tensorFor} and {@link #put} may be called from
 *       any thread, for distinct tensors concurrently; {@link #finish} must come after all
 *       writes have completed.</li>
 *   <li>Layout: tensors back to back in plan order (no padding between tensors, as the
 *       safetensors crate requires), so a tensor's bytes are only guaranteed 8-byte aligned
 *       for the first tensor of each shard; kernels must use unaligned access.</li>
 * </ul>
 */
public final class ShardWriter implements AutoCloseable {

    /** Metadata written when the caller gives none: {@code transformers} checks {@code format}. */
    public static final Map<String, String> DEFAULT_METADATA = Map.of("format", "pt");

    private static final System.Logger LOG = System.getLogger(ShardWriter.class.getName());
    private static final Set<String> WEIGHT_EXTENSIONS =
            Set.of(".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".gguf", ".onnx");

    private enum State { OPEN, FINISHED, ABORTED }

    private record Slot(TensorInfo info, int shard, long begin) {
    }

    private final Path target;
    private final Path tempFolder;
    private final ShardPlan plan;
    private final Map<String, String> metadata;
    private final List<Path> copyFiles;
    private final boolean force;
    private final Arena arena;
    private final List<FileChannel> channels = new ArrayList<>();
    private final List<MemorySegment> dataSections = new ArrayList<>();
    private final Map<String, Slot> slots = new HashMap<>();
    private final Set<String> handedOut = ConcurrentHashMap.newKeySet();
    private volatile State state = State.OPEN;
    /** Writes finished tensors back to disk while the merge computes the next ones (see {@link #written}). */
    private java.util.concurrent.ExecutorService flusher;
    private final List<java.util.concurrent.Future<?>> flushes = new ArrayList<>();

    /** Starts a writer for {@code tensors}, in output order, into the folder {@code target}. */
    public static Builder builder(Path target, List<TensorInfo> tensors) {
        return new Builder(target, tensors);
    }

    /** Options of a {@link ShardWriter}; {@link #open()} creates it. */
    public static final class Builder {
        private final Path target;
        private final List<TensorInfo> tensors;
        private long maxShardSize = ShardPlan.DEFAULT_MAX_SHARD_SIZE;
        private Map<String, String> metadata = DEFAULT_METADATA;
        private List<Path> copyFiles = List.of();
        private boolean force;
        private String singleFileName;

        private Builder(Path target, List<TensorInfo> tensors) {
            this.target = target.toAbsolutePath().normalize();
            this.tensors = List.copyOf(tensors);
        }

        /** Data bytes per shard (default {@link ShardPlan#DEFAULT_MAX_SHARD_SIZE}). */
        public Builder maxShardSize(long bytes) {
            this.maxShardSize = bytes;
            return this;
        }

        /** The {@code __metadata__} of every shard (default {@link #DEFAULT_METADATA}; empty omits it). */
        public Builder metadata(Map<String, String> metadata) {
            this.metadata = new LinkedHashMap<>(metadata);
            return this;
        }

        /** Files copied into the output folder by name at finish (see {@link #nonWeightFiles}). */
        public Builder copyFiles(List<Path> files) {
            this.copyFiles = List.copyOf(files);
            return this;
        }

        /** Replace an existing, non-empty target at finish. */
        public Builder force(boolean force) {
            this.force = force;
            return this;
        }

        /**
         * Writes one unsharded file with this name instead of {@code model.safetensors} (e.g.
         * PEFT's {@code adapter_model.safetensors}); the tensors must then fit one shard.
         */
        public Builder singleFileName(String name) {
            if (!name.endsWith(".safetensors") || name.contains("/") || name.contains("\\")) {
                throw new IllegalArgumentException("not a plain .safetensors file name: " + name);
            }
            this.singleFileName = name;
            this.maxShardSize = Long.MAX_VALUE;
            return this;
        }

        public ShardWriter open() throws IOException {
            return new ShardWriter(this);
        }
    }

    private ShardWriter(Builder b) throws IOException {
        this.target = b.target;
        ShardPlan planned = ShardPlan.of(b.tensors, b.maxShardSize);
        if (b.singleFileName != null) {
            ShardPlan.Shard only = planned.shards().getFirst();
            planned = new ShardPlan(List.of(new ShardPlan.Shard(b.singleFileName, only.tensors(), only.dataBytes())),
                    planned.maxShardSize());
        }
        this.plan = planned;
        this.metadata = b.metadata;
        this.copyFiles = b.copyFiles;
        this.force = b.force;
        checkTarget();
        checkCopyFiles();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        this.tempFolder = createTempFolder(parent, "." + target.getFileName() + ".amalgam-tmp-");
        this.arena = Arena.ofShared();
        try {
            for (int i = 0; i < plan.shards().size(); i++) createShard(i);
        } catch (IOException | RuntimeException e) {
            abortQuietly(e);
            throw e;
        }
    }

    private void checkTarget() throws IOException {
        if (!force && Files.exists(target) && !isEmptyDirectory(target)) {
            throw new FileAlreadyExistsException(target.toString(), null, "output exists and is not an empty folder; use force to replace it");
        }
    }

    private void checkCopyFiles() throws IOException {
        Set<String> taken = new HashSet<>();
        for (ShardPlan.Shard s : plan.shards()) taken.add(s.fileName());
        if (plan.isSharded()) taken.add(ModelFolder.INDEX_FILE_NAME);
        for (Path f : copyFiles) {
            if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString(), null, "file to copy into the output does not exist");
            String name = f.getFileName().toString();
            if (!taken.add(name)) {
                throw new AmalgamIOException(f, "cannot copy into the output: another output file is already named '" + name + "'");
            }
        }
    }

    private static Path createTempFolder(Path parent, String prefix) throws IOException {
        for (int attempt = 0; ; attempt++) {
            Path p = parent.resolve(prefix + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1));
            try {
                return Files.createDirectory(p); // umask permissions, unlike createTempDirectory's 0700
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) throw e;
            }
        }
    }

    private void createShard(int index) throws IOException {
        ShardPlan.Shard shard = plan.shards().get(index);
        Path file = tempFolder.resolve(shard.fileName());
        byte[] header = SafetensorsHeader.encode(shard.tensors(), metadata);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channels.add(ch);
        ByteBuffer buf = ByteBuffer.wrap(header);
        while (buf.hasRemaining()) ch.write(buf, buf.position());
        // Mapping past the end extends the file (sparse until written).
        MemorySegment data = shard.dataBytes() == 0 ? MemorySegment.NULL
                : ch.map(FileChannel.MapMode.READ_WRITE, header.length, shard.dataBytes(), arena);
        dataSections.add(data);
        long offset = 0;
        for (TensorInfo t : shard.tensors()) {
            slots.put(t.name(), new Slot(t, index, offset));
            offset += t.byteSize();
        }
    }

    /** The final output folder. */
    public Path target() {
        return target;
    }

    /** The temporary folder being written (renamed to {@link #target()} by {@link #finish}). */
    public Path tempFolder() {
        return tempFolder;
    }

    public ShardPlan plan() {
        return plan;
    }

    /**
     * The writable, memory-mapped bytes of tensor {@code name} in its shard (little-endian,
     * {@code info.byteSize()} long, initially zero). Valid until finish or abort.
     *
     * @throws NoSuchElementException if the tensor is not in the plan
     * @throws IllegalStateException  after finish or abort
     */
    public MemorySegment segmentFor(String name) {
        if (state != State.OPEN) throw new IllegalStateException(target + ": writer is " + state.name().toLowerCase(Locale.ROOT));
        Slot slot = slots.get(name);
        if (slot == null) throw new NoSuchElementException(target + ": tensor '" + name + "' is not in the output plan");
        handedOut.add(name);
        return dataSections.get(slot.shard()).asSlice(slot.begin(), slot.info().byteSize());
    }

    /** {@link #segmentFor} as a {@link Tensor}, for {@code setFloat} and the kernels. */
    public Tensor tensorFor(String name) {
        MemorySegment segment = segmentFor(name);
        return new Tensor(slots.get(name).info(), segment);
    }

    /** Copies {@code bytes} (exactly the tensor's byte size) into tensor {@code name}: for pass-through tensors. */
    public void put(String name, MemorySegment bytes) {
        MemorySegment dst = segmentFor(name);
        if (bytes.byteSize() != dst.byteSize()) {
            throw new IllegalArgumentException(target + ": tensor '" + name + "' needs " + dst.byteSize() + " bytes, got " + bytes.byteSize());
        }
        MemorySegment.copy(bytes, 0, dst, 0, dst.byteSize());
    }

    /**
     * Says that tensor {@code name} is complete: its pages are written back to disk in the
     * background, so that the write-back overlaps the computation of later tensors instead of
     * all happening in {@link #finish}. Optional; {@link #finish} forces whatever is left.
     */
    public synchronized void written(String name) {
        if (state != State.OPEN) return;
        Slot slot = slots.get(name);
        if (slot == null || slot.info().byteSize() == 0) return;
        MemorySegment bytes = dataSections.get(slot.shard()).asSlice(slot.begin(), slot.info().byteSize());
        if (flusher == null) {
            flusher = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "amalgam-shard-flusher");
                t.setDaemon(true);
                return t;
            });
        }
        flushes.add(flusher.submit(bytes::force));
    }

    /** Waits for the background write-backs; with {@code cancel}, drops the ones not started. */
    private void stopFlusher(boolean cancel) throws IOException {
        if (flusher == null) return;
        if (cancel) flusher.shutdownNow(); else flusher.shutdown();
        try {
            flusher.awaitTermination(1, java.util.concurrent.TimeUnit.HOURS);
            if (!cancel) {
                for (java.util.concurrent.Future<?> f : flushes) f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while writing " + tempFolder);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AmalgamIOException(tempFolder, "writing tensor data back failed", e.getCause());
        } finally {
            flusher = null;
            flushes.clear();
        }
    }

    /**
     * Makes the output durable and visible: forces and unmaps the shards, writes the index,
     * copies the extra files, fsyncs, and renames the temporary folder to the target. On failure
     * the temporary folder is deleted (and a replaced target restored) before the exception
     * propagates.
     *
     * @return the target folder
     * @throws IllegalStateException if some tensor was never handed out (nothing is deleted then:
     *                               write it and finish again, or close to abort)
     */
    public synchronized Path finish() throws IOException {
        if (state != State.OPEN) throw new IllegalStateException(target + ": writer is " + state.name().toLowerCase(Locale.ROOT));
        List<String> missing = new ArrayList<>();
        for (TensorInfo t : plan.tensors()) if (!handedOut.contains(t.name())) missing.add(t.name());
        if (!missing.isEmpty()) {
            throw new IllegalStateException(target + ": " + missing.size() + " tensor(s) never written, e.g. "
                    + missing.subList(0, Math.min(5, missing.size())));
        }
        try {
            stopFlusher(false);
            for (int i = 0; i < channels.size(); i++) {
                if (dataSections.get(i).byteSize() > 0) dataSections.get(i).force();
                channels.get(i).force(true);
                channels.get(i).close();
            }
            arena.close();
            if (plan.isSharded()) writeIndex(tempFolder.resolve(ModelFolder.INDEX_FILE_NAME));
            for (Path f : copyFiles) {
                Path dst = tempFolder.resolve(f.getFileName().toString());
                Files.copy(f, dst);
                fsync(dst);
            }
            fsyncFolder(tempFolder);
            install();
            state = State.FINISHED;
            fsyncFolder(target.getParent());
            return target;
        } catch (IOException | RuntimeException e) {
            if (state != State.FINISHED) abortQuietly(e);
            throw e;
        }
    }

    private void writeIndex(Path file) throws IOException {
        Map<String, String> weightMap = new TreeMap<>(); // sorted by name, as transformers writes it
        for (ShardPlan.Shard s : plan.shards()) for (TensorInfo t : s.tensors()) weightMap.put(t.name(), s.fileName());
        DefaultPrettyPrinter pretty = new DefaultPrettyPrinter()
                .withObjectIndenter(new DefaultIndenter("  ", "\n"))
                .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER));
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
             JsonGenerator g = new JsonFactory().createGenerator(out)) {
            g.setPrettyPrinter(pretty);
            g.writeStartObject();
            g.writeObjectFieldStart(ModelFolder.METADATA_KEY);
            g.writeNumberField("total_size", plan.totalSize());
            g.writeEndObject();
            g.writeObjectFieldStart(ModelFolder.WEIGHT_MAP_KEY);
            for (Map.Entry<String, String> e : weightMap.entrySet()) g.writeStringField(e.getKey(), e.getValue());
            g.writeEndObject();
            g.writeEndObject();
            g.writeRaw('\n');
        }
        fsync(file);
    }

    private void install() throws IOException {
        if (Files.exists(target) && isEmptyDirectory(target)) Files.delete(target);
        if (!Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.move(tempFolder, target, StandardCopyOption.ATOMIC_MOVE);
            return;
        }
        if (!force) {
            throw new FileAlreadyExistsException(target.toString(), null, "output appeared while writing and is not empty; use force to replace it");
        }
        Path old = createTempFolder(target.getParent(), "." + target.getFileName() + ".amalgam-old-");
        Files.delete(old); // only reserved the name
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        try {
            Files.move(tempFolder, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException restore) {
                e.addSuppressed(new AmalgamIOException(old, "could not restore the previous output from here", restore));
            }
            throw e;
        }
        state = State.FINISHED;
        try {
            deleteRecursively(old);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "new output is in place at " + target + ", but deleting the previous one at " + old + " failed", e);
        }
    }

    /** Deletes everything written; idempotent, and a no-op after a successful finish. */
    public synchronized void abort() throws IOException {
        if (state != State.OPEN) return;
        state = State.ABORTED;
        IOException failure = null;
        try {
            stopFlusher(true);
        } catch (IOException e) {
            failure = e;
        }
        for (FileChannel ch : channels) {
            try {
                ch.close();
            } catch (IOException e) {
                failure = e;
            }
        }
        if (arena.scope().isAlive()) arena.close();
        try {
            deleteRecursively(tempFolder);
        } catch (IOException e) {
            if (failure != null) e.addSuppressed(failure);
            failure = new AmalgamIOException(tempFolder, "could not delete the temporary output folder", e);
        }
        if (failure != null) throw failure;
    }

    private void abortQuietly(Throwable cause) {
        try {
            abort();
        } catch (IOException | RuntimeException e) {
            cause.addSuppressed(e);
        }
    }

    /** Aborts unless {@link #finish} succeeded. */
    @Override
    public void close() throws IOException {
        abort();
    }

    /**
     * The files of a model folder worth copying into a merged output, sorted by name: regular
     * files (links followed) at the top level that are not hidden and not weights — no
     * {@code *.safetensors}, {@code *.bin}, {@code *.pt}, {@code *.pth}, {@code *.ckpt},
     * {@code *.h5}, {@code *.msgpack}, {@code *.gguf}, {@code *.onnx}, and no {@code *.index.json}.
     * So config.json, generation_config.json, tokenizer files, README.md and the like. Folders
     * are not descended into.
     */
    public static List<Path> nonWeightFiles(Path modelDir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(modelDir)) {
            for (Path p : entries) {
                String name = p.getFileName().toString();
                String lower = name.toLowerCase(Locale.ROOT);
                if (name.startsWith(".") || !Files.isRegularFile(p) || lower.endsWith(".index.json")) continue;
                int dot = lower.lastIndexOf('.');
                if (dot >= 0 && WEIGHT_EXTENSIONS.contains(lower.substring(dot))) continue;
                files.add(p);
            }
        }
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        return files;
    }

    private static boolean isEmptyDirectory(Path p) throws IOException {
        if (!Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return false;
        try (DirectoryStream<Path> s = Files.newDirectoryStream(p)) {
            return !s.iterator().hasNext();
        }
    }

    private static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** Makes a folder's entries durable; some platforms cannot open folders, which is then skipped. */
    private static void fsyncFolder(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot fsync folder " + dir, e);
        }
    }

    /** Deletes a tree without following links (a link is deleted, never its target). */
    static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) throw e;
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    @Override
    public String toString() {
        return "ShardWriter[" + target + ", " + plan.shards().size() + " shard(s), " + state + "]";
    }
}

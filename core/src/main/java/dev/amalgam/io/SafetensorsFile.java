package dev.amalgam.io;

import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * One safetensors file: tensors as zero-copy views into a read-only mapping, or read through
 * the file channel into memory the caller provides.
 *
 * <p>Implementation notes. {@link #open} validates the whole header (see
 * {@link SafetensorsHeader}) before any tensor is handed out, records a {@link FileSnapshot}
 * (size, inode, mtime, ctime), then maps the file once into a shared {@link Arena}: nothing is
 * read until a view is touched, and the OS pages in only what is touched, so opening a 10 GB
 * shard costs one header read. Views may be read from any thread. {@link #close} unmaps: every
 * view from this file becomes invalid (access then throws {@link IllegalStateException}), so
 * close only after the last use.
 *
 * <p>A mapped view is only as stable as the file: if another process truncates the file, a
 * read of a page past the new end raises SIGBUS, which kills the JVM when it happens in
 * vectorized code. {@link #readInto} is the safe path for a merge: a positional read through
 * the channel (opened lazily, kept open) that sees a truncation as a short read, with the
 * snapshot checked before and after, so a file that changes fails with
 * {@link InputChangedException} naming it.
 */
public final class SafetensorsFile implements AutoCloseable {

    /** Tensors at least this large are read by {@link #READERS} threads. */
    private static final long PARALLEL_READ_BYTES = 8L << 20;
    private static final int READERS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    private static final java.util.concurrent.ExecutorService READ_POOL = java.util.concurrent.Executors.newFixedThreadPool(
            Math.max(1, READERS - 1), r -> {
                Thread t = new Thread(r, "amalgam-input-reader");
                t.setDaemon(true);
                return t;
            });

    private final Path path;
    private final SafetensorsHeader header;
    private final FileSnapshot snapshot;
    private final Arena arena;
    private final MemorySegment data;
    private final List<TensorInfo> tensors;
    private FileChannel reader;

    private SafetensorsFile(Path path, SafetensorsHeader header, FileSnapshot snapshot, Arena arena, MemorySegment data) {
        this.path = path;
        this.header = header;
        this.snapshot = snapshot;
        this.arena = arena;
        this.data = data;
        this.tensors = header.entries().stream().map(SafetensorsHeader.Entry::info).toList();
    }

    /** Opens, validates and maps {@code file}. */
    public static SafetensorsFile open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            FileSnapshot snapshot = FileSnapshot.of(file);
            SafetensorsHeader header = SafetensorsHeader.read(channel, file);
            if (channel.size() != snapshot.size()) snapshot.check(file);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = header.dataLength() == 0
                        ? MemorySegment.NULL
                        : channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart(), header.dataLength(), arena);
                return new SafetensorsFile(file, header, snapshot, arena, data);
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    public Path path() {
        return path;
    }

    public SafetensorsHeader header() {
        return header;
    }

    /** The tensors in file order (ascending data offset). */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    public boolean contains(String name) {
        return header.entry(name) != null;
    }

    /** @throws NoSuchElementException naming the file if there is no such tensor */
    public TensorInfo info(String name) {
        return entry(name).info();
    }

    /**
     * A zero-copy, read-only view of the tensor, valid until {@link #close}. Not safe against
     * another process truncating the file (see the class notes); merges use {@link #readInto}.
     *
     * @throws NoSuchElementException naming the file if there is no such tensor
     */
    public Tensor tensor(String name) {
        SafetensorsHeader.Entry e = entry(name);
        return new Tensor(e.info(), data.asSlice(e.begin(), e.byteSize()));
    }

    /**
     * Reads the bytes of tensor {@code name} from the file into {@code dst} (at least the
     * tensor's byte size), without the mapping, and returns the tensor over {@code dst}.
     *
     * @throws InputChangedException if the file is not the version opened, before or after the read
     * @throws NoSuchElementException naming the file if there is no such tensor
     */
    public Tensor readInto(String name, MemorySegment dst) throws IOException {
        SafetensorsHeader.Entry e = entry(name);
        MemorySegment target = dst.asSlice(0, e.byteSize());
        checkUnchanged();
        FileChannel ch = reader();
        long position = header.dataStart() + e.begin();
        long size = e.byteSize();
        int parts = size < PARALLEL_READ_BYTES ? 1 : (int) Math.min(READERS, size / (PARALLEL_READ_BYTES / 2));
        if (parts <= 1) {
            readRange(ch, target, position, 0, size, name);
        } else {
            // A large tensor is read by several threads at once: the copy out of the page cache
            // is the cost of not mapping, and one core alone cannot do it at memory speed.
            long step = (size / parts + (1 << 20) - 1) & -(1L << 20);
            List<java.util.concurrent.CompletableFuture<Void>> rest = new java.util.ArrayList<>();
            for (long from = step; from < size; from += step) {
                long a = from, b = Math.min(size, from + step);
                rest.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try {
                        readRange(ch, target, position, a, b, name);
                    } catch (IOException x) {
                        throw new java.io.UncheckedIOException(x);
                    }
                }, READ_POOL));
            }
            IOException failure = null;
            try {
                readRange(ch, target, position, 0, Math.min(step, size), name);
            } catch (IOException x) {
                failure = x;
            }
            for (var f : rest) {
                try {
                    f.join();
                } catch (java.util.concurrent.CompletionException x) {
                    if (failure == null) failure = x.getCause() instanceof java.io.UncheckedIOException u ? u.getCause()
                            : new IOException(x.getCause());
                }
            }
            if (failure != null) throw failure;
        }
        checkUnchanged();
        return new Tensor(e.info(), target);
    }

    /**
     * Fails unless the file is still the version {@link #open} saw (same inode, size, mtime, ctime).
     *
     * @throws InputChangedException naming the file and what changed
     */
    public void checkUnchanged() throws AmalgamIOException {
        snapshot.check(path);
    }

    /** Reads bytes [from, to) of the tensor at file offset {@code position} into {@code target}. */
    private void readRange(FileChannel ch, MemorySegment target, long position, long from, long to, String name) throws IOException {
        long done = from;
        while (done < to) {
            long n = Math.min(to - done, 1L << 30);
            ByteBuffer buf = target.asSlice(done, n).asByteBuffer();
            while (buf.hasRemaining()) {
                int r = ch.read(buf, position + done + buf.position());
                if (r < 0) {
                    checkUnchanged(); // names what happened: normally a truncation
                    throw new InputChangedException(path, "input file ended early while reading tensor '" + name + "'", new EOFException());
                }
            }
            done += n;
        }
    }

    private synchronized FileChannel reader() throws IOException {
        if (reader == null) {
            if (!arena.scope().isAlive()) throw new IllegalStateException(path + ": file is closed");
            reader = FileChannel.open(path, StandardOpenOption.READ);
        }
        return reader;
    }

    /** The {@code __metadata__} map; empty if absent. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    private SafetensorsHeader.Entry entry(String name) {
        SafetensorsHeader.Entry e = header.entry(name);
        if (e == null) throw new NoSuchElementException(path + ": no tensor '" + name + "'");
        return e;
    }

    /** Unmaps the file and closes its reader; views handed out become invalid. Idempotent. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException ignored) {
                // read-only descriptor: nothing to lose
            }
            reader = null;
        }
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}

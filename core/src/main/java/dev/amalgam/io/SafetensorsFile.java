package dev.amalgam.io;

import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * One safetensors file, memory-mapped read-only; tensors are zero-copy views into the mapping.
 *
 * <p>Implementation notes. {@link #open} validates the whole header (see
 * {@link SafetensorsHeader}) before any tensor is handed out, then maps the file once into a
 * shared {@link Arena}: nothing is read until a view is touched, and the OS pages in only what is
 * touched, so opening a 10 GB shard costs one header read. Views may be read from any thread.
 * {@link #close} unmaps: every view from this file becomes invalid (access then throws
 * {@link IllegalStateException}), so close only after the last use. The file must not be
 * truncated while mapped. The channel is closed right after mapping; the mapping does not
 * depend on it, which keeps one descriptor per file out of the budget of a many-shard merge.
 */
public final class SafetensorsFile implements AutoCloseable {

    private final Path path;
    private final SafetensorsHeader header;
    private final Arena arena;
    private final MemorySegment data;
    private final List<TensorInfo> tensors;

    private SafetensorsFile(Path path, SafetensorsHeader header, Arena arena, MemorySegment data) {
        this.path = path;
        this.header = header;
        this.arena = arena;
        this.data = data;
        this.tensors = header.entries().stream().map(SafetensorsHeader.Entry::info).toList();
    }

    /** Opens, validates and maps {@code file}. */
    public static SafetensorsFile open(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(channel, file);
            Arena arena = Arena.ofShared();
            try {
                MemorySegment data = header.dataLength() == 0
                        ? MemorySegment.NULL
                        : channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart(), header.dataLength(), arena);
                return new SafetensorsFile(file, header, arena, data);
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
     * A zero-copy, read-only view of the tensor, valid until {@link #close}.
     *
     * @throws NoSuchElementException naming the file if there is no such tensor
     */
    public Tensor tensor(String name) {
        SafetensorsHeader.Entry e = entry(name);
        return new Tensor(e.info(), data.asSlice(e.begin(), e.byteSize()));
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

    /** Unmaps the file; views handed out become invalid. Idempotent. */
    @Override
    public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    @Override
    public String toString() {
        return "SafetensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}

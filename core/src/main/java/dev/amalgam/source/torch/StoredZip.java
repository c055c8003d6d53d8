package dev.amalgam.source.torch;

import dev.amalgam.io.AmalgamIOException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A zip archive memory-mapped whole, whose entries are read in place: the layout
 * {@code torch.save} writes (every entry stored, not compressed). Reads the central directory
 * (zip64 included) and each entry's local header; never inflates. Entries are zero-copy
 * slices of the mapping, valid until {@link #close()}.
 *
 * <p>Thread-safety: immutable after opening; the mapping is shared, so slices may be read from
 * any thread.
 */
public final class StoredZip implements AutoCloseable {

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int EOCD = 0x06054b50, ZIP64_EOCD = 0x06064b50, ZIP64_LOCATOR = 0x07064b50;
    private static final int CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

    /** One entry: where its bytes are and how it is stored. */
    record Entry(String name, int method, long offset, long size) {
    }

    private final Path file;
    private final Arena arena;
    private final MemorySegment mapped;
    private final Map<String, Entry> entries;

    private StoredZip(Path file, Arena arena, MemorySegment mapped, Map<String, Entry> entries) {
        this.file = file;
        this.arena = arena;
        this.mapped = mapped;
        this.entries = entries;
    }

    /**
     * Maps a zip file and reads its directory.
     *
     * @param file the archive
     * @return the open archive
     * @throws AmalgamIOException naming the file if it is not a zip archive or its directory is damaged
     */
    public static StoredZip open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.size() == 0 ? MemorySegment.NULL : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            StoredZip zip = new StoredZip(file, arena, seg, readDirectory(file, ch.size() == 0 ? MemorySegment.ofArray(new byte[0]) : seg));
            return zip;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Whether the first bytes are a zip local header (legacy torch files start with a pickle). */
    static boolean looksLikeZip(MemorySegment seg) {
        return seg.byteSize() >= 4 && seg.get(I32, 0) == LOCAL;
    }

    private static Map<String, Entry> readDirectory(Path file, MemorySegment seg) throws IOException {
        long size = seg.byteSize();
        if (!looksLikeZip(seg)) {
            if (size >= 2 && (seg.get(ValueLayout.JAVA_BYTE, 0) & 0xff) == 0x80) {
                throw new AmalgamIOException(file, "a legacy (pre-1.6, non-zip) torch.save file; re-save it with"
                        + " torch.save(..., _use_new_zipfile_serialization=True) or convert it to safetensors");
            }
            throw new AmalgamIOException(file, "not a zip archive (a PyTorch checkpoint is a zip of data.pkl and data/*)");
        }
        long eocd = -1;
        for (long p = size - 22; p >= Math.max(0, size - 22 - 65535); p--) {
            if (seg.get(I32, p) == EOCD) {
                eocd = p;
                break;
            }
        }
        if (eocd < 0) throw new AmalgamIOException(file, "truncated zip archive: no end of central directory record");
        long count = u16(seg, eocd + 10);
        long cdSize = u32(seg, eocd + 12);
        long cdOffset = u32(seg, eocd + 16);
        if ((count == 0xffff || cdOffset == 0xffffffffL || cdSize == 0xffffffffL) && eocd >= 20
                && seg.get(I32, eocd - 20) == ZIP64_LOCATOR) {
            long z = seg.get(I64, eocd - 20 + 8);
            check(file, z >= 0 && z + 56 <= size && seg.get(I32, z) == ZIP64_EOCD, "damaged zip64 end of central directory");
            count = seg.get(I64, z + 32);
            cdSize = seg.get(I64, z + 40);
            cdOffset = seg.get(I64, z + 48);
        }
        check(file, cdOffset >= 0 && cdSize >= 0 && cdOffset + cdSize <= size && count >= 0 && count <= cdSize / 46,
                "truncated or damaged zip central directory");
        Map<String, Entry> out = new LinkedHashMap<>();
        long p = cdOffset;
        for (long i = 0; i < count; i++) {
            check(file, p + 46 <= cdOffset + cdSize && seg.get(I32, p) == CENTRAL, "damaged zip central directory entry " + i);
            int method = u16(seg, p + 10);
            long csize = u32(seg, p + 20);
            long usize = u32(seg, p + 24);
            int nameLen = u16(seg, p + 28), extraLen = u16(seg, p + 30), commentLen = u16(seg, p + 32);
            long local = u32(seg, p + 42);
            check(file, p + 46 + nameLen + extraLen + commentLen <= cdOffset + cdSize, "damaged zip central directory entry " + i);
            String name = new String(seg.asSlice(p + 46, nameLen).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            // zip64 extra field: the 0xffffffff fields follow in order usize, csize, local offset.
            long e = p + 46 + nameLen, end = e + extraLen;
            while (e + 4 <= end) {
                int id = u16(seg, e), len = u16(seg, e + 2);
                if (id == 1) {
                    long q = e + 4;
                    if (usize == 0xffffffffL && q + 8 <= e + 4 + len) { usize = seg.get(I64, q); q += 8; }
                    if (csize == 0xffffffffL && q + 8 <= e + 4 + len) { csize = seg.get(I64, q); q += 8; }
                    if (local == 0xffffffffL && q + 8 <= e + 4 + len) { local = seg.get(I64, q); }
                }
                e += 4 + len;
            }
            check(file, local >= 0 && local + 30 <= size && seg.get(I32, local) == LOCAL,
                    "entry " + name + ": damaged local header");
            long data = local + 30 + u16(seg, local + 26) + u16(seg, local + 28);
            if (method != 0) {
                throw new AmalgamIOException(file, "entry " + name + " is compressed (method " + method
                        + "); only stored entries can be read in place, as torch.save writes them");
            }
            check(file, csize == usize, "entry " + name + ": stored sizes differ");
            check(file, usize >= 0 && data + usize <= size, "truncated zip archive: entry " + name + " ends past the file");
            if (out.putIfAbsent(name, new Entry(name, method, data, usize)) != null) {
                throw new AmalgamIOException(file, "entry " + name + " appears twice");
            }
            p += 46 + nameLen + extraLen + commentLen;
        }
        return Collections.unmodifiableMap(out);
    }

    private static void check(Path file, boolean ok, String message) throws AmalgamIOException {
        if (!ok) throw new AmalgamIOException(file, message);
    }

    private static int u16(MemorySegment s, long at) {
        return Short.toUnsignedInt(s.get(I16, at));
    }

    private static long u32(MemorySegment s, long at) {
        return Integer.toUnsignedLong(s.get(I32, at));
    }

    /** The archive's file. */
    public Path file() {
        return file;
    }

    /** Entry names in directory order. */
    public Iterable<String> names() {
        return entries.keySet();
    }

    /** @return whether the archive has that entry */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /**
     * @param name entry name
     * @return a read-only zero-copy view of its stored bytes
     * @throws AmalgamIOException if there is no such entry
     */
    public MemorySegment entry(String name) throws AmalgamIOException {
        Entry e = entries.get(name);
        if (e == null) throw new AmalgamIOException(file, "no entry " + name + " in the archive");
        return mapped.asSlice(e.offset(), e.size()).asReadOnly();
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}

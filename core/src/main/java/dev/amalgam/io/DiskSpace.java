package dev.amalgam.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Disk space for an output, checked before anything is written and reserved before a file is
 * memory-mapped. A write into a mapped page that the file system cannot back raises SIGBUS (a
 * JVM crash in vectorized code); a reserved file cannot run out of space, so the shortage shows
 * up here as an {@link IOException} naming the path instead.
 *
 * <p>Implementation notes. On Linux (glibc) {@link #reserve} calls {@code posix_fallocate}
 * through Panama on a descriptor of its own (the allocation belongs to the inode, not the
 * descriptor); glibc itself falls back to writing one byte per block on file systems without
 * {@code fallocate}. Elsewhere it writes a zero byte into every 4 KiB block through the channel,
 * which allocates the same blocks. {@code posix_fallocate} returns its error code instead of
 * setting errno; an exceeded file-size limit ({@code ulimit -f}) is EFBIG, and the JVM ignores
 * the SIGXFSZ that comes with it.
 */
final class DiskSpace {

    private static final int O_WRONLY = 1;
    private static final int ENOSPC = 28;
    private static final int EFBIG = 27;
    private static final int EDQUOT = 122;
    private static final long BLOCK = 4096;

    private record Native(MethodHandle open, MethodHandle close, MethodHandle fallocate) {
    }

    private static final Optional<Native> NATIVE = lookup();

    private DiskSpace() {
    }

    private static Optional<Native> lookup() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) return Optional.empty();
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                    Linker.Option.firstVariadicArg(2));
            MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            MethodHandle fallocate = linker.downcallHandle(libc.find("posix_fallocate").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
            return Optional.of(new Native(open, close, fallocate));
        } catch (RuntimeException | LinkageError e) {
            return Optional.empty(); // no native access or no glibc: fall back to writes
        }
    }

    /**
     * Fails unless the file system holding {@code folder} has {@code needed} bytes usable.
     *
     * @param what what the bytes are for, e.g. "the merged output"
     */
    static void checkFree(Path folder, long needed, String what) throws IOException {
        FileStore store = Files.getFileStore(folder);
        long usable = store.getUsableSpace();
        if (usable < needed) {
            throw new AmalgamIOException(folder, "not enough disk space: " + what + " needs " + bytes(needed)
                    + ", but only " + bytes(usable) + " are free on " + store);
        }
    }

    /** Allocates the first {@code length} bytes of {@code file} (an open channel of it is {@code channel}). */
    static void reserve(Path file, FileChannel channel, long length) throws IOException {
        if (length <= 0) return;
        if (NATIVE.isPresent()) {
            int rc = fallocate(NATIVE.get(), file, length);
            if (rc == 0) return;
            if (rc == ENOSPC || rc == EDQUOT) {
                throw new AmalgamIOException(file, "no space left on the device to reserve " + bytes(length) + " for this shard");
            }
            if (rc == EFBIG) {
                throw new AmalgamIOException(file, "file too large: reserving " + bytes(length) + " exceeds the file-size limit");
            }
            if (rc > 0 && rc != 95 /* EOPNOTSUPP */) {
                throw new AmalgamIOException(file, "reserving " + bytes(length) + " failed (posix_fallocate error " + rc + ")");
            }
        }
        reserveByWrites(file, channel, length);
    }

    private static int fallocate(Native n, Path file, long length) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            int fd = (int) n.open().invokeExact(arena.allocateFrom(file.toString()), O_WRONLY);
            if (fd < 0) return -1; // let the portable path report the error
            try {
                return (int) n.fallocate().invokeExact(fd, 0L, length);
            } finally {
                int ignored = (int) n.close().invokeExact(fd);
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AmalgamIOException(file, "posix_fallocate failed", t);
        }
    }

    /** One zero byte per block from the end of what is already there: allocates without a full rewrite. */
    private static void reserveByWrites(Path file, FileChannel channel, long length) throws IOException {
        ByteBuffer zero = ByteBuffer.allocate(1);
        long existing = channel.size();
        try {
            for (long pos = existing / BLOCK * BLOCK; pos < length; pos += BLOCK) {
                if (pos < existing) continue;
                zero.clear();
                channel.write(zero, pos);
            }
            if (channel.size() < length) {
                zero.clear();
                channel.write(zero, length - 1);
            }
        } catch (IOException e) {
            throw new AmalgamIOException(file, "reserving " + bytes(length) + " failed: " + e.getMessage(), e);
        }
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}

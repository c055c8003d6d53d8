package dev.amalgam.source.torch;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Test fixture: writes {@code torch.save} archives the way PyTorch 2 does (a zip of stored
 * entries, each aligned to 64 bytes: {@code archive/data.pkl} a protocol-2 pickle of an
 * {@code OrderedDict} of {@code _rebuild_tensor_v2} calls whose storages are persistent ids
 * {@code ('storage', torch.XStorage, key, 'cpu', numel)}, {@code archive/data/<key>} the raw
 * little-endian bytes, {@code archive/version}, {@code archive/byteorder}), written from Java
 * since torch is not installed. Options produce the broken variants the tests need.
 */
public final class TorchZipWriter {

    private final ByteArrayOutputStream pkl = new ByteArrayOutputStream();
    private final Map<String, byte[]> storages = new LinkedHashMap<>();
    private int memo;
    private String extraGlobal;
    private boolean metadataState = true;

    /** Pickles the tensors (each with its own storage) and writes {@code file}. */
    public static Path write(Path file, List<Tensor> tensors) throws IOException {
        TorchZipWriter w = new TorchZipWriter();
        return w.writeArchive(file, w.statePickle(tensors), false);
    }

    /** Makes the next pickle call {@code module.name} (a foreign global) as one value. */
    public TorchZipWriter foreignGlobal(String qualified) {
        this.extraGlobal = qualified;
        return this;
    }

    /** The protocol-2 pickle of an OrderedDict of the tensors; registers their storages. */
    public byte[] statePickle(List<Tensor> tensors) {
        pkl.reset();
        op(0x80); op(2);
        global("collections", "OrderedDict");
        op(')'); op('R'); put();
        op('(');
        for (Tensor t : tensors) {
            String key = String.valueOf(storages.size());
            storages.put(key, t.data().toArray(ValueLayout.JAVA_BYTE));
            unicode(t.name());
            global("torch._utils", "_rebuild_tensor_v2");
            op('(');
            op('('); unicode("storage"); global("torch", storageName(t.dtype())); unicode(key); unicode("cpu");
            binint(t.elementCount()); op('t'); op('Q');
            binint(0);
            long[] shape = t.info().shape();
            op('('); for (long d : shape) binint(d); op('t');
            op('(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int i = shape.length - 1; i >= 0; i--) { strides[i] = stride; stride *= shape[i]; }
            for (long s : strides) binint(s);
            op('t');
            op(0x89);
            global("collections", "OrderedDict"); op(')'); op('R');
            op('t'); op('R'); put();
        }
        if (extraGlobal != null) {
            int dot = extraGlobal.lastIndexOf('.');
            unicode("evil");
            global(extraGlobal.substring(0, dot), extraGlobal.substring(dot + 1));
            unicode("echo hi"); op(0x85); op('R');
        }
        op('u');
        if (metadataState) { // OrderedDict state: {'_metadata': OrderedDict()} as torch writes for modules
            op('}'); unicode("_metadata"); global("collections", "OrderedDict"); op(')'); op('R'); op('s'); op('b');
        }
        op('.');
        return pkl.toByteArray();
    }

    static String storageName(DType d) {
        return RestrictedUnpickler.STORAGE_TYPES.entrySet().stream().filter(e -> e.getValue() == d)
                .map(Map.Entry::getKey).findFirst().orElseThrow();
    }

    /** Writes the archive of a pickle and the registered storages; {@code deflate} compresses every entry. */
    public Path writeArchive(Path file, byte[] pickle, boolean deflate) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("archive/data.pkl", pickle);
        entries.put("archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        storages.forEach((k, v) -> entries.put("archive/data/" + k, v));
        entries.put("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        Files.createDirectories(file.toAbsolutePath().getParent());
        if (deflate) {
            try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
                for (var e : entries.entrySet()) {
                    z.putNextEntry(new ZipEntry(e.getKey()));
                    z.write(e.getValue());
                    z.closeEntry();
                }
            }
            return file;
        }
        Files.write(file, storedZip(entries));
        return file;
    }

    /** A zip of stored entries, each data start aligned to 64 bytes through the local extra field (as torch). */
    static byte[] storedZip(Map<String, byte[]> entries) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream central = new ByteArrayOutputStream();
        int count = 0;
        for (var e : entries.entrySet()) {
            byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
            byte[] data = e.getValue();
            CRC32 crc = new CRC32();
            crc.update(data);
            long offset = out.size();
            int base = (int) offset + 30 + name.length + 4;
            int pad = (64 - base % 64) % 64;
            ByteBuffer h = le(30 + name.length + 4 + pad);
            h.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                    .putShort((short) name.length).putShort((short) (4 + pad)).put(name)
                    .putShort((short) 0x4655).putShort((short) pad).put(new byte[pad]);
            out.writeBytes(h.array());
            out.writeBytes(data);
            ByteBuffer c = le(46 + name.length);
            c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt((int) crc.getValue()).putInt(data.length)
                    .putInt(data.length).putShort((short) name.length).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt((int) offset).put(name);
            central.writeBytes(c.array());
            count++;
        }
        int cdOffset = out.size();
        out.writeBytes(central.toByteArray());
        ByteBuffer end = le(22);
        end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count).putShort((short) count)
                .putInt(central.size()).putInt(cdOffset).putShort((short) 0);
        out.writeBytes(end.array());
        return out.toByteArray();
    }

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private void op(int b) {
        pkl.write(b);
    }

    private void put() {
        op('q'); op(memo++ & 0xff);
    }

    private void global(String module, String name) {
        op('c');
        pkl.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private void unicode(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        op('X');
        pkl.writeBytes(le(4).putInt(b.length).array());
        pkl.writeBytes(b);
    }

    private void binint(long v) {
        if (v < 256) { op('K'); op((int) v); }
        else if (v < 65536) { op('M'); op((int) v & 0xff); op((int) (v >> 8)); }
        else { op('J'); pkl.writeBytes(le(4).putInt((int) v).array()); }
    }
}

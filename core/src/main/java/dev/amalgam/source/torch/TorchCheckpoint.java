package dev.amalgam.source.torch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.io.AmalgamIOException;
import dev.amalgam.source.torch.RestrictedUnpickler.StorageRef;
import dev.amalgam.source.torch.RestrictedUnpickler.TensorRef;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;

/**
 * A PyTorch checkpoint ({@code pytorch_model.bin}, or the shards of a
 * {@code pytorch_model.bin.index.json}) read as a {@link Checkpoint} without executing code:
 * each file is a {@code torch.save} zip archive whose {@code data.pkl} is read by a
 * {@link RestrictedUnpickler} and whose tensors are zero-copy views of the stored
 * {@code data/<key>} entries. Only contiguous (row-major) little-endian tensors are read.
 *
 * <p>Thread-safety: immutable after opening; concurrent reads are safe.
 */
public final class TorchCheckpoint implements Checkpoint {

    /** The single-file name transformers writes. */
    public static final String SINGLE_FILE_NAME = "pytorch_model.bin";
    /** The index of a sharded checkpoint. */
    public static final String INDEX_FILE_NAME = "pytorch_model.bin.index.json";

    private final Path path;
    private final List<StoredZip> archives;
    private final Map<String, Tensor> tensors;
    private final List<TensorInfo> infos;

    private TorchCheckpoint(Path path, List<StoredZip> archives, Map<String, Tensor> tensors) {
        this.path = path;
        this.archives = List.copyOf(archives);
        this.tensors = Collections.unmodifiableMap(new TreeMap<>(tensors));
        List<TensorInfo> all = new ArrayList<>();
        for (Tensor t : this.tensors.values()) all.add(t.info());
        all.sort(Comparator.comparing(TensorInfo::name));
        this.infos = Collections.unmodifiableList(all);
    }

    /** Whether a folder holds a PyTorch checkpoint (and so can be opened by {@link #open}). */
    public static boolean isTorchFolder(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX_FILE_NAME)) || Files.isRegularFile(dir.resolve(SINGLE_FILE_NAME));
    }

    /**
     * Opens a folder with {@code pytorch_model.bin.index.json} or {@code pytorch_model.bin}, a
     * {@code .bin} file, or an index file.
     *
     * @param path folder or file
     * @return the checkpoint
     * @throws IOException naming the file for anything unreadable or refused
     */
    public static TorchCheckpoint open(Path path) throws IOException {
        Path index = Files.isDirectory(path) ? path.resolve(INDEX_FILE_NAME) : path;
        if (Files.isRegularFile(index) && index.getFileName().toString().endsWith(".index.json")) {
            return openIndexed(path, index);
        }
        Path single = Files.isDirectory(path) ? path.resolve(SINGLE_FILE_NAME) : path;
        if (!Files.isRegularFile(single)) throw new AmalgamIOException(path, "no " + SINGLE_FILE_NAME + " or " + INDEX_FILE_NAME);
        List<StoredZip> archives = new ArrayList<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            read(single, archives, tensors, null);
            return new TorchCheckpoint(path, archives, tensors);
        } catch (IOException | RuntimeException e) {
            archives.forEach(StoredZip::close);
            throw e;
        }
    }

    private static TorchCheckpoint openIndexed(Path path, Path index) throws IOException {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(index.toFile());
        } catch (IOException e) {
            throw new AmalgamIOException(index, "invalid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) throw new AmalgamIOException(index, "no weight_map object");
        Map<String, List<String>> byShard = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String shard = e.getValue().asText("");
            if (!e.getValue().isTextual() || shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
                throw new AmalgamIOException(index, "weight_map['" + e.getKey() + "']: not a shard file name in the folder");
            }
            byShard.computeIfAbsent(shard, k -> new ArrayList<>()).add(e.getKey());
        }
        Path dir = index.toAbsolutePath().getParent();
        List<StoredZip> archives = new ArrayList<>();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, List<String>> e : byShard.entrySet()) {
                Path shard = dir.resolve(e.getKey());
                if (!Files.isRegularFile(shard)) {
                    throw new AmalgamIOException(index, "shard " + e.getKey() + " (of tensor " + e.getValue().getFirst() + ") is missing");
                }
                read(shard, archives, tensors, e.getValue());
            }
            return new TorchCheckpoint(path, archives, tensors);
        } catch (IOException | RuntimeException e) {
            archives.forEach(StoredZip::close);
            throw e;
        }
    }

    /** Reads one archive; {@code expected} (from an index) are the tensors it must hold. */
    private static void read(Path file, List<StoredZip> archives, Map<String, Tensor> out, List<String> expected)
            throws IOException {
        StoredZip zip = StoredZip.open(file);
        archives.add(zip);
        String pkl = null;
        for (String n : zip.names()) {
            if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                if (pkl != null) throw new AmalgamIOException(file, "two data.pkl entries: " + pkl + ", " + n);
                pkl = n;
            }
        }
        if (pkl == null) throw new AmalgamIOException(file, "no <archive>/data.pkl entry: not a torch.save archive");
        String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
        if (zip.contains(prefix + "byteorder")) {
            String order = new String(zip.entry(prefix + "byteorder").toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII).trim();
            if (!order.equals("little")) throw new AmalgamIOException(file, "byteorder is " + order + "; only little-endian is read");
        }
        Map<String, TensorRef> refs;
        try {
            refs = RestrictedUnpickler.stateDict(zip.entry(pkl), file + " (" + pkl + ")");
        } catch (TorchFormatException e) {
            throw new TorchFormatException(e.getMessage());
        }
        for (Map.Entry<String, TensorRef> e : refs.entrySet()) {
            String name = e.getKey();
            if (expected != null && !expected.contains(name)) continue; // the index assigns it elsewhere
            if (out.containsKey(name)) throw new AmalgamIOException(file, "tensor " + name + " appears in two shards");
            out.put(name, view(file, zip, prefix, name, e.getValue()));
        }
        if (expected != null) {
            for (String name : expected) {
                if (!refs.containsKey(name)) throw new AmalgamIOException(file, "tensor " + name + " of the index is not in the shard");
            }
        }
    }

    private static Tensor view(Path file, StoredZip zip, String prefix, String name, TensorRef t) throws IOException {
        StorageRef s = t.storage();
        String entry = prefix + "data/" + s.key();
        MemorySegment storage = zip.entry(entry);
        long es = s.dtype().byteSize();
        if (storage.byteSize() < Math.multiplyExact(s.numel(), es)) {
            throw new AmalgamIOException(file, "tensor " + name + ": storage " + entry + " holds " + storage.byteSize()
                    + " bytes, fewer than its " + s.numel() + " " + s.dtype() + " elements");
        }
        long[] size = t.size();
        long n = TensorInfo.elementCount(size);
        long expect = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && t.stride()[i] != expect) {
                throw new AmalgamIOException(file, "tensor " + name + " is not contiguous (stride "
                        + java.util.Arrays.toString(t.stride()) + " for size " + java.util.Arrays.toString(size)
                        + "); save it after .contiguous()");
            }
            expect = Math.multiplyExact(expect, size[i]);
        }
        if (t.offset() < 0 || t.offset() + n > s.numel()) {
            throw new AmalgamIOException(file, "tensor " + name + ": elements " + t.offset() + ".." + (t.offset() + n)
                    + " lie outside its storage of " + s.numel());
        }
        return new Tensor(new TensorInfo(name, s.dtype(), size), storage.asSlice(t.offset() * es, n * es));
    }

    /** The folder or file opened. */
    public Path path() {
        return path;
    }

    @Override
    public List<TensorInfo> tensors() {
        return infos;
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return tensor(name).info();
    }

    @Override
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) throw new NoSuchElementException(path + ": no tensor '" + name + "' in the checkpoint");
        return t;
    }

    @Override
    public void close() {
        archives.forEach(StoredZip::close);
    }

    @Override
    public String toString() {
        return "TorchCheckpoint[" + path + ", " + infos.size() + " tensors]";
    }
}

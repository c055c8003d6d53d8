package dev.amalgam.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.tensor.Tensor;
import dev.amalgam.tensor.TensorInfo;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.amalgam.io.SafetensorsFormatException.Violation.*;

/**
 * A Hugging Face style checkpoint: one {@code model.safetensors}, or shards listed by
 * {@code model.safetensors.index.json}, seen as one set of tensors.
 *
 * <p>Which files form the checkpoint, in this order:
 * <ol>
 *   <li>a path to a {@code .safetensors} file: that file alone; a path to a
 *       {@code *.safetensors.index.json}: that index;</li>
 *   <li>a folder with {@value #INDEX_FILE_NAME} (or else exactly one {@code *.safetensors.index.json}): the index;</li>
 *   <li>a folder with {@value #SINGLE_FILE_NAME}: that file;</li>
 *   <li>a folder whose visible {@code *.safetensors} files are exactly one file, or exactly the
 *       shards {@code <prefix>-00001-of-0000N.safetensors} … {@code -0000N-of-0000N} of one
 *       checkpoint: those files;</li>
 *   <li>anything else is {@link SafetensorsFormatException.Violation#NO_CHECKPOINT} or
 *       {@link SafetensorsFormatException.Violation#AMBIGUOUS_CHECKPOINT}.</li>
 * </ol>
 *
 * <p>Implementation notes. Everything is validated at {@link #open}: every shard header (see
 * {@link SafetensorsHeader}), the index JSON (strict, no duplicate keys), shard names confined to
 * the folder (relative, '/'-separated, no {@code ..}, and the real path — links followed — inside
 * the folder; the one exception is a Hugging Face cache snapshot
 * {@code <repo>/snapshots/<rev>/}, whose files are links into {@code <repo>/blobs/}), and the
 * index agreeing with the shards (each listed tensor in its shard, each shard tensor listed
 * and mapped to that shard, no tensor in two shards). Shards are memory-mapped (lazily paged);
 * {@link #close} unmaps them all and invalidates every view. Immutable after open; views may
 * be read from any thread.
 */
public final class ModelFolder implements dev.amalgam.checkpoint.Checkpoint {

    public static final String INDEX_FILE_NAME = "model.safetensors.index.json";
    public static final String SINGLE_FILE_NAME = "model.safetensors";
    public static final String SAFETENSORS_SUFFIX = ".safetensors";
    public static final String INDEX_SUFFIX = ".safetensors.index.json";
    public static final String WEIGHT_MAP_KEY = "weight_map";
    public static final String METADATA_KEY = "metadata";
    /** Largest accepted index file, as for headers. */
    public static final long MAX_INDEX_BYTES = SafetensorsHeader.MAX_HEADER_BYTES;

    private static final Pattern SHARD_NAME = Pattern.compile("(.+)-(\\d+)-of-(\\d+)\\.safetensors");

    /** How the checkpoint was found. */
    public enum Layout { SINGLE_FILE, INDEXED, SHARDS_WITHOUT_INDEX }

    private final Path path;
    private final Layout layout;
    private final List<SafetensorsFile> shards;
    private final Map<String, SafetensorsFile> shardByTensor;
    private final List<TensorInfo> tensors;
    private final Map<String, String> metadata;
    private final Map<String, String> indexMetadata;

    private ModelFolder(Path path, Layout layout, List<SafetensorsFile> shards,
                        Map<String, SafetensorsFile> shardByTensor, Map<String, String> indexMetadata) {
        this.path = path;
        this.layout = layout;
        this.shards = List.copyOf(shards);
        this.shardByTensor = shardByTensor;
        List<TensorInfo> all = new ArrayList<>(shardByTensor.size());
        shardByTensor.forEach((name, shard) -> all.add(shard.info(name)));
        all.sort(Comparator.comparing(TensorInfo::name));
        this.tensors = Collections.unmodifiableList(all);
        Map<String, String> md = new LinkedHashMap<>();
        for (SafetensorsFile s : shards) s.metadata().forEach(md::putIfAbsent);
        this.metadata = Collections.unmodifiableMap(md);
        this.indexMetadata = indexMetadata;
    }

    /** Opens a model folder, a single {@code .safetensors} file or a {@code *.safetensors.index.json}. */
    public static ModelFolder open(Path path) throws IOException {
        if (Files.isDirectory(path)) return openFolder(path);
        if (!Files.isRegularFile(path)) throw new NoSuchFileException(path.toString(), null, "no such model folder or file");
        String name = path.getFileName().toString();
        if (name.endsWith(INDEX_SUFFIX)) return openIndexed(path, folderOf(path), path);
        return openSingle(path, path);
    }

    private static Path folderOf(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        return parent == null ? file.toAbsolutePath() : parent;
    }

    private static ModelFolder openFolder(Path dir) throws IOException {
        Path index = dir.resolve(INDEX_FILE_NAME);
        if (Files.isRegularFile(index)) return openIndexed(dir, dir, index);
        Path single = dir.resolve(SINGLE_FILE_NAME);
        if (Files.isRegularFile(single)) return openSingle(dir, single);

        List<Path> indexes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path p : entries) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") || !Files.isRegularFile(p)) continue;
                if (n.endsWith(INDEX_SUFFIX)) indexes.add(p);
                else if (n.endsWith(SAFETENSORS_SUFFIX)) files.add(p);
            }
        }
        if (indexes.size() == 1) return openIndexed(dir, dir, indexes.getFirst());
        if (indexes.size() > 1) {
            throw new SafetensorsFormatException(AMBIGUOUS_CHECKPOINT, dir, null,
                    "several *" + INDEX_SUFFIX + " files and no " + INDEX_FILE_NAME + ": " + fileNames(indexes));
        }
        if (files.isEmpty()) {
            throw new SafetensorsFormatException(NO_CHECKPOINT, dir, null, "no *" + SAFETENSORS_SUFFIX + " file in the folder");
        }
        if (files.size() == 1) return openSingle(dir, files.getFirst());
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        if (!isCompleteShardSet(files)) {
            throw new SafetensorsFormatException(AMBIGUOUS_CHECKPOINT, dir, null, "no index, and the *" + SAFETENSORS_SUFFIX
                    + " files are not the numbered shards of one checkpoint: " + fileNames(files));
        }
        return openShards(dir, files);
    }

    /** True if the (name-sorted) files are exactly prefix-1-of-N … prefix-N-of-N. */
    private static boolean isCompleteShardSet(List<Path> sorted) {
        String prefix = null;
        long total = -1;
        for (int i = 0; i < sorted.size(); i++) {
            Matcher m = SHARD_NAME.matcher(sorted.get(i).getFileName().toString());
            if (!m.matches()) return false;
            long number, of;
            try {
                number = Long.parseLong(m.group(2));
                of = Long.parseLong(m.group(3));
            } catch (NumberFormatException e) {
                return false;
            }
            if (prefix == null) {
                prefix = m.group(1);
                total = of;
            }
            if (!m.group(1).equals(prefix) || of != total || number != i + 1) return false;
        }
        return total == sorted.size();
    }

    private static String fileNames(List<Path> files) {
        return files.stream().map(p -> p.getFileName().toString()).sorted().toList().toString();
    }

    private static ModelFolder openSingle(Path path, Path file) throws IOException {
        SafetensorsFile f = SafetensorsFile.open(file);
        Map<String, SafetensorsFile> byTensor = new HashMap<>();
        for (TensorInfo t : f.tensors()) byTensor.put(t.name(), f);
        return new ModelFolder(path, Layout.SINGLE_FILE, List.of(f), byTensor, Map.of());
    }

    private static ModelFolder openShards(Path dir, List<Path> files) throws IOException {
        List<SafetensorsFile> opened = new ArrayList<>();
        try {
            Map<String, SafetensorsFile> byTensor = new HashMap<>();
            for (Path file : files) {
                SafetensorsFile shard = SafetensorsFile.open(file);
                opened.add(shard);
                for (TensorInfo t : shard.tensors()) {
                    SafetensorsFile other = byTensor.putIfAbsent(t.name(), shard);
                    if (other != null) {
                        throw new SafetensorsFormatException(TENSOR_IN_TWO_SHARDS, file, t.name(),
                                "also stored in shard " + other.path().getFileName());
                    }
                }
            }
            return new ModelFolder(dir, Layout.SHARDS_WITHOUT_INDEX, opened, byTensor, Map.of());
        } catch (IOException | RuntimeException e) {
            closeAll(opened, e);
            throw e;
        }
    }

    private static ModelFolder openIndexed(Path path, Path dir, Path indexFile) throws IOException {
        long size = Files.size(indexFile);
        if (size > MAX_INDEX_BYTES) {
            throw new SafetensorsFormatException(INDEX_MALFORMED, indexFile, null,
                    "index has " + size + " bytes, more than the limit of " + MAX_INDEX_BYTES);
        }
        ObjectNode index = StrictJson.parseObject(Files.readAllBytes(indexFile), indexFile, "/" + WEIGHT_MAP_KEY);
        JsonNode weightMap = index.get(WEIGHT_MAP_KEY);
        if (weightMap == null || !weightMap.isObject()) {
            throw new SafetensorsFormatException(INDEX_MALFORMED, indexFile, null, "'" + WEIGHT_MAP_KEY + "' must be an object");
        }
        Map<String, String> indexMetadata = indexMetadata(index.get(METADATA_KEY), indexFile);

        List<Path> roots = allowedRoots(dir);
        Map<String, Path> shardPathByName = new LinkedHashMap<>(); // name in the index -> resolved path
        Map<String, Path> shardOfTensor = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(INDEX_MALFORMED, indexFile, e.getKey(),
                        WEIGHT_MAP_KEY + " value must be a shard file name, found " + e.getValue().getNodeType());
            }
            String shardName = e.getValue().textValue();
            Path shard = shardPathByName.get(shardName);
            if (shard == null) {
                shard = resolveShard(dir, roots, shardName, indexFile, e.getKey());
                shardPathByName.put(shardName, shard);
            }
            shardOfTensor.put(e.getKey(), shard);
        }

        Map<Path, SafetensorsFile> shardsByPath = new LinkedHashMap<>();
        try {
            for (Path shard : shardPathByName.values()) {
                if (!shardsByPath.containsKey(shard)) shardsByPath.put(shard, SafetensorsFile.open(shard));
            }
            Map<String, SafetensorsFile> byTensor = new HashMap<>();
            for (Map.Entry<String, Path> e : shardOfTensor.entrySet()) {
                SafetensorsFile shard = shardsByPath.get(e.getValue());
                if (!shard.contains(e.getKey())) {
                    throw new SafetensorsFormatException(INDEX_TENSOR_MISSING, indexFile, e.getKey(),
                            "the index maps it to " + dir.relativize(e.getValue()) + ", whose header does not list it");
                }
                byTensor.put(e.getKey(), shard);
            }
            for (SafetensorsFile shard : shardsByPath.values()) {
                for (TensorInfo t : shard.tensors()) {
                    Path mapped = shardOfTensor.get(t.name());
                    if (mapped == null) {
                        throw new SafetensorsFormatException(TENSOR_NOT_IN_INDEX, shard.path(), t.name(),
                                "stored in this shard but not listed in " + indexFile.getFileName());
                    }
                    if (!mapped.equals(shard.path())) {
                        throw new SafetensorsFormatException(TENSOR_IN_TWO_SHARDS, shard.path(), t.name(),
                                "also stored in " + mapped.getFileName() + ", to which " + indexFile.getFileName() + " maps it");
                    }
                }
            }
            return new ModelFolder(path, Layout.INDEXED, new ArrayList<>(shardsByPath.values()), byTensor, indexMetadata);
        } catch (IOException | RuntimeException e) {
            closeAll(shardsByPath.values(), e);
            throw e;
        }
    }

    private static Map<String, String> indexMetadata(JsonNode node, Path indexFile) throws SafetensorsFormatException {
        if (node == null || node.isNull()) return Map.of();
        if (!node.isObject()) {
            throw new SafetensorsFormatException(INDEX_MALFORMED, indexFile, null, "'" + METADATA_KEY + "' must be an object");
        }
        Map<String, String> md = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> kv : node.properties()) {
            JsonNode v = kv.getValue();
            md.put(kv.getKey(), v.isTextual() ? v.textValue() : v.toString());
        }
        return Collections.unmodifiableMap(md);
    }

    /** The real folder, plus {@code <repo>/blobs} when the folder is a Hugging Face cache snapshot. */
    private static List<Path> allowedRoots(Path dir) throws IOException {
        Path real = dir.toRealPath();
        Path snapshots = real.getParent();
        if (snapshots != null && snapshots.getFileName() != null
                && snapshots.getFileName().toString().equals("snapshots") && snapshots.getParent() != null) {
            return List.of(real, snapshots.getParent().resolve("blobs"));
        }
        return List.of(real);
    }

    private static Path resolveShard(Path dir, List<Path> roots, String name, Path indexFile, String tensor)
            throws IOException {
        Path relative;
        try {
            relative = dir.getFileSystem().getPath(name);
        } catch (InvalidPathException e) {
            throw new SafetensorsFormatException(SHARD_PATH_ESCAPES, indexFile, tensor, "shard name '" + name + "' is not a valid path");
        }
        boolean lexicallyConfined = !name.isEmpty() && !name.startsWith("/") && !name.contains("\\")
                && !relative.isAbsolute() && relative.getRoot() == null;
        for (Path part : relative) lexicallyConfined &= !part.toString().equals("..");
        if (!lexicallyConfined) {
            throw new SafetensorsFormatException(SHARD_PATH_ESCAPES, indexFile, tensor, "shard name '" + name
                    + "' must be a relative path inside the model folder (no absolute path, no '..', '/' separators)");
        }
        Path shard = dir.resolve(relative).normalize();
        if (!Files.isRegularFile(shard)) {
            throw new SafetensorsFormatException(SHARD_MISSING, indexFile, tensor, "shard file '" + name + "' does not exist in " + dir);
        }
        Path real = shard.toRealPath();
        if (roots.stream().noneMatch(real::startsWith)) {
            throw new SafetensorsFormatException(SHARD_PATH_ESCAPES, indexFile, tensor,
                    "shard file '" + name + "' resolves through a link to " + real + ", outside the model folder");
        }
        return shard;
    }

    private static void closeAll(Iterable<SafetensorsFile> files, Throwable failure) {
        for (SafetensorsFile f : files) {
            try {
                f.close();
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }

    /** The path given to {@link #open} (folder, file or index). */
    public Path path() {
        return path;
    }

    public Layout layout() {
        return layout;
    }

    /** The shard files, in index order (or name order). */
    public List<Path> shards() {
        return shards.stream().map(SafetensorsFile::path).toList();
    }

    /** Every tensor of the checkpoint, sorted by name. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    public boolean contains(String name) {
        return shardByTensor.containsKey(name);
    }

    /** @throws NoSuchElementException naming the folder if there is no such tensor */
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    /**
     * A zero-copy, read-only view of the tensor, valid until {@link #close}.
     *
     * @throws NoSuchElementException naming the folder if there is no such tensor
     */
    public Tensor tensor(String name) {
        return shard(name).tensor(name);
    }

    /** The shard file holding {@code name}. */
    public Path shardOf(String name) {
        return shard(name).path();
    }

    /** The shards' {@code __metadata__} maps merged (first shard wins on conflicts); usually {@code {"format":"pt"}}. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The index's {@code metadata} object as text (numbers as their JSON text); empty without an index. */
    public Map<String, String> indexMetadata() {
        return indexMetadata;
    }

    private SafetensorsFile shard(String name) {
        SafetensorsFile f = shardByTensor.get(name);
        if (f == null) throw new NoSuchElementException(path + ": no tensor '" + name + "' in the checkpoint");
        return f;
    }

    /** Unmaps every shard; views handed out become invalid. Idempotent. */
    @Override
    public void close() {
        RuntimeException first = null;
        for (SafetensorsFile f : shards) {
            try {
                f.close();
            } catch (RuntimeException e) {
                if (first == null) first = e; else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    @Override
    public String toString() {
        return "ModelFolder[" + path + ", " + layout + ", " + shards.size() + " shard(s), " + tensors.size() + " tensors]";
    }
}

package dev.amalgam.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.amalgam.io.SafetensorsFormatException.Violation.*;

/**
 * Descriptor of the safetensors binary layout, and the parsed, validated header of one file.
 *
 * <pre>
 *   0               8                    8 + N                               file end
 *   +---------------+--------------------+-----------------------------------+
 *   | N: u64 LE     | header: N bytes of | data section: tensor bytes,       |
 *   | header length | UTF-8 JSON object  | little-endian, row-major          |
 *   +---------------+--------------------+-----------------------------------+
 *                                        ^ data_offsets are relative to here
 *
 *   header = { "__metadata__": { "k": "v", ... },          (optional, string -> string)
 *              "name": { "dtype": "BF16", "shape": [d0, d1, ...],
 *                        "data_offsets": [begin, end] }, ... }
 * </pre>
 *
 * <p>Implementation notes. {@link #read} treats the file as untrusted: N is capped at
 * {@link #MAX_HEADER_BYTES} (as the safetensors crate does) before anything is allocated; the
 * JSON must be one UTF-8 object without duplicate keys, at most {@link #MAX_TENSORS} tensors,
 * parsed by a streaming parser with bounded depth and no recursion (see {@link BoundedJson}),
 * straight into the entries (no JSON tree, no decoded copy); each entry needs a known dtype, a shape
 * whose element count × dtype size fits in a long and equals {@code end - begin}, and
 * {@code 0 <= begin <= end <= data length}; non-empty byte ranges must not overlap. Gaps between
 * tensors and trailing bytes are tolerated on read. {@link #encode} writes what the crate writes:
 * metadata first (omitted when empty), tensors in the given order with back-to-back offsets, and
 * the JSON padded with spaces so that the data section starts on a multiple of
 * {@link #HEADER_ALIGNMENT}. Instances are immutable.
 */
public final class SafetensorsHeader {

    /** Offset of the u64 little-endian header length N. */
    public static final int LENGTH_OFFSET = 0;
    /** Size of the header length field. */
    public static final int LENGTH_BYTES = 8;
    /** Offset of the JSON header. */
    public static final int JSON_OFFSET = LENGTH_OFFSET + LENGTH_BYTES;
    /**
     * Most tensors one header may list: far above real checkpoints (tens of thousands per
     * model), low enough that the parsed header fits a small heap (~150 MB at the limit).
     */
    public static final int MAX_TENSORS = 500_000;
    /** Largest accepted header, as in the safetensors crate (100 MB). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** The writer pads the JSON so that the data section starts on a multiple of this. */
    public static final int HEADER_ALIGNMENT = 8;
    /** The padding byte (an ASCII space, which JSON ignores). */
    public static final byte PADDING = ' ';
    /** The reserved key of the string-to-string metadata map. */
    public static final String METADATA_KEY = "__metadata__";
    public static final String DTYPE_KEY = "dtype";
    public static final String SHAPE_KEY = "shape";
    public static final String DATA_OFFSETS_KEY = "data_offsets";

    /** Absolute file offset of the data section for a header of {@code headerLength} bytes. */
    public static long dataStart(long headerLength) {
        return JSON_OFFSET + headerLength;
    }

    /** One tensor of the header: its info and its byte range relative to the data section. */
    public record Entry(TensorInfo info, long begin, long end) {
        public String name() {
            return info.name();
        }

        public long byteSize() {
            return end - begin;
        }
    }

    private final Path source;
    private final long headerLength;
    private final long dataLength;
    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private final Map<String, String> metadata;

    private SafetensorsHeader(Path source, long headerLength, long dataLength, List<Entry> entries,
                              Map<String, Entry> byName, Map<String, String> metadata) {
        this.source = source;
        this.headerLength = headerLength;
        this.dataLength = dataLength;
        this.entries = entries;
        this.byName = byName;
        this.metadata = metadata;
    }

    /** Reads and validates the header of {@code file}. */
    public static SafetensorsHeader read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(channel, file);
        }
    }

    /** Reads and validates the header at the start of {@code channel}; {@code file} is named in errors. */
    public static SafetensorsHeader read(FileChannel channel, Path file) throws IOException {
        long fileSize = channel.size();
        if (fileSize < LENGTH_BYTES) {
            throw new SafetensorsFormatException(HEADER_TRUNCATED, file, null,
                    "file has " + fileSize + " bytes, fewer than the " + LENGTH_BYTES + "-byte header length");
        }
        ByteBuffer prefix = ByteBuffer.allocate(LENGTH_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, prefix, LENGTH_OFFSET);
        long n = prefix.getLong(0);
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(HEADER_TOO_LARGE, file, null,
                    "header length " + Long.toUnsignedString(n) + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n > fileSize - JSON_OFFSET) {
            throw new SafetensorsFormatException(HEADER_TRUNCATED, file, null,
                    "header length " + n + " but only " + (fileSize - JSON_OFFSET) + " bytes follow the length field");
        }
        ByteBuffer json = ByteBuffer.allocate((int) n);
        readFully(channel, json, JSON_OFFSET);
        return parse(json.array(), fileSize - dataStart(n), file);
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            int r = channel.read(buffer, position + buffer.position());
            if (r < 0) throw new java.io.EOFException("unexpected end of file at " + (position + buffer.position()));
        }
    }

    /**
     * Parses and validates header JSON.
     *
     * @param json       the N header bytes (padding included)
     * @param dataLength bytes of the data section, which every tensor must lie inside
     * @param source     named in errors; may be null
     */
    public static SafetensorsHeader parse(byte[] json, long dataLength, Path source) throws SafetensorsFormatException {
        try (JsonParser p = BoundedJson.openObject(json, source)) {
            try {
                Map<String, String> metadata = Map.of();
                List<Entry> entries = new ArrayList<>();
                Map<String, Entry> byName = new LinkedHashMap<>();
                JsonToken t;
                while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    if (name.equals(METADATA_KEY)) {
                        metadata = parseMetadata(p, source);
                        continue;
                    }
                    if (entries.size() >= MAX_TENSORS) {
                        throw new SafetensorsFormatException(TOO_MANY_TENSORS, source, null,
                                "the header lists more than " + MAX_TENSORS + " tensors, the limit");
                    }
                    Entry e = parseEntry(name, p, dataLength, source);
                    entries.add(e);
                    byName.put(name, e);
                }
                if (t != JsonToken.END_OBJECT) throw new SafetensorsFormatException(MALFORMED_JSON, source, null, "malformed JSON: unexpected " + t);
                BoundedJson.expectEnd(p, source);
                // File order: ascending begin; empty tensors keep header order among equals (stable sort).
                entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
                checkNoOverlap(entries, source);
                return new SafetensorsHeader(source, json.length, dataLength, Collections.unmodifiableList(entries),
                        Collections.unmodifiableMap(byName), metadata);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw BoundedJson.failure(e, p, source);
            }
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (IOException e) {
            // Parsing a byte array fails only on the input.
            throw new SafetensorsFormatException(MALFORMED_JSON, source, null, "malformed JSON: " + e.getMessage(), e);
        }
    }

    private static Map<String, String> parseMetadata(JsonParser p, Path source) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.VALUE_NULL) return Map.of();
        if (t != JsonToken.START_OBJECT) {
            throw new SafetensorsFormatException(BAD_METADATA, source, null, METADATA_KEY + " must be an object, found " + kind(t));
        }
        Map<String, String> map = new LinkedHashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING) {
                throw new SafetensorsFormatException(BAD_METADATA, source, null, METADATA_KEY + "." + key + " must be a string, found " + kind(v));
            }
            map.put(key, p.getText());
        }
        return Collections.unmodifiableMap(map);
    }

    private static Entry parseEntry(String name, JsonParser p, long dataLength, Path source) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) {
            throw new SafetensorsFormatException(BAD_ENTRY, source, name, "entry must be an object, found " + kind(p.currentToken()));
        }
        String dtypeName = null;
        long[] shape = null, offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            switch (key) {
                case DTYPE_KEY -> {
                    if (v != JsonToken.VALUE_STRING) throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + DTYPE_KEY + "' must be a string");
                    dtypeName = p.getText();
                }
                case SHAPE_KEY -> shape = nonNegativeLongs(p, -1, SHAPE_KEY, name, source);
                case DATA_OFFSETS_KEY -> offsets = nonNegativeLongs(p, 2, DATA_OFFSETS_KEY, name, source);
                default -> p.skipChildren(); // unknown keys are ignored, as the crate does
            }
        }
        if (dtypeName == null) throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + DTYPE_KEY + "' must be a string");
        if (shape == null) throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + SHAPE_KEY + "' must be " + expected(-1));
        if (offsets == null) throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + DATA_OFFSETS_KEY + "' must be " + expected(2));
        DType dtype = DType.fromSafetensorsName(dtypeName);
        if (dtype == null) {
            throw new SafetensorsFormatException(UNKNOWN_DTYPE, source, name, "unknown dtype '" + dtypeName + "'");
        }
        TensorInfo info = new TensorInfo(name, dtype, shape);
        long byteSize;
        try {
            byteSize = info.byteSize();
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(BAD_SHAPE, source, name,
                    "shape " + TensorInfo.shapeString(shape) + " of " + dtype + " overflows a 64-bit byte count");
        }
        long begin = offsets[0], end = offsets[1];
        if (begin > end) {
            throw new SafetensorsFormatException(BAD_OFFSETS, source, name, "data_offsets [" + begin + ", " + end + "] has begin > end");
        }
        if (end > dataLength) {
            throw new SafetensorsFormatException(OFFSETS_OUT_OF_BOUNDS, source, name,
                    "data_offsets [" + begin + ", " + end + "] end beyond the data section of " + dataLength + " bytes");
        }
        if (end - begin != byteSize) {
            throw new SafetensorsFormatException(SIZE_MISMATCH, source, name, "data_offsets [" + begin + ", " + end + "] span "
                    + (end - begin) + " bytes but " + dtype + " " + TensorInfo.shapeString(shape) + " needs " + byteSize);
        }
        return new Entry(info, begin, end);
    }

    private static String expected(int requiredLength) {
        return requiredLength < 0 ? "an array of non-negative integers" : "an array of " + requiredLength + " non-negative integers";
    }

    private static String kind(JsonToken t) {
        if (t == null) return "nothing";
        return switch (t) {
            case START_OBJECT -> "OBJECT";
            case START_ARRAY -> "ARRAY";
            case VALUE_STRING -> "STRING";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "NUMBER";
            case VALUE_TRUE, VALUE_FALSE -> "BOOLEAN";
            case VALUE_NULL -> "NULL";
            default -> t.asString() == null ? t.name() : t.asString();
        };
    }

    /** The array at the parser (its START_ARRAY current), of non-negative 64-bit integers. */
    private static long[] nonNegativeLongs(JsonParser p, int requiredLength, String key, String name, Path source)
            throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + key + "' must be " + expected(requiredLength));
        }
        long[] values = new long[requiredLength < 0 ? 4 : requiredLength];
        int n = 0;
        JsonToken t;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER || p.getLongValue() < 0) {
                String found = t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT ? p.getText() : kind(t);
                throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + key + "' must be " + expected(requiredLength) + ", found " + found);
            }
            if (requiredLength >= 0 && n == requiredLength) {
                throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + key + "' must be " + expected(requiredLength));
            }
            if (n == values.length) values = java.util.Arrays.copyOf(values, values.length * 2);
            values[n++] = p.getLongValue();
        }
        if (requiredLength >= 0 && n != requiredLength) {
            throw new SafetensorsFormatException(BAD_ENTRY, source, name, "'" + key + "' must be " + expected(requiredLength));
        }
        return n == values.length ? values : java.util.Arrays.copyOf(values, n);
    }

    private static void checkNoOverlap(List<Entry> sorted, Path source) throws SafetensorsFormatException {
        Entry furthest = null; // the non-empty entry seen so far with the largest end
        for (Entry e : sorted) {
            if (e.byteSize() == 0) continue;
            if (furthest != null && e.begin() < furthest.end()) {
                throw new SafetensorsFormatException(OFFSETS_OVERLAP, source, e.name(), "bytes [" + e.begin() + ", " + e.end()
                        + ") overlap tensor '" + furthest.name() + "' at [" + furthest.begin() + ", " + furthest.end() + ")");
            }
            if (furthest == null || e.end() > furthest.end()) furthest = e;
        }
    }

    /**
     * Encodes everything before the data section: the length field and the padded JSON header
     * for {@code tensors} stored back to back in the given order.
     *
     * @throws IllegalArgumentException for duplicate names or a tensor named {@value #METADATA_KEY}
     */
    public static byte[] encode(List<TensorInfo> tensors, Map<String, String> metadata) {
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        try (JsonGenerator g = new JsonFactory().createGenerator(json)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeObjectFieldStart(METADATA_KEY);
                for (Map.Entry<String, String> kv : metadata.entrySet()) g.writeStringField(kv.getKey(), kv.getValue());
                g.writeEndObject();
            }
            Set<String> names = new HashSet<>();
            long offset = 0;
            for (TensorInfo t : tensors) {
                if (t.name().equals(METADATA_KEY)) throw new IllegalArgumentException("a tensor may not be named " + METADATA_KEY);
                if (!names.add(t.name())) throw new IllegalArgumentException("tensor '" + t.name() + "' is listed twice");
                long end = Math.addExact(offset, t.byteSize());
                g.writeObjectFieldStart(t.name());
                g.writeStringField(DTYPE_KEY, t.dtype().safetensorsName());
                g.writeArrayFieldStart(SHAPE_KEY);
                for (long d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart(DATA_OFFSETS_KEY);
                g.writeNumber(offset);
                g.writeNumber(end);
                g.writeEndArray();
                g.writeEndObject();
                offset = end;
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen: in-memory stream
        }
        int n = json.size();
        int padded = (n + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
        ByteBuffer out = ByteBuffer.allocate(LENGTH_BYTES + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(LENGTH_OFFSET, padded);
        out.put(JSON_OFFSET, json.toByteArray());
        for (int i = JSON_OFFSET + n; i < out.capacity(); i++) out.put(i, PADDING);
        return out.array();
    }

    /** The file this header was read from; null if parsed from bytes without one. */
    public Path source() {
        return source;
    }

    /** N, the header length in bytes (padding included). */
    public long headerLength() {
        return headerLength;
    }

    /** Absolute file offset of the data section. */
    public long dataStart() {
        return dataStart(headerLength);
    }

    /** Length of the data section (file size minus {@link #dataStart()}). */
    public long dataLength() {
        return dataLength;
    }

    /** The tensors in file order (ascending begin offset). */
    public List<Entry> entries() {
        return entries;
    }

    /** The entry named {@code name}, or null. */
    public Entry entry(String name) {
        return byName.get(name);
    }

    /** Tensor names in header order. */
    public Set<String> names() {
        return byName.keySet();
    }

    /** The {@value #METADATA_KEY} map, in header order; empty if absent. */
    public Map<String, String> metadata() {
        return metadata;
    }
}

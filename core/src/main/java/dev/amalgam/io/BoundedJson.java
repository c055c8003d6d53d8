package dev.amalgam.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;

import java.io.IOException;
import java.nio.file.Path;

import static dev.amalgam.io.SafetensorsFormatException.Violation.DUPLICATE_NAME;
import static dev.amalgam.io.SafetensorsFormatException.Violation.MALFORMED_JSON;

/**
 * Jackson's streaming parser set up for untrusted JSON (safetensors headers, shard indexes):
 * bounded in depth, length and memory, strict about duplicates and encoding.
 *
 * <p>Implementation notes. Callers pull tokens and build only what they keep (no tree), and
 * skip what they ignore with {@link JsonParser#skipChildren()}, which is iterative: nothing
 * recurses, so no input can overflow the stack. {@link StreamReadConstraints} cap the nesting
 * depth at {@value #MAX_DEPTH} and the document and string lengths at
 * {@link SafetensorsHeader#MAX_HEADER_BYTES}. {@code STRICT_DUPLICATE_DETECTION} rejects a
 * repeated key at any depth; its error is mapped to
 * {@link SafetensorsFormatException.Violation#DUPLICATE_NAME}, naming the tensor when the key is
 * a top-level one. The bytes are checked to be UTF-8 up front without decoding them (Jackson
 * would otherwise guess UTF-16 or UTF-32 from zero bytes), then parsed straight from the array:
 * no decoded copy of the header. Field names are not interned (a header may hold hundreds of
 * thousands of distinct names).
 */
final class BoundedJson {

    /** Deepest nesting accepted: a header needs 3 (root, entry, shape), an index 3. */
    static final int MAX_DEPTH = 64;

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxDocumentLength(SafetensorsHeader.MAX_HEADER_BYTES)
                    .maxStringLength((int) SafetensorsHeader.MAX_HEADER_BYTES)
                    .maxNameLength((int) Math.min(Integer.MAX_VALUE, SafetensorsHeader.MAX_HEADER_BYTES))
                    .maxNumberLength(1000)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .build();

    /** For the few small subtrees kept as JSON text (index metadata values); its tree reader does not recurse. */
    private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper(FACTORY);

    /** The JSON text of the value at the parser (its first token current), consumed. */
    static String valueAsText(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) return MAPPER.readTree(p).toString();
        return p.getText();
    }

    private BoundedJson() {
    }

    /** A parser positioned on the {@code START_OBJECT} of {@code utf8}, which must be one JSON object. */
    static JsonParser openObject(byte[] utf8, Path file) throws IOException {
        int bad = firstInvalidUtf8(utf8);
        if (bad >= 0) throw new SafetensorsFormatException(MALFORMED_JSON, file, null, "JSON is not valid UTF-8 (at byte " + bad + ")");
        for (int i = 0; i < Math.min(4, utf8.length); i++) {
            if (utf8[i] == 0) throw new SafetensorsFormatException(MALFORMED_JSON, file, null, "JSON starts with a zero byte (UTF-16/32?)");
        }
        if (utf8.length >= 3 && (utf8[0] & 0xFF) == 0xEF && (utf8[1] & 0xFF) == 0xBB && (utf8[2] & 0xFF) == 0xBF) {
            throw new SafetensorsFormatException(MALFORMED_JSON, file, null, "JSON starts with a byte order mark");
        }
        JsonParser p = FACTORY.createParser(utf8);
        try {
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new SafetensorsFormatException(MALFORMED_JSON, file, null,
                        "JSON must be an object, found " + (first == null ? "nothing" : first.asString()));
            }
            return p;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            p.close();
            throw failure(e, p, file);
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Fails unless the document ends after the object the parser has just closed. */
    static void expectEnd(JsonParser p, Path file) throws IOException {
        JsonToken trailing = p.nextToken();
        if (trailing != null) {
            throw new SafetensorsFormatException(MALFORMED_JSON, file, null,
                    "trailing content after the JSON object at offset " + p.currentTokenLocation().getByteOffset());
        }
    }

    /** The typed form of a Jackson read error: a duplicate key, a limit, or malformed JSON. */
    static SafetensorsFormatException failure(com.fasterxml.jackson.core.JsonProcessingException e, JsonParser p, Path file) {
        return failure(e, p, file, null);
    }

    /**
     * As {@link #failure(com.fasterxml.jackson.core.JsonProcessingException, JsonParser, Path)}, where the keys of the
     * top-level field {@code tensorObject} (null: of the root) are tensor names.
     */
    static SafetensorsFormatException failure(com.fasterxml.jackson.core.JsonProcessingException e, JsonParser p, Path file,
                                              String tensorObject) {
        String msg = e.getOriginalMessage() == null ? String.valueOf(e.getMessage()) : e.getOriginalMessage();
        if (msg.startsWith("Duplicate Object property \"") || msg.startsWith("Duplicate field '")) {
            char quote = msg.startsWith("Duplicate field") ? '\'' : '"';
            int a = msg.indexOf(quote) + 1, b = msg.indexOf(quote, a);
            String key = b > a ? msg.substring(a, b) : "?";
            JsonStreamContext ctx = p.getParsingContext();
            boolean topLevel = ctx != null && ctx.inObject() && ctx.getParent() != null && (tensorObject == null
                    ? ctx.getParent().inRoot()
                    : ctx.getParent().getParent() != null && ctx.getParent().getParent().inRoot()
                      && tensorObject.equals(ctx.getParent().getCurrentName()));
            String where = ctx == null || ctx.getParent() == null ? "/" : ctx.getParent().pathAsPointer().toString();
            return new SafetensorsFormatException(DUPLICATE_NAME, file, topLevel ? key : null,
                    topLevel ? "name occurs twice" : "key '" + key + "' occurs twice in " + (where.isEmpty() ? "/" : where), e);
        }
        if (e instanceof StreamConstraintsException) {
            return new SafetensorsFormatException(MALFORMED_JSON, file, null, "JSON exceeds a limit: " + msg, e);
        }
        return new SafetensorsFormatException(MALFORMED_JSON, file, null, "malformed JSON: " + msg, e);
    }

    /** The offset of the first byte that is not part of well-formed UTF-8 (RFC 3629), or -1. */
    static int firstInvalidUtf8(byte[] b) {
        int i = 0, n = b.length;
        while (i < n) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int len, min;
            if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; }
            else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; }
            else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; }
            else return i;
            if (i + len > n) return i;
            int cp = c & (0xFF >> (len + 1));
            for (int k = 1; k < len; k++) {
                int cc = b[i + k] & 0xFF;
                if ((cc & 0xC0) != 0x80) return i;
                cp = (cp << 6) | (cc & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
            i += len;
        }
        return -1;
    }
}

package dev.amalgam.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static dev.amalgam.io.SafetensorsFormatException.Violation.DUPLICATE_NAME;
import static dev.amalgam.io.SafetensorsFormatException.Violation.MALFORMED_JSON;

/**
 * Reads untrusted JSON (safetensors headers, sharded indexes) into a Jackson tree, strictly.
 *
 * <p>Implementation notes: the bytes must be valid UTF-8 (decoded with a reporting decoder, so
 * Jackson's encoding auto-detection never guesses UTF-16), the document must be exactly one JSON
 * object, and no object at any depth may repeat a key. Duplicates are detected here rather than
 * with Jackson's {@code STRICT_DUPLICATE_DETECTION}, whose error is an untyped parse exception,
 * so that a duplicate tensor name becomes {@link SafetensorsFormatException.Violation#DUPLICATE_NAME}
 * naming the tensor. Object key order is kept (Jackson's ObjectNode is insertion ordered).
 * Jackson's default stream constraints bound nesting depth and string lengths.
 */
final class StrictJson {

    private static final JsonFactory FACTORY = new JsonFactory();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private StrictJson() {
    }

    /**
     * Parses {@code utf8} as one JSON object.
     *
     * @param file            named in errors
     * @param tensorObjectPath the JSON pointer of the object whose keys are tensor names ("" for
     *                        a header's root, "/weight_map" for an index): a duplicate key there
     *                        is reported with the tensor's name
     */
    static ObjectNode parseObject(byte[] utf8, Path file, String tensorObjectPath) throws SafetensorsFormatException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(utf8)).toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsFormatException(MALFORMED_JSON, file, null, "JSON is not valid UTF-8", e);
        }
        try (JsonParser p = FACTORY.createParser(text)) {
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new SafetensorsFormatException(MALFORMED_JSON, file, null,
                        "JSON must be an object, found " + (first == null ? "nothing" : first.asString()));
            }
            ObjectNode root = readObject(p, "", file, tensorObjectPath);
            JsonToken trailing = p.nextToken();
            if (trailing != null) {
                throw new SafetensorsFormatException(MALFORMED_JSON, file, null,
                        "trailing content after the JSON object at offset " + p.currentTokenLocation().getCharOffset());
            }
            return root;
        } catch (SafetensorsFormatException e) {
            throw e;
        } catch (StreamReadException e) {
            throw new SafetensorsFormatException(MALFORMED_JSON, file, null, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            // Reading from a String can only fail on malformed input.
            throw new SafetensorsFormatException(MALFORMED_JSON, file, null, "malformed JSON: " + e.getMessage(), e);
        }
    }

    private static ObjectNode readObject(JsonParser p, String path, Path file, String tensorObjectPath)
            throws IOException {
        ObjectNode node = NODES.objectNode();
        Set<String> seen = new HashSet<>();
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (!seen.add(key)) {
                boolean isTensor = path.equals(tensorObjectPath);
                throw new SafetensorsFormatException(DUPLICATE_NAME, file, isTensor ? key : null,
                        isTensor ? "name occurs twice" : "key '" + key + "' occurs twice in " + (path.isEmpty() ? "/" : path));
            }
            p.nextToken();
            node.set(key, readValue(p, path + "/" + key, file, tensorObjectPath));
        }
        if (t != JsonToken.END_OBJECT) throw new JsonParseException(p, "unexpected token " + t);
        return node;
    }

    private static JsonNode readValue(JsonParser p, String path, Path file, String tensorObjectPath)
            throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) throw new JsonParseException(p, "unexpected end of input");
        return switch (t) {
            case START_OBJECT -> readObject(p, path, file, tensorObjectPath);
            case START_ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    array.add(readValue(p, path + "/" + i++, file, tensorObjectPath));
                }
                yield array;
            }
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    ? NODES.numberNode(p.getBigIntegerValue())
                    : NODES.numberNode(p.getLongValue());
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(p.getDecimalValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            default -> throw new JsonParseException(p, "unexpected token " + t);
        };
    }
}

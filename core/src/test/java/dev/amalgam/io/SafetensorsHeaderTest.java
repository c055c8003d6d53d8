package dev.amalgam.io;

import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.TensorInfo;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsHeaderTest {

    private static final TensorInfo A = new TensorInfo("a", DType.F32, new long[]{2});
    private static final TensorInfo B = new TensorInfo("b.weight", DType.BF16, new long[]{3});

    private static String json(byte[] encoded) {
        long n = ByteBuffer.wrap(encoded).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(encoded.length - 8, n, "length field = bytes after it");
        return new String(encoded, 8, (int) n, StandardCharsets.UTF_8);
    }

    @Test
    void encodeWritesMetadataThenTensorsInOrderWithBackToBackOffsetsAndSpacePadding() {
        Map<String, String> md = new LinkedHashMap<>();
        md.put("format", "pt");
        byte[] encoded = SafetensorsHeader.encode(List.of(A, B), md);
        String expected = "{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b.weight\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[8,14]}}";
        // 147 bytes of JSON, padded with 5 spaces to 152, so the data starts at 160 = 20 * 8.
        assertEquals(147, expected.length());
        assertEquals(8 + 152, encoded.length);
        assertEquals(expected + "     ", json(encoded));
    }

    @Test
    void encodeOmitsEmptyMetadataAndPadsAnEmptyHeader() {
        assertEquals("{}      ", json(SafetensorsHeader.encode(List.of(), Map.of())));
        // 54 bytes of JSON + 2 spaces = 56.
        assertEquals("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ",
                json(SafetensorsHeader.encode(List.of(A), Map.of())));
    }

    @Test
    void encodeOfZeroDimensionalTensorHasEmptyShape() {
        TensorInfo scalar = new TensorInfo("s", DType.F64, new long[0]);
        assertTrue(json(SafetensorsHeader.encode(List.of(scalar), Map.of()))
                .startsWith("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]}}"));
    }

    @Test
    void encodeRejectsDuplicateAndReservedNames() {
        assertThrows(IllegalArgumentException.class, () -> SafetensorsHeader.encode(List.of(A, A), Map.of()));
        TensorInfo reserved = new TensorInfo("__metadata__", DType.F32, new long[]{1});
        assertThrows(IllegalArgumentException.class, () -> SafetensorsHeader.encode(List.of(reserved), Map.of()));
    }

    @Test
    void parseRoundTripsEncode() throws Exception {
        byte[] encoded = SafetensorsHeader.encode(List.of(A, B), Map.of("k", "v"));
        byte[] jsonBytes = Arrays.copyOfRange(encoded, 8, encoded.length);
        SafetensorsHeader h = SafetensorsHeader.parse(jsonBytes, 14, null);
        assertEquals(List.of(A, B), h.entries().stream().map(SafetensorsHeader.Entry::info).toList());
        assertEquals(8, h.entry("b.weight").begin());
        assertEquals(14, h.entry("b.weight").end());
        assertEquals(Map.of("k", "v"), h.metadata());
        assertEquals(jsonBytes.length, h.headerLength());
        assertEquals(8 + jsonBytes.length, h.dataStart());
        assertEquals(0, h.dataStart() % SafetensorsHeader.HEADER_ALIGNMENT);
    }

    @Test
    void entriesAreInFileOrderWhileNamesKeepHeaderOrder() throws Exception {
        String json = "{\"z\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                + "\"y\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[6,7]},"
                + "\"x\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[2,5]}}";
        SafetensorsHeader h = SafetensorsHeader.parse(json.getBytes(StandardCharsets.UTF_8), 10, null);
        assertEquals(List.of("z", "x", "y"), h.entries().stream().map(SafetensorsHeader.Entry::name).toList());
        assertEquals(List.of("z", "y", "x"), List.copyOf(h.names()));
        // A gap (5..6) and trailing bytes (7..10) are tolerated.
        assertEquals(10, h.dataLength());
    }

    @Test
    void layoutConstants() {
        assertEquals(0, SafetensorsHeader.LENGTH_OFFSET);
        assertEquals(8, SafetensorsHeader.JSON_OFFSET);
        assertEquals(100_000_000L, SafetensorsHeader.MAX_HEADER_BYTES);
        assertEquals(108, SafetensorsHeader.dataStart(100));
    }

    /** The bounds rule at its edge, on the parser alone: end = data length is inside, one more is not. */
    @Test
    void parseAcceptsEndAtTheDataLengthAndRejectsOnePast() throws Exception {
        byte[] json = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[2,8]}}".getBytes(StandardCharsets.UTF_8);
        SafetensorsHeader ok = SafetensorsHeader.parse(json, 8, null);
        assertEquals(8, ok.entries().getFirst().end());
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsHeader.parse(json, 7, null));
        assertEquals(SafetensorsFormatException.Violation.OFFSETS_OUT_OF_BOUNDS, e.violation(), e.getMessage());
        assertEquals("w", e.tensor());
    }
}

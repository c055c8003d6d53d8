package dev.amalgam.io;

import dev.amalgam.io.SafetensorsFormatException.Violation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.amalgam.io.SafetensorsFormatException.Violation.*;
import static org.junit.jupiter.api.Assertions.*;

/** One hand-crafted bad file per rule of {@link SafetensorsHeader}: each fails with its own violation. */
class SafetensorsValidationTest {

    @TempDir
    Path tmp;

    private Path file(String header, int dataBytes) throws Exception {
        return SafetensorsTestFiles.writeRaw(tmp.resolve("bad.safetensors"), header, new byte[dataBytes]);
    }

    /** Opens the file, expects the violation, and checks the message names the file (and the tensor). */
    private static SafetensorsFormatException expect(Violation v, Path file, String tensor) {
        SafetensorsFormatException e = assertThrows(SafetensorsFormatException.class, () -> SafetensorsFile.open(file).close());
        assertEquals(v, e.violation(), e.getMessage());
        assertEquals(file, e.file());
        assertEquals(tensor, e.tensor());
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        if (tensor != null) assertTrue(e.getMessage().contains("'" + tensor + "'"), e.getMessage());
        return e;
    }

    private static String entry(String dtype, String shape, long begin, long end) {
        return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    @Test
    void validFileOpens() throws Exception {
        Path f = file("{\"a\":" + entry("F32", "[2]", 0, 8) + "}", 8);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals(1, s.tensors().size());
        }
    }

    @Test
    void headerLengthAboveTheCap() throws Exception {
        Path f = SafetensorsTestFiles.writeRaw(tmp.resolve("big.safetensors"), 100_000_001L, "{}".getBytes(), new byte[0]);
        expect(HEADER_TOO_LARGE, f, null);
    }

    @Test
    void headerLengthWithTheTopBitSet() throws Exception {
        Path f = SafetensorsTestFiles.writeRaw(tmp.resolve("neg.safetensors"), -1L, "{}".getBytes(), new byte[0]);
        expect(HEADER_TOO_LARGE, f, null);
    }

    @Test
    void headerLongerThanTheFile() throws Exception {
        Path f = SafetensorsTestFiles.writeRaw(tmp.resolve("trunc.safetensors"), 100, "{\"a\":".getBytes(), new byte[3]);
        expect(HEADER_TRUNCATED, f, null);
    }

    @Test
    void fileShorterThanTheLengthField() throws Exception {
        Path f = Files.write(tmp.resolve("tiny.safetensors"), new byte[]{2, 0, 0});
        expect(HEADER_TRUNCATED, f, null);
    }

    @Test
    void malformedJson() throws Exception {
        expect(MALFORMED_JSON, file("{\"a\":{\"dtype\":", 0), null);
    }

    @Test
    void jsonThatIsNotAnObject() throws Exception {
        expect(MALFORMED_JSON, file("[1,2]", 0), null);
    }

    @Test
    void trailingContentAfterTheObject() throws Exception {
        expect(MALFORMED_JSON, file("{} {}", 0), null);
    }

    @Test
    void headerThatIsNotUtf8() throws Exception {
        byte[] header = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        Path f = SafetensorsTestFiles.writeRaw(tmp.resolve("latin.safetensors"), header.length, header, new byte[0]);
        expect(MALFORMED_JSON, f, null);
    }

    @Test
    void unknownDtype() throws Exception {
        expect(UNKNOWN_DTYPE, file("{\"w\":" + entry("F4", "[2]", 0, 1) + "}", 1), "w");
    }

    @Test
    void byteLengthDisagreesWithShapeAndDtype() throws Exception {
        SafetensorsFormatException e = expect(SIZE_MISMATCH, file("{\"w\":" + entry("F32", "[2,2]", 0, 12) + "}", 16), "w");
        assertTrue(e.getMessage().contains("16"), e.getMessage());
    }

    @Test
    void shapeWhoseByteSizeOverflows() throws Exception {
        expect(BAD_SHAPE, file("{\"w\":" + entry("F32", "[4611686018427387904,4]", 0, 8) + "}", 8), "w");
    }

    @Test
    void offsetsOutsideTheFile() throws Exception {
        expect(OFFSETS_OUT_OF_BOUNDS, file("{\"w\":" + entry("F32", "[4]", 0, 16) + "}", 8), "w");
    }

    @Test
    void offsetsEndingExactlyAtTheEndOfTheDataAreValid() throws Exception {
        // The last tensor ends at byte 16 of a 16-byte data section; an empty tensor sits at the end itself.
        String header = "{\"a\":" + entry("F32", "[2]", 0, 8) + ",\"b\":" + entry("F32", "[2]", 8, 16)
                + ",\"e\":" + entry("U8", "[0]", 16, 16) + "}";
        try (SafetensorsFile s = SafetensorsFile.open(file(header, 16))) {
            assertEquals(3, s.tensors().size());
            assertEquals(16, s.header().dataLength());
        }
    }

    @Test
    void offsetsEndingOneBytePastTheData() throws Exception {
        String header = "{\"a\":" + entry("F32", "[2]", 0, 8) + ",\"b\":" + entry("F32", "[2]", 8, 16) + "}";
        SafetensorsFormatException e = expect(OFFSETS_OUT_OF_BOUNDS, file(header, 15), "b");
        assertTrue(e.getMessage().contains("15 bytes"), e.getMessage());
    }

    @Test
    void emptyTensorOneBytePastTheData() throws Exception {
        expect(OFFSETS_OUT_OF_BOUNDS, file("{\"e\":" + entry("U8", "[0]", 9, 9) + "}", 8), "e");
    }

    @Test
    void offsetsBeginAfterEnd() throws Exception {
        expect(BAD_OFFSETS, file("{\"w\":" + entry("U8", "[0]", 8, 4) + "}", 8), "w");
    }

    @Test
    void overlappingOffsets() throws Exception {
        String header = "{\"a\":" + entry("F32", "[2]", 0, 8) + ",\"b\":" + entry("F32", "[2]", 4, 12) + "}";
        SafetensorsFormatException e = expect(OFFSETS_OVERLAP, file(header, 12), "b");
        assertTrue(e.getMessage().contains("'a'"), e.getMessage());
    }

    @Test
    void aTensorInsideAnotherOverlapsEvenIfNotAdjacent() throws Exception {
        String header = "{\"big\":" + entry("U8", "[10]", 0, 10) + ",\"c\":" + entry("U8", "[2]", 2, 4)
                + ",\"d\":" + entry("U8", "[2]", 6, 8) + "}";
        expect(OFFSETS_OVERLAP, file(header, 10), "c");
    }

    @Test
    void emptyTensorsSharingAnOffsetDoNotOverlap() throws Exception {
        String header = "{\"a\":" + entry("F32", "[0]", 4, 4) + ",\"b\":" + entry("F32", "[1]", 0, 4)
                + ",\"c\":" + entry("BF16", "[3,0]", 4, 4) + "}";
        try (SafetensorsFile f = SafetensorsFile.open(file(header, 4))) {
            assertEquals(3, f.tensors().size());
        }
    }

    @Test
    void duplicateTensorNames() throws Exception {
        String header = "{\"w\":" + entry("U8", "[1]", 0, 1) + ",\"w\":" + entry("U8", "[1]", 1, 2) + "}";
        expect(DUPLICATE_NAME, file(header, 2), "w");
    }

    @Test
    void duplicateKeyInsideAnEntry() throws Exception {
        String header = "{\"w\":{\"dtype\":\"U8\",\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,1]}}";
        SafetensorsFormatException e = expect(DUPLICATE_NAME, file(header, 1), null);
        assertTrue(e.getMessage().contains("/w"), e.getMessage());
    }

    @Test
    void entryMissingDataOffsets() throws Exception {
        expect(BAD_ENTRY, file("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", 1), "w");
    }

    @Test
    void negativeOrFractionalDimensions() throws Exception {
        expect(BAD_ENTRY, file("{\"w\":" + entry("U8", "[-1]", 0, 0) + "}", 1), "w");
        expect(BAD_ENTRY, file("{\"w\":" + entry("U8", "[1.5]", 0, 1) + "}", 1), "w");
        expect(BAD_ENTRY, file("{\"w\":" + entry("U8", "[99999999999999999999]", 0, 1) + "}", 1), "w");
    }

    @Test
    void metadataValuesMustBeStrings() throws Exception {
        expect(BAD_METADATA, file("{\"__metadata__\":{\"total\":3}}", 0), null);
    }
}

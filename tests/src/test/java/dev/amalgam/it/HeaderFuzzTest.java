package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.io.SafetensorsFormatException;
import dev.amalgam.io.SafetensorsHeader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile safetensors headers and indexes, generated from a fixed seed: every one is either
 * accepted or rejected with a {@link SafetensorsFormatException} (a typed violation naming the
 * file) — never another exception, an Error (stack overflow, out of memory) or a hang. Cases
 * mutate valid headers (byte flips, cuts, splices, number and key swaps) and build structurally
 * odd ones (deep nesting, duplicate keys, huge numbers, non-UTF-8 bytes, NUL and BOM prefixes).
 */
class HeaderFuzzTest {

    private static final long SEED = 0x11_2026_12_02L;
    private static final int CASES = 4000;
    private static final int FILE_CASES = 300;

    @TempDir
    Path tmp;

    private static final String[] VALID = {
            "{\"__metadata__\":{\"format\":\"pt\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                    + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[16,24]}}",
            "{\"w\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[0,8]},\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,8]}}",
            "{}",
            "{\"x\":{\"dtype\":\"F16\",\"shape\":[3,1],\"data_offsets\":[2,8],\"extra\":{\"k\":[1,{\"n\":null}]}}}",
    };
    private static final String[] FRAGMENTS = {
            "{", "}", "[", "]", ",", ":", "\"", "\\", "null", "true", "-1", "1e400", "18446744073709551616",
            "9223372036854775807", "0.5", "\"__metadata__\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"",
            "\"a\"", "\u00e9", "\ud83d\ude00", " ", "\n", "\"\\u0000\"", "\"\\ud800\"",
    };

    @Test
    void everyHostileHeaderIsAcceptedOrATypedViolation() throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED);
        Map<SafetensorsFormatException.Violation, Integer> seen = new EnumMap<>(SafetensorsFormatException.Violation.class);
        int accepted = 0;
        for (int i = 0; i < CASES; i++) {
            byte[] header = hostile(rnd);
            long dataLength = rnd.nextInt(4) == 0 ? rnd.nextLong(1 << 20) : 24;
            long start = System.nanoTime();
            try {
                SafetensorsHeader.parse(header, dataLength, tmp.resolve("case-" + i));
                accepted++;
            } catch (SafetensorsFormatException e) {
                seen.merge(e.violation(), 1, Integer::sum);
                assertTrue(e.getMessage().contains("case-" + i), "error does not name the file: " + e.getMessage());
            } catch (Throwable t) {
                fail("case " + i + " (seed " + SEED + "): " + t + " for header " + preview(header), t);
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            assertTrue(ms < 2000, "case " + i + " took " + ms + " ms");
        }
        assertTrue(accepted > 0 && seen.size() >= 6, "the generator should reach valid headers and many rules: " + seen);
        System.out.println("HeaderFuzzTest: " + CASES + " headers, " + accepted + " accepted, rejections " + seen);
    }

    @Test
    void everyHostileFileOrIndexOpensOrFailsTyped() throws Exception {
        SplittableRandom rnd = new SplittableRandom(SEED + 1);
        for (int i = 0; i < FILE_CASES; i++) {
            Path dir = Files.createDirectories(tmp.resolve("m" + i));
            byte[] header = hostile(rnd);
            byte[] data = new byte[rnd.nextInt(32)];
            long announced = rnd.nextInt(8) == 0 ? rnd.nextLong() : header.length; // lying length fields too
            ByteBuffer file = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
            file.putLong(announced).put(header).put(data);
            boolean indexed = rnd.nextBoolean();
            Files.write(dir.resolve(indexed ? "model-00001-of-00001.safetensors" : "model.safetensors"), file.array());
            if (indexed) {
                String index = rnd.nextBoolean()
                        ? "{\"metadata\":{\"total_size\":24},\"weight_map\":{\"a\":\"model-00001-of-00001.safetensors\",\"b\":\"model-00001-of-00001.safetensors\"}}"
                        : new String(hostile(rnd), StandardCharsets.ISO_8859_1);
                Files.write(dir.resolve(ModelFolder.INDEX_FILE_NAME), index.getBytes(StandardCharsets.ISO_8859_1));
            }
            try (ModelFolder m = ModelFolder.open(dir)) {
                for (var t : m.tensors()) m.readTensor(t.name());
            } catch (SafetensorsFormatException e) {
                // typed: fine
            } catch (Throwable t) {
                fail("file case " + i + " (seed " + (SEED + 1) + "): " + t + " for header " + preview(header), t);
            }
        }
    }

    private static byte[] hostile(SplittableRandom rnd) {
        String base = VALID[rnd.nextInt(VALID.length)];
        return switch (rnd.nextInt(9)) {
            case 0 -> flipBytes(base.getBytes(StandardCharsets.UTF_8), rnd);
            case 1 -> base.substring(0, rnd.nextInt(base.length() + 1)).getBytes(StandardCharsets.UTF_8);
            case 2 -> splice(base, rnd).getBytes(StandardCharsets.UTF_8);
            case 3 -> deep(rnd).getBytes(StandardCharsets.UTF_8);
            case 4 -> duplicate(rnd).getBytes(StandardCharsets.UTF_8);
            case 5 -> prefix(base.getBytes(StandardCharsets.UTF_8), rnd);
            case 6 -> base.replaceAll("[0-9]+", FRAGMENTS[9 + rnd.nextInt(5)]).getBytes(StandardCharsets.UTF_8);
            case 7 -> randomTokens(rnd).getBytes(StandardCharsets.UTF_8);
            default -> base.getBytes(StandardCharsets.UTF_8);
        };
    }

    private static byte[] flipBytes(byte[] b, SplittableRandom rnd) {
        int flips = 1 + rnd.nextInt(4);
        for (int k = 0; k < flips && b.length > 0; k++) b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
        return b;
    }

    private static String splice(String base, SplittableRandom rnd) {
        StringBuilder s = new StringBuilder(base);
        int n = 1 + rnd.nextInt(3);
        for (int k = 0; k < n; k++) {
            int at = rnd.nextInt(s.length() + 1);
            if (rnd.nextBoolean() && at < s.length()) s.delete(at, Math.min(s.length(), at + 1 + rnd.nextInt(6)));
            else s.insert(at, FRAGMENTS[rnd.nextInt(FRAGMENTS.length)]);
        }
        return s.toString();
    }

    private static String deep(SplittableRandom rnd) {
        int depth = 10 + rnd.nextInt(20_000);
        String open = rnd.nextBoolean() ? "[" : "{\"k\":";
        String close = open.equals("[") ? "]" : "}";
        String where = rnd.nextBoolean() ? "\"x\":" : "\"__metadata__\":";
        return "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]," + where + open.repeat(depth) + "1"
                + close.repeat(rnd.nextInt(3) == 0 ? depth / 2 : depth) + "}}";
    }

    private static String duplicate(SplittableRandom rnd) {
        String e = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        return switch (rnd.nextInt(3)) {
            case 0 -> "{\"w\":" + e + ",\"w\":" + e + "}";
            case 1 -> "{\"w\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
            default -> "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}";
        };
    }

    private static byte[] prefix(byte[] b, SplittableRandom rnd) {
        byte[][] prefixes = {{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, {0}, {(byte) 0xFE, (byte) 0xFF}, {(byte) 0xC0, (byte) 0x80}, {' ', ' '}};
        byte[] p = prefixes[rnd.nextInt(prefixes.length)];
        byte[] out = new byte[p.length + b.length];
        System.arraycopy(p, 0, out, 0, p.length);
        System.arraycopy(b, 0, out, p.length, b.length);
        return out;
    }

    private static String randomTokens(SplittableRandom rnd) {
        StringBuilder s = new StringBuilder("{");
        int n = rnd.nextInt(40);
        for (int k = 0; k < n; k++) s.append(FRAGMENTS[rnd.nextInt(FRAGMENTS.length)]);
        return s.toString();
    }

    private static String preview(byte[] b) {
        String s = new String(b, 0, Math.min(b.length, 160), StandardCharsets.ISO_8859_1);
        return s + (b.length > 160 ? "… (" + b.length + " bytes)" : "");
    }
}

package dev.amalgam.cli;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses sizes like {@code 5GB}, {@code 500M}, {@code 2GiB} or plain bytes (HF uses decimal units). */
final class ByteSize {

    private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgt]?i?b?)?", Pattern.CASE_INSENSITIVE);

    private ByteSize() {
    }

    static long parse(String text) {
        Matcher m = SIZE.matcher(text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("--max-shard-size: '" + text + "' is not a size (e.g. 5GB, 500MB, 2GiB, 1000000)");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
        boolean binary = unit.contains("i");
        long base = binary ? 1024 : 1000;
        int power = unit.isEmpty() ? 0 : switch (unit.charAt(0)) {
            case 'k' -> 1;
            case 'm' -> 2;
            case 'g' -> 3;
            case 't' -> 4;
            default -> 0;
        };
        double bytes = value * Math.pow(base, power);
        if (bytes < 1 || bytes > Long.MAX_VALUE) throw new IllegalArgumentException("--max-shard-size: '" + text + "' is out of range");
        return (long) bytes;
    }
}

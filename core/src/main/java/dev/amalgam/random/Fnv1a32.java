package dev.amalgam.random;

import java.nio.charset.StandardCharsets;

/** FNV-1a, 32 bit, over the UTF-8 bytes of a tensor name: the h word of the Philox counter. */
public final class Fnv1a32 {

    private Fnv1a32() {
    }

    public static int hash(String s) {
        int h = 0x811C9DC5;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x01000193;
        }
        return h;
    }
}

package dev.amalgam.merge;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Ascending unsigned UTF-8 byte order of tensor names: the order of the model-wide
 * concatenation for {@code density_scope: model} (§1.6) and the order tensors are merged and
 * written in. (Java's String order is UTF-16 and differs for supplementary characters.)
 */
public final class TensorOrder {

    public static final Comparator<String> UTF8 =
            (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

    private TensorOrder() {
    }
}

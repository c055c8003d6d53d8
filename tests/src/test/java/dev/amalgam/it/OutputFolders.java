package dev.amalgam.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.amalgam.io.ModelFolder;
import dev.amalgam.tensor.TensorInfo;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Comparisons of whole output folders. */
final class OutputFolders {

    private OutputFolders() {
    }

    /** File name → bytes of every regular file in the folder (not recursive). */
    static Map<String, byte[]> files(Path folder) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) out.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return out;
    }

    static void assertByteIdentical(Path a, Path b) throws IOException {
        Map<String, byte[]> fa = files(a), fb = files(b);
        assertEquals(fa.keySet(), fb.keySet(), "files of " + a + " and " + b);
        for (String name : fa.keySet()) assertArrayEquals(fa.get(name), fb.get(name), name + " differs between " + a + " and " + b);
    }

    /** Tensor name → stored bytes, whatever the shard layout. */
    static Map<String, byte[]> tensorBytes(Path folder) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (ModelFolder f = ModelFolder.open(folder)) {
            for (TensorInfo t : f.tensors()) out.put(t.name(), f.tensor(t.name()).data().toArray(ValueLayout.JAVA_BYTE));
        }
        return out;
    }

    static boolean sameTensorBytes(Path a, Path b) throws IOException {
        Map<String, byte[]> ta = tensorBytes(a), tb = tensorBytes(b);
        if (!ta.keySet().equals(tb.keySet())) return false;
        for (String n : ta.keySet()) if (!java.util.Arrays.equals(ta.get(n), tb.get(n))) return false;
        return true;
    }

    static List<String> entries(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}

package dev.amalgam.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The Jacobi pair schedule: a valid parallel ordering, identical in Java and in svd_schedule.cuh. */
class RoundRobinTest {

    @Test
    void everyPairOnceAndEachStepDisjoint() {
        for (int n = 2; n <= 96; n += 2) {
            boolean[][] seen = new boolean[n][n];
            for (int s = 0; s < n - 1; s++) {
                boolean[] busy = new boolean[n];
                for (int k = 0; k < n / 2; k++) {
                    int[] p = RoundRobin.pair(n, s, k);
                    assertTrue(p[0] < p[1], "n=" + n + " s=" + s + " k=" + k);
                    assertTrue(!busy[p[0]] && !busy[p[1]], "player twice in step " + s + " of n=" + n);
                    busy[p[0]] = busy[p[1]] = true;
                    assertTrue(!seen[p[0]][p[1]], "pair " + p[0] + "," + p[1] + " twice for n=" + n);
                    seen[p[0]][p[1]] = true;
                }
            }
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) assertTrue(seen[i][j], "pair " + i + "," + j + " missing, n=" + n);
        }
    }

    @Test
    void handComputedSchedules() {
        // n = 4: steps {(0,3),(1,2)}, {(1,3),(0,2)}, {(2,3),(0,1)}.
        assertArrayEquals(new int[] {0, 3}, RoundRobin.pair(4, 0, 0));
        assertArrayEquals(new int[] {1, 2}, RoundRobin.pair(4, 0, 1));
        assertArrayEquals(new int[] {1, 3}, RoundRobin.pair(4, 1, 0));
        assertArrayEquals(new int[] {0, 2}, RoundRobin.pair(4, 1, 1));
        assertArrayEquals(new int[] {2, 3}, RoundRobin.pair(4, 2, 0));
        assertArrayEquals(new int[] {0, 1}, RoundRobin.pair(4, 2, 1));
        assertEquals(4, RoundRobin.players(3));
        assertEquals(4, RoundRobin.players(4));
        assertThrows(IllegalArgumentException.class, () -> RoundRobin.pair(5, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> RoundRobin.pair(4, 3, 0));
    }

    @Test
    void theDummyOfAnOddCountIsAlwaysSecond() {
        for (int q = 1; q <= 33; q += 2) {
            int n = RoundRobin.players(q);
            for (int s = 0; s < n - 1; s++) {
                for (int k = 0; k < n / 2; k++) assertTrue(RoundRobin.pair(n, s, k)[0] < q, "q=" + q);
            }
        }
    }

    @Test
    void cudaHeaderGivesTheSameSchedule() throws IOException, InterruptedException {
        String dir = System.getProperty("amalgam.kernelsDir", "../kernels-cuda");
        Path source = Path.of(dir, "test", "svd_schedule_dump.cpp");
        Path exe = Path.of("target", "svd-schedule", "svd_schedule_dump");
        Files.createDirectories(exe.getParent());
        Process cc;
        try {
            cc = new ProcessBuilder("c++", "-std=c++17", "-O1", "-Wall", "-Werror", "-o", exe.toString(), source.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no host C++ compiler (c++) to build svd_schedule_dump: " + e.getMessage());
            return;
        }
        String log = new String(cc.getInputStream().readAllBytes());
        assertEquals(0, cc.waitFor(), "c++ failed:\n" + log);
        Process run = new ProcessBuilder(exe.toAbsolutePath().toString(), "48").redirectErrorStream(true).start();
        List<String> lines = new String(run.getInputStream().readAllBytes()).lines().toList();
        assertEquals(0, run.waitFor());
        int expected = 0;
        for (int n = 2; n <= 48; n += 2) expected += (n - 1) * (n / 2);
        assertEquals(expected, lines.size());
        for (String line : lines) {
            String[] f = line.split(" ");
            int n = Integer.parseInt(f[0]), s = Integer.parseInt(f[1]), k = Integer.parseInt(f[2]);
            assertArrayEquals(new int[] {Integer.parseInt(f[3]), Integer.parseInt(f[4])}, RoundRobin.pair(n, s, k), line);
        }
    }
}

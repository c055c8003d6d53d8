package dev.amalgam.source.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.amalgam.checkpoint.Checkpoint;
import dev.amalgam.io.SafetensorsTestFiles;
import dev.amalgam.source.ModelResolver;
import dev.amalgam.source.ModelSources;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hub ids from the local cache and from a loopback Hub the test serves (no other network). */
class HubSourcesTest {

    @TempDir
    Path tmp;

    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
        for (String p : List.of("HF_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN", "HF_HUB_OFFLINE")) System.clearProperty(p);
    }

    private Path fixtureRepo() throws IOException {
        Map<String, float[]> v = new LinkedHashMap<>();
        v.put("a.weight", new float[]{1, 2, 3, 4, 5, 6});
        v.put("b.bias", new float[]{-1, 0.5f});
        Path repo = SafetensorsTestFiles.writeModel(tmp.resolve("repo"), v, Map.of("a.weight", new long[]{2, 3}), DType.F32);
        Files.writeString(repo.resolve("config.json"), "{\"model_type\":\"llama\",\"vocab_size\":2}");
        Files.writeString(repo.resolve("README.md"), "not needed");
        Files.writeString(repo.resolve("tokenizer_config.json"), "{}");
        return repo;
    }

    /** Fills a cache as huggingface_hub does: blobs by etag, snapshot links, refs/main. */
    private static Path cacheOf(Path cache, String repo, String commit, Path files) throws IOException {
        Path dir = cache.resolve("models--" + repo.replace("/", "--"));
        Files.createDirectories(dir.resolve("refs"));
        Files.writeString(dir.resolve("refs/main"), commit);
        Path snap = Files.createDirectories(dir.resolve("snapshots").resolve(commit));
        try (var s = Files.list(files)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                String etag = HubDownloader.sha256(f);
                Path blob = Files.createDirectories(dir.resolve("blobs")).resolve(etag);
                Files.copy(f, blob);
                Files.createSymbolicLink(snap.resolve(f.getFileName()), snap.relativize(blob));
            }
        }
        return snap;
    }

    @Test
    void aCachedHubIdResolvesOfflineToItsSnapshot() throws IOException {
        Path cache = tmp.resolve("hub");
        String commit = "0123456789abcdef0123456789abcdef01234567";
        Path snap = cacheOf(cache, "org/tiny", commit, fixtureRepo());
        System.setProperty("HF_HUB_CACHE", cache.toString());
        System.setProperty("HF_HUB_OFFLINE", "1");
        System.setProperty("HF_ENDPOINT", "http://127.0.0.1:9"); // never contacted
        ModelResolver.Resolved r = ModelResolver.resolve("org/tiny", tmp.resolve("cfg"));
        assertEquals(snap, r.model().local());
        assertEquals(snap, ModelResolver.resolve("org/tiny@" + commit, tmp.resolve("cfg")).model().local());
        try (Checkpoint c = ModelSources.open(r)) {
            assertArrayEquals(new float[]{1, 2, 3, 4, 5, 6}, SafetensorsTestFiles.readFloats(c.tensor("a.weight")));
        }
        IOException e = assertThrows(IOException.class, () -> ModelSources.open(ModelResolver.resolve("org/missing", tmp)));
        assertTrue(e.getMessage().contains("org/missing is not in the Hugging Face cache"), e.getMessage());
    }

    @Test
    void aDanglingLinkInASnapshotIsAOneLineError() throws IOException {
        Path cache = tmp.resolve("hub");
        String commit = "1111111111111111111111111111111111111111";
        Path snap = cacheOf(cache, "org/broken", commit, fixtureRepo());
        Files.delete(Files.readSymbolicLink(snap.resolve("model.safetensors")).isAbsolute()
                ? Files.readSymbolicLink(snap.resolve("model.safetensors"))
                : snap.resolve(Files.readSymbolicLink(snap.resolve("model.safetensors"))).normalize());
        System.setProperty("HF_HUB_CACHE", cache.toString());
        System.setProperty("HF_HUB_OFFLINE", "1");
        IOException e = assertThrows(IOException.class, () -> ModelSources.open(ModelResolver.resolve("org/broken", tmp)));
        assertTrue(e.getMessage().contains("dangling link"), e.getMessage());
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    /** A loopback Hub: the model-info API, HEAD with the LFS etag, ranged GET; records the requests. */
    private final List<String> requests = Collections.synchronizedList(new ArrayList<>());

    private String serve(Path repo, String commit, String token) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            try (ex) {
                String path = ex.getRequestURI().getPath();
                requests.add(ex.getRequestMethod() + " " + path + (ex.getRequestHeaders().containsKey("Range")
                        ? " " + ex.getRequestHeaders().getFirst("Range") : ""));
                if (token != null && !("Bearer " + token).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                    reply(ex, 401, new byte[0]);
                    return;
                }
                if (path.equals("/api/models/org/tiny/revision/main")) {
                    StringBuilder sib = new StringBuilder();
                    try (var s = Files.list(repo)) {
                        for (Path f : (Iterable<Path>) s::iterator) {
                            sib.append(sib.isEmpty() ? "" : ",").append("{\"rfilename\":\"").append(f.getFileName()).append("\"}");
                        }
                    }
                    reply(ex, 200, ("{\"id\":\"org/tiny\",\"sha\":\"" + commit + "\",\"siblings\":[" + sib + "]}").getBytes());
                    return;
                }
                String prefix = "/org/tiny/resolve/" + commit + "/";
                if (!path.startsWith(prefix)) {
                    reply(ex, 404, new byte[0]);
                    return;
                }
                Path f = repo.resolve(path.substring(prefix.length()));
                byte[] body = Files.readAllBytes(f);
                boolean lfs = f.getFileName().toString().endsWith(".safetensors");
                ex.getResponseHeaders().add(lfs ? "X-Linked-Etag" : "ETag", "\"" + (lfs ? HubDownloader.sha256(f) : "git" + body.length) + "\"");
                if (lfs) ex.getResponseHeaders().add("X-Linked-Size", String.valueOf(body.length));
                if (ex.getRequestMethod().equals("HEAD")) {
                    ex.getResponseHeaders().add("Content-Length", String.valueOf(body.length));
                    ex.sendResponseHeaders(200, -1);
                    return;
                }
                String range = ex.getRequestHeaders().getFirst("Range");
                int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-", "$1"));
                byte[] part = java.util.Arrays.copyOfRange(body, from, body.length);
                reply(ex, range == null ? 200 : 206, part);
            }
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static void reply(HttpExchange ex, int code, byte[] body) throws IOException {
        ex.sendResponseHeaders(code, body.length == 0 ? -1 : body.length);
        if (body.length > 0) try (OutputStream o = ex.getResponseBody()) {
            o.write(body);
        }
    }

    @Test
    void aMissingHubIdIsDownloadedIntoTheCacheLayoutAndResumed() throws IOException {
        Path repo = fixtureRepo();
        String commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
        Path cache = tmp.resolve("hub");
        System.setProperty("HF_HUB_CACHE", cache.toString());
        System.setProperty("HF_ENDPOINT", serve(repo, commit, "secret"));
        System.setProperty("HF_TOKEN", "secret");
        // An interrupted earlier download left the first 40 bytes: the download resumes with a Range request.
        String sha = HubDownloader.sha256(repo.resolve("model.safetensors"));
        Path blobs = Files.createDirectories(cache.resolve("models--org--tiny/blobs"));
        Files.write(blobs.resolve(sha + ".incomplete"), java.util.Arrays.copyOf(Files.readAllBytes(repo.resolve("model.safetensors")), 40));
        HubDownloader d = new HubDownloader(HubSettings.current(), null);
        Path snap = d.snapshot(new HubId("org/tiny", "main"));
        assertTrue(requests.stream().anyMatch(r -> r.endsWith("model.safetensors bytes=40-")), requests.toString());
        Path dir = cache.resolve("models--org--tiny");
        assertEquals(commit, Files.readString(dir.resolve("refs/main")));
        assertEquals(dir.resolve("snapshots").resolve(commit), snap);
        assertTrue(Files.isSymbolicLink(snap.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("blobs").resolve(HubDownloader.sha256(repo.resolve("model.safetensors")))));
        assertFalse(Files.exists(snap.resolve("README.md")), "only what a merge needs");
        assertTrue(Files.exists(snap.resolve("config.json")));
        // Now it resolves from the cache offline, and a config naming it merges.
        System.setProperty("HF_HUB_OFFLINE", "1");
        int before = requests.size();
        try (Checkpoint c = ModelSources.open(ModelResolver.resolve("org/tiny", tmp))) {
            assertArrayEquals(new float[]{-1, 0.5f}, SafetensorsTestFiles.readFloats(c.tensor("b.bias")));
        }
        assertEquals(before, requests.size());
    }

    @Test
    void aCorruptDownloadFailsItsChecksumAndAWrongTokenIsNamed() throws IOException {
        Path repo = fixtureRepo();
        String commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";
        System.setProperty("HF_HUB_CACHE", tmp.resolve("hub").toString());
        String endpoint = serve(repo, commit, "secret");
        System.setProperty("HF_ENDPOINT", endpoint);
        System.setProperty("HF_TOKEN", "wrong");
        IOException e = assertThrows(IOException.class, () -> new HubDownloader(HubSettings.current(), null)
                .snapshot(new HubId("org/tiny", "main")));
        assertTrue(e.getMessage().contains("HTTP 401") && e.getMessage().contains("HF_TOKEN"), e.getMessage());
        // A partial file whose bytes differ from the Hub's: resumed, then refused by the sha256 check.
        System.setProperty("HF_TOKEN", "secret");
        String sha = HubDownloader.sha256(repo.resolve("model.safetensors"));
        Path blobs = Files.createDirectories(tmp.resolve("hub/models--org--tiny/blobs"));
        byte[] wrong = Files.readAllBytes(repo.resolve("model.safetensors"));
        wrong[0] ^= 1;
        Files.write(blobs.resolve(sha + ".incomplete"), java.util.Arrays.copyOf(wrong, 30));
        e = assertThrows(IOException.class, () -> new HubDownloader(HubSettings.current(), null).snapshot(new HubId("org/tiny", "main")));
        assertTrue(e.getMessage().contains("sha256"), e.getMessage());
        assertFalse(Files.exists(blobs.resolve(sha + ".incomplete")));
    }

    @Test
    void idsAndSettingsParse() {
        assertEquals(new HubId("mistralai/Mistral-7B-v0.1", "main"), HubId.parse("mistralai/Mistral-7B-v0.1").orElseThrow());
        assertEquals(new HubId("org/name", "v1.0"), HubId.parse("org/name@v1.0").orElseThrow());
        assertTrue(HubId.parse("a/b/c").isEmpty());
        assertTrue(HubId.parse("./x").isEmpty());
        assertTrue(HubId.parse("../x").isEmpty());
        HubSettings s = HubSettings.of(Map.of("HF_HOME", "/h", "HF_HUB_OFFLINE", "1"));
        assertEquals(Path.of("/h/hub"), s.cacheRoot());
        assertTrue(s.offline());
        assertEquals("https://huggingface.co", s.endpoint());
        assertEquals(Path.of("/c"), HubSettings.of(Map.of("HF_HOME", "/h", "HF_HUB_CACHE", "/c")).cacheRoot());
        assertEquals(List.of("config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json"),
                HubDownloader.select(List.of("config.json", "model-00001-of-00002.safetensors", "model.safetensors.index.json",
                        "pytorch_model.bin", "README.md", "onnx/model.onnx")));
        assertEquals(List.of("pytorch_model.bin"), HubDownloader.select(List.of("pytorch_model.bin", "flax_model.msgpack")));
    }
}

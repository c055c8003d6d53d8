package dev.amalgam.source.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.io.AmalgamIOException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Downloads the files a merge needs from a repository on the Hugging Face Hub into the
 * {@link HubCache} layout, so {@code huggingface_hub} and other tools reuse them: asks
 * {@code /api/models/<repo>/revision/<rev>} for the commit and file list, keeps the weights
 * (safetensors shards and their index; PyTorch {@code .bin} only when there are no
 * safetensors), {@code config.json}, tokenizer and adapter files, and fetches each from
 * {@code /<repo>/resolve/<commit>/<file>} into {@code blobs/<etag>} (resumed from a
 * {@code .incomplete} file with a {@code Range} request; LFS files verified against the sha256
 * their ETag is), linked from {@code snapshots/<commit>/<file>}; {@code refs/<revision>} records
 * the commit.
 *
 * <p>Thread-safety: not thread-safe; one download at a time per instance.
 */
public final class HubDownloader {

    /** Non-weight files a merge reads or copies to its output. */
    static final Set<String> SMALL_FILES = Set.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "vocab.txt",
            "added_tokens.json", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model", "chat_template.jinja",
            "chat_template.json", "adapter_config.json");

    private final HubSettings settings;
    private final HubCache cache;
    private final PrintStream progress;
    private final HttpClient http;
    private final HttpClient headHttp;

    /**
     * @param settings endpoint, token, offline flag and cache root
     * @param progress where the progress bar goes (null: none)
     */
    public HubDownloader(HubSettings settings, PrintStream progress) {
        this.settings = settings;
        this.cache = new HubCache(settings.cacheRoot());
        this.progress = progress;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(30)).build();
        // The Hub answers a resolve HEAD with a redirect to its CDN that carries the LFS ETag: do not follow it.
        this.headHttp = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(Duration.ofSeconds(30)).build();
    }

    /**
     * The snapshot folder of {@code id}: from the cache, else downloaded.
     *
     * @param id repository and revision
     * @return the snapshot folder
     * @throws IOException one line naming the repository: offline and not cached, an HTTP error, a
     *                     checksum mismatch
     */
    public Path snapshot(HubId id) throws IOException {
        var cached = cache.snapshot(id);
        if (cached.isPresent()) return cached.get();
        if (settings.offline()) {
            throw new AmalgamIOException(cache.repoFolder(id), "hub model " + id + " is not in the Hugging Face cache and"
                    + " downloads are off (HF_HUB_OFFLINE / --offline)");
        }
        return download(id);
    }

    private Path download(HubId id) throws IOException {
        JsonNode info = json(settings.endpoint() + "/api/models/" + id.repo() + "/revision/" + enc(id.revision()), id);
        String commit = info.path("sha").asText("");
        if (!commit.matches("[0-9a-f]{40}")) throw new AmalgamIOException(cache.repoFolder(id), "hub model " + id + ": no commit sha in the API answer");
        List<String> files = new ArrayList<>();
        for (JsonNode s : info.path("siblings")) files.add(s.path("rfilename").asText(""));
        List<String> wanted = select(files);
        if (wanted.stream().noneMatch(f -> f.endsWith(".safetensors") || f.endsWith(".bin"))) {
            throw new AmalgamIOException(cache.repoFolder(id), "hub model " + id + " has no *.safetensors or pytorch_model*.bin weights");
        }
        Path repo = cache.repoFolder(id);
        Path snap = repo.resolve("snapshots").resolve(commit);
        for (String f : wanted) fetch(id, commit, f, repo, snap);
        if (!id.revision().equals(commit)) {
            Path ref = repo.resolve("refs").resolve(id.revision());
            Files.createDirectories(ref.getParent());
            Path tmp = Files.createTempFile(ref.getParent(), ".ref", ".tmp");
            Files.writeString(tmp, commit);
            Files.move(tmp, ref, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        return snap;
    }

    /** The files of a merge input among a repository's files. */
    static List<String> select(List<String> files) {
        boolean safetensors = files.stream().anyMatch(f -> !f.contains("/") && f.endsWith(".safetensors"));
        List<String> out = new ArrayList<>();
        for (String f : files) {
            if (f.contains("/")) continue; // subfolders (onnx/, original/, …) are not merge inputs
            boolean keep = SMALL_FILES.contains(f)
                    || (safetensors ? f.endsWith(".safetensors") || f.endsWith(".safetensors.index.json")
                    : f.startsWith("pytorch_model") && (f.endsWith(".bin") || f.endsWith(".bin.index.json")));
            if (keep) out.add(f);
        }
        return out;
    }

    private void fetch(HubId id, String commit, String file, Path repo, Path snap) throws IOException {
        Path link = snap.resolve(file);
        if (Files.exists(link)) return;
        String url = settings.endpoint() + "/" + id.repo() + "/resolve/" + commit + "/" + enc(file);
        HttpResponse<Void> head = send(headHttp, request(url).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.discarding(), id, file);
        String etag = etag(head.headers());
        if (etag == null || !etag.matches("[0-9A-Za-z_.-]+")) {
            throw new AmalgamIOException(repo, "hub model " + id + ": " + file + " has no usable ETag");
        }
        long size = head.headers().firstValueAsLong("x-linked-size")
                .orElse(head.headers().firstValueAsLong("content-length").orElse(-1));
        Path blob = repo.resolve("blobs").resolve(etag);
        Files.createDirectories(blob.getParent());
        if (!Files.isRegularFile(blob)) {
            Path partial = blob.resolveSibling(etag + ".incomplete");
            long have = Files.isRegularFile(partial) ? Files.size(partial) : 0;
            HttpRequest.Builder get = request(url).GET();
            if (have > 0) get.header("Range", "bytes=" + have + "-");
            HttpResponse<InputStream> r = send(get.build(), HttpResponse.BodyHandlers.ofInputStream(), id, file);
            boolean append = have > 0 && r.statusCode() == 206;
            if (!append) have = 0;
            try (InputStream in = r.body();
                 OutputStream out = Files.newOutputStream(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                         append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING)) {
                byte[] buf = new byte[1 << 16];
                long done = have;
                long lastShown = 0;
                for (int n; (n = in.read(buf)) > 0; ) {
                    out.write(buf, 0, n);
                    done += n;
                    long now = System.nanoTime();
                    if (now - lastShown > 200_000_000L) {
                        bar(id, file, done, size);
                        lastShown = now;
                    }
                }
                bar(id, file, done, size);
                if (progress != null) progress.println();
            }
            if (size >= 0 && Files.size(partial) != size) {
                throw new AmalgamIOException(partial, "hub model " + id + ": " + file + " is " + Files.size(partial)
                        + " bytes, the Hub says " + size + "; run again to resume");
            }
            if (etag.matches("[0-9a-f]{64}")) { // an LFS file: its ETag is the sha256 of the content
                String sha = sha256(partial);
                if (!sha.equals(etag)) {
                    Files.delete(partial);
                    throw new AmalgamIOException(blob, "hub model " + id + ": " + file + " has sha256 " + sha
                            + ", not the " + etag + " the Hub lists; the partial download was deleted");
                }
            }
            Files.move(partial, blob, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.createDirectories(link.getParent());
        Path target = link.getParent().relativize(blob);
        try {
            Files.createSymbolicLink(link, target);
        } catch (UnsupportedOperationException | IOException e) {
            if (Files.exists(link)) return;
            Files.copy(blob, link); // no symbolic links here (as huggingface_hub on such file systems)
        }
    }

    private void bar(HubId id, String file, long done, long size) {
        if (progress == null) return;
        int width = 30;
        String line;
        if (size > 0) {
            int filled = (int) Math.min(width, done * width / size);
            line = String.format(Locale.ROOT, "\r%s %s [%s%s] %5.1f%% %.1f/%.1f MB", id, file, "#".repeat(filled),
                    " ".repeat(width - filled), 100.0 * done / size, done / 1e6, size / 1e6);
        } else {
            line = String.format(Locale.ROOT, "\r%s %s %.1f MB", id, file, done / 1e6);
        }
        progress.print(line);
        progress.flush();
    }

    static String etag(HttpHeaders h) {
        String e = h.firstValue("x-linked-etag").orElse(h.firstValue("etag").orElse(null));
        if (e == null) return null;
        if (e.startsWith("W/")) e = e.substring(2);
        return e.replace("\"", "");
    }

    private HttpRequest.Builder request(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
                .header("User-Agent", "amalgam");
        settings.token().ifPresent(t -> b.header("Authorization", "Bearer " + t));
        return b;
    }

    private JsonNode json(String url, HubId id) throws IOException {
        HttpResponse<byte[]> r = send(request(url).GET().build(), HttpResponse.BodyHandlers.ofByteArray(), id, "model info");
        try {
            return new ObjectMapper().readTree(r.body());
        } catch (IOException e) {
            throw new AmalgamIOException(cache.repoFolder(id), "hub model " + id + ": the API answer is not JSON");
        }
    }

    private <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler, HubId id, String what)
            throws IOException {
        return send(http, req, handler, id, what);
    }

    private <T> HttpResponse<T> send(HttpClient client, HttpRequest req, HttpResponse.BodyHandler<T> handler, HubId id,
                                     String what) throws IOException {
        HttpResponse<T> r;
        try {
            r = client.send(req, handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AmalgamIOException(cache.repoFolder(id), "hub model " + id + ": download interrupted");
        } catch (IOException e) {
            throw new AmalgamIOException(cache.repoFolder(id), "hub model " + id + ": cannot reach " + settings.endpoint()
                    + " for " + what + " (" + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        int s = r.statusCode();
        if (s == 200 || s == 206) return r;
        if (client == headHttp && s >= 300 && s < 400 && etag(r.headers()) != null) return r;
        if (r.body() instanceof InputStream in) in.close();
        String why = switch (s) {
            case 401, 403 -> " (a gated or private repository: set HF_TOKEN)";
            case 404 -> " (no such repository, revision or file)";
            default -> "";
        };
        throw new AmalgamIOException(cache.repoFolder(id), "hub model " + id + ": HTTP " + s + " for " + what + why);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%2F", "/");
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) d.update(buf, 0, n);
            return HexFormat.of().formatHex(d.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}

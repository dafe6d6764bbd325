package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Versions, hot reload, labels, rollback and the admin API on a standalone server. Every model
 * version {@code n} computes {@code 0.5 x + n}, so an answer at {@code x = 0} names the version
 * that computed it, independently of the {@code X-Model-Version} header.
 */
class LifecycleHttpTest {
  @TempDir static Path tmp;
  static Path repo;
  static Path staging;
  static InProcessServer server;
  static final ObjectMapper JSON = new ObjectMapper();
  /** Swaps under load; {@code -Dshardserve.test.swaps=20} for the measurement in the README. */
  static final int SWAPS = Integer.getInteger("shardserve.test.swaps", 3);

  @BeforeAll
  static void start() throws Exception {
    repo = Files.createDirectories(tmp.resolve("repo"));
    staging = Files.createDirectories(tmp.resolve("staging"));
    write("swap", 1);
    write("fragile", 1);
    write("labeled", 1);
    write("labeled", 2);
    server = new InProcessServer(repo, Map.of("shardserve.data-dir", tmp.resolve("data").toString()));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** Writes version {@code n} of {@code model} elsewhere, then renames it in (copy-then-rename). */
  static void write(String model, long n) throws Exception {
    Path dir = staging.resolve(model + "-" + n + "-" + System.nanoTime());
    HalfPlusTwoModel.write(dir, 0.5f, (float) n);
    Files.createDirectories(repo.resolve(model));
    Files.move(dir, repo.resolve(model).resolve(Long.toString(n)));
  }

  record Answer(int status, long headerVersion, double value, String body) {}

  static Answer predict(String path) throws Exception {
    HttpResponse<String> r = server.post(path + ":predict", "{\"instances\": [0.0]}");
    if (r.statusCode() != 200) {
      return new Answer(r.statusCode(), -1, Double.NaN, r.body());
    }
    return new Answer(200, Long.parseLong(r.headers().firstValue("X-Model-Version").orElse("-1")),
        JSON.readTree(r.body()).get("predictions").get(0).asDouble(), r.body());
  }

  static Map<Long, String> states(String model) throws Exception {
    HttpResponse<String> r = server.get("/v1/models/" + model);
    Map<Long, String> out = new ConcurrentHashMap<>();
    if (r.statusCode() == 200) {
      for (JsonNode v : JSON.readTree(r.body()).get("model_version_status")) {
        out.put(v.get("version").asLong(), v.get("state").asText());
      }
    }
    return out;
  }

  static long rssKb() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  @Test
  void versionSwapsUnderLoad_failNoRequest_andTheOldVersionIsClosed() throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(() -> predict("/v1/models/swap").headerVersion() == 1);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger sent = new AtomicInteger();
    List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    ExecutorService clients = Executors.newFixedThreadPool(4);
    List<Future<?>> running = new ArrayList<>();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    for (int c = 0; c < 4; c++) {
      running.add(clients.submit(() -> {
        while (!stop.get() && sent.get() < 200_000 && System.nanoTime() < deadline) {
          sent.incrementAndGet();
          try {
            Answer a = predict("/v1/models/swap");
            if (a.status() != 200 || a.value() != a.headerVersion()) {
              failures.add(a.status() + " " + a.body() + " header " + a.headerVersion());
            }
          } catch (Exception e) {
            failures.add(e.toString());
          }
        }
        return null;
      }));
    }
    long rssBefore = rssKb();
    long heapBefore = Runtime.getRuntime().totalMemory() >> 20;
    List<Long> swapMillis = new ArrayList<>();
    try {
      for (long n = 2; n <= SWAPS + 1; n++) {
        long version = n;
        long t0 = System.nanoTime();
        write("swap", version);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
            .until(() -> predict("/v1/models/swap").headerVersion() == version);
        swapMillis.add((System.nanoTime() - t0) / 1_000_000);
        // The old version is retired and closed (END is set only once its session is released).
        await().atMost(Duration.ofSeconds(60)).until(() -> "END".equals(states("swap").get(version - 1)));
        for (int i = 0; i < 20; i++) {
          assertEquals(version, predict("/v1/models/swap").headerVersion(), "after the switch only the new version");
        }
        // Delete the old folder: the replica forgets it.
        deleteTree(repo.resolve("swap").resolve(Long.toString(version - 1)));
        await().atMost(Duration.ofSeconds(60)).until(() -> !states("swap").containsKey(version - 1));
      }
    } finally {
      stop.set(true);
      for (Future<?> f : running) {
        f.get(60, TimeUnit.SECONDS);
      }
      clients.shutdown();
    }
    long rssAfter = rssKb();
    long heapAfter = Runtime.getRuntime().totalMemory() >> 20;
    System.out.printf("lifecycle: %d swaps under load, %d requests, %d failed; folder-to-first-answer ms %s; "
        + "RSS before %d MiB (heap committed %d MiB), after %d MiB (heap committed %d MiB)%n", SWAPS, sent.get(),
        failures.size(), swapMillis, rssBefore / 1024, heapBefore, rssAfter / 1024, heapAfter);
    assertEquals(List.of(), failures.subList(0, Math.min(10, failures.size())));
    assertTrue(sent.get() > SWAPS * 10, "the load ran: " + sent.get());
  }

  @Test
  void corruptVersion_isReportedWithItsError_oldKeepsServing_andAFixedFolderLoads() throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(() -> predict("/v1/models/fragile").headerVersion() == 1);
    Path bad = Files.createDirectories(staging.resolve("fragile-bad"));
    Files.write(bad.resolve("saved_model.pb"), new byte[] {7, 7, 7});
    Files.move(bad, repo.resolve("fragile/2"));
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      HttpResponse<String> r = server.get("/v1/models/fragile/versions/2");
      return r.statusCode() == 200 && r.body().contains("\"END\"") && !r.body().contains("\"OK\"");
    });
    String status = server.get("/v1/models/fragile").body();
    assertTrue(status.contains("\"version\":\"2\"") && status.contains("\"version\":\"1\""), status);
    assertEquals(1, predict("/v1/models/fragile").headerVersion(), "the old version keeps serving");
    // Fix the folder (copy-then-rename over it): loaded at once, without waiting for the retry backoff.
    deleteTree(repo.resolve("fragile/2"));
    write("fragile", 2);
    await().atMost(Duration.ofSeconds(60)).until(() -> predict("/v1/models/fragile").headerVersion() == 2);
    assertEquals("AVAILABLE", states("fragile").get(2L));
  }

  @Test
  void labelsRollbackAndAdminApi() throws Exception {
    // policy all: both versions load
    HttpResponse<String> r = server.admin("PUT", "/admin/models/labeled", "{\"version_policy\": \"all\"}");
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(60)).until(() -> "AVAILABLE".equals(states("labeled").get(1L))
        && "AVAILABLE".equals(states("labeled").get(2L)));
    assertEquals(2, predict("/v1/models/labeled").headerVersion());
    assertEquals(1, predict("/v1/models/labeled/versions/1").headerVersion());

    // labels
    assertError(predict("/v1/models/labeled/labels/stable"), 400, "Unrecognized servable version label: stable");
    r = server.admin("PUT", "/admin/models/labeled/labels/stable", "{\"version\": 1}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(JSON.readTree(r.body()).get("labels").get("stable").asLong() == 1, r.body());
    await().atMost(Duration.ofSeconds(2)).until(() -> predict("/v1/models/labeled/labels/stable").headerVersion() == 1);
    assertEquals("AVAILABLE", JSON.readTree(server.get("/v1/models/labeled/labels/stable").body())
        .get("model_version_status").get(0).get("state").asText());
    r = server.admin("PUT", "/admin/models/labeled/labels/canary", "{\"version\": 3}");
    assertAdminError(r, 400, "canary", "AVAILABLE");
    // move the label (rollback of a label)
    r = server.admin("POST", "/admin/models/labeled/rollback", "{\"label\": \"stable\", \"version\": 2}");
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(2)).until(() -> predict("/v1/models/labeled/labels/stable").headerVersion() == 2);

    // pin a version
    r = server.admin("POST", "/admin/models/labeled/rollback", "{\"version\": 1}");
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(2)).until(() -> predict("/v1/models/labeled").headerVersion() == 1);
    assertAdminError(server.admin("POST", "/admin/models/labeled/rollback", "{\"version\": 99}"), 404, "99");

    // listing
    r = server.admin("GET", "/admin/models", null);
    assertEquals(200, r.statusCode(), r.body());
    JsonNode labeled = null;
    for (JsonNode m : JSON.readTree(r.body()).get("models")) {
      if (m.get("name").asText().equals("labeled")) {
        labeled = m;
      }
    }
    assertTrue(labeled != null && labeled.get("version_policy").get("specific").get(0).asLong() == 1, r.body());
    assertTrue(labeled.get("replica_status").get(0).get("versions").size() >= 1, r.body());

    // bad input
    assertAdminError(server.admin("PUT", "/admin/models/labeled", "{\"version_policy\": \"newest\"}"), 400,
        "version_policy", "newest");
    assertAdminError(server.admin("PUT", "/admin/models/labeled", "{\"replicas\": 0}"), 400, "replicas", "0");
    assertAdminError(server.admin("PUT", "/admin/models/labeled", "{\"replicas\": 1000}"), 400, "replicas", "1000");
    assertAdminError(server.admin("PUT", "/admin/models/labeled", "{\"labels\": {\"bad-label\": 1}}"), 400,
        "bad-label");
    assertAdminError(server.admin("PUT", "/admin/models/labeled", "{\"colour\": 1}"), 400, "colour");
    assertAdminError(server.admin("PUT", "/admin/models/labeled", "[1]"), 400, "JSON object");
    assertAdminError(server.admin("PUT", "/admin/models/labeled", "{\"version_policy\": "), 400, "JSON");
    assertAdminError(server.admin("GET", "/admin/models/nosuch", null), 404, "nosuch");
    assertAdminError(server.admin("POST", "/admin/models/nosuch/unload", null), 404, "nosuch");
    assertAdminError(server.admin("POST", "/admin/reload-config", null), 400, "model config file");
    assertAdminError(server.admin("GET", "/admin/models/labeled/rollback", null), 405, "POST");
    // the admin API is not on the inference listener
    assertEquals(404, server.get("/admin/models").statusCode());

    // unload and load again
    r = server.admin("POST", "/admin/models/labeled/unload", null);
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(10)).until(() -> predict("/v1/models/labeled").status() == 404);
    r = server.admin("POST", "/admin/models/labeled/load", "{\"version_policy\": {\"latest\": 1}}");
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(60)).until(() -> predict("/v1/models/labeled").headerVersion() == 2);
  }

  @Test
  void desiredState_survivesARestartOfTheProcessThatWroteIt() throws Exception {
    Path repo2 = Files.createDirectories(tmp.resolve("repo2"));
    HalfPlusTwoModel.write(repo2.resolve("m/5"));
    Path data = tmp.resolve("data2");
    try (InProcessServer first = new InProcessServer(repo2, Map.of("shardserve.data-dir", data.toString()))) {
      HttpResponse<String> r = first.admin("PUT", "/admin/models/m", "{\"replicas\": 1, \"labels\": {}}");
      assertEquals(200, r.statusCode(), r.body());
      await().atMost(Duration.ofSeconds(60)).until(() -> first.get("/v1/models/m").body().contains("AVAILABLE"));
      r = first.admin("PUT", "/admin/models/m/labels/stable", "{\"version\": 5}");
      assertEquals(200, r.statusCode(), r.body());
    }
    try (InProcessServer second = new InProcessServer(repo2, Map.of("shardserve.data-dir", data.toString()))) {
      HttpResponse<String> r = second.admin("GET", "/admin/models/m", null);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(5, JSON.readTree(r.body()).get("labels").get("stable").asLong(), r.body());
      await().atMost(Duration.ofSeconds(60)).until(() -> second.post("/v1/models/m/labels/stable:predict",
          "{\"instances\": [1.0]}").statusCode() == 200);
    }
  }

  @Test
  void configFile_seedsTheFirstStartOnly_andReloadConfigReplacesTheDesiredState() throws Exception {
    Path repo3 = Files.createDirectories(tmp.resolve("repo3"));
    HalfPlusTwoModel.write(repo3.resolve("a/1"));
    HalfPlusTwoModel.write(repo3.resolve("b/1"));
    HalfPlusTwoModel.write(repo3.resolve("stray/1"));
    Path config = tmp.resolve("models3.conf");
    Files.writeString(config, "models { a { labels { } }, b { } }");
    Map<String, Object> settings = Map.of("shardserve.data-dir", tmp.resolve("data3").toString(),
        "shardserve.model-config", config.toString());
    try (InProcessServer s = new InProcessServer(repo3, settings)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> s.post("/v1/models/b:predict", "{\"instances\": [1.0]}")
          .statusCode() == 200);
      assertEquals(404, s.post("/v1/models/stray:predict", "{\"instances\": [1.0]}").statusCode(),
          "a config file names the models: other folders are not served");
      await().atMost(Duration.ofSeconds(60)).until(() -> s.post("/v1/models/a:predict", "{\"instances\": [1.0]}")
          .statusCode() == 200);
      HttpResponse<String> labelled = s.admin("PUT", "/admin/models/a/labels/stable", "{\"version\": 1}");
      assertEquals(200, labelled.statusCode(), labelled.body());
    }
    // Restart with a changed file: the stored desired state (with the admin's label) wins.
    Files.writeString(config, "models { a { } }");
    try (InProcessServer s = new InProcessServer(repo3, settings)) {
      HttpResponse<String> r = s.admin("GET", "/admin/models/a", null);
      assertEquals(1, JSON.readTree(r.body()).get("labels").get("stable").asLong(), r.body());
      await().atMost(Duration.ofSeconds(60)).until(() -> s.post("/v1/models/b:predict", "{\"instances\": [1.0]}")
          .statusCode() == 200);
      // reload-config: the file's state replaces it; b is unloaded, a's label is gone.
      r = s.admin("POST", "/admin/reload-config", null);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("[\"b\"]", JSON.readTree(r.body()).get("unloaded").toString(), r.body());
      await().atMost(Duration.ofSeconds(10)).until(() -> s.post("/v1/models/b:predict", "{\"instances\": [1.0]}")
          .statusCode() == 404);
      assertEquals(0, JSON.readTree(s.admin("GET", "/admin/models/a", null).body()).get("labels").size());
      // a bad file is refused with its error and changes nothing
      Files.writeString(config, "models { a { replicas = -1 } }");
      r = s.admin("POST", "/admin/reload-config", null);
      assertEquals(400, r.statusCode(), r.body());
      assertTrue(r.body().contains("replicas"), r.body());
      assertEquals(200, s.post("/v1/models/a:predict", "{\"instances\": [1.0]}").statusCode());
    }
  }

  private static void assertError(Answer a, int status, String fragment) {
    assertEquals(status, a.status(), a.body());
    assertTrue(a.body().contains(fragment), a.body());
  }

  private static void assertAdminError(HttpResponse<String> r, int status, String... fragments) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    String error = JSON.readTree(r.body()).get("error").asText();
    for (String f : fragments) {
      assertTrue(error.contains(f), "'" + error + "' should contain '" + f + "'");
    }
  }

  private static void deleteTree(Path dir) throws Exception {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request path's metrics on a real standalone server, read from its /metrics listener: each
 * family appears with its labels after the event that records it (an answer, a refusal, a load
 * failure, a version swap), counters never go back, a model name that does not exist adds no
 * series, and a scrape taken under concurrent load is well-formed for promtool.
 */
class RequestMetricsHttpTest {
  @TempDir static Path repo;
  static InProcessServer server;

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("hpt/1"));
    Files.createDirectories(repo.resolve("broken/1"));
    Files.write(repo.resolve("broken/1/saved_model.pb"), new byte[] {1, 2, 3});
    server = new InProcessServer(repo, Map.of("shardserve.metrics.port", 0, "shardserve.metrics.host", "127.0.0.1"));
    await().atMost(Duration.ofSeconds(60)).until(() -> predict("hpt", "[1.0]").statusCode() == 200);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  static HttpResponse<String> predict(String model, String instances) throws Exception {
    return server.post("/v1/models/" + model + ":predict", "{\"instances\": " + instances + "}");
  }

  static String scrape() throws Exception {
    HttpResponse<String> r = server.metrics("/metrics");
    assertEquals(200, r.statusCode());
    return r.body();
  }

  /** The value of the series whose line starts with {@code seriesPrefix}, or empty. */
  static Optional<Double> value(String scrape, String family, String... labels) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(family) + "\\{([^}]*)}\\s+(\\S+)$").matcher(scrape);
    while (m.find()) {
      boolean all = true;
      for (String l : labels) {
        all &= m.group(1).contains(l);
      }
      if (all) {
        return Optional.of(Double.parseDouble(m.group(2)));
      }
    }
    return Optional.empty();
  }

  @Test
  void anAnswer_isCountedAndTimed_withModelVersionProtocolApiAndCode() throws Exception {
    double before = value(scrape(), "shardserve_requests_total", "model=\"hpt\"", "version=\"1\"",
        "protocol=\"rest_v1\"", "api=\"predict\"", "code=\"200\"").orElse(0.0);
    HttpResponse<String> r = predict("hpt", "[1.0, 2.0]");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("X-Request-Id").isPresent(), "the request id is echoed");
    String s = scrape();
    assertEquals(before + 1, value(s, "shardserve_requests_total", "model=\"hpt\"", "version=\"1\"",
        "api=\"predict\"", "code=\"200\"").orElseThrow());
    assertTrue(value(s, "shardserve_request_duration_seconds_count", "model=\"hpt\"", "protocol=\"rest_v1\"")
        .orElseThrow() >= 1);
    assertTrue(value(s, "shardserve_batch_size_count", "model=\"hpt\"").orElseThrow() >= 1);
    assertTrue(value(s, "shardserve_queue_duration_seconds_count", "model=\"hpt\"").orElseThrow() >= 1);
    assertTrue(value(s, "shardserve_compute_duration_seconds_count", "model=\"hpt\"").orElseThrow() >= 1);
    for (String reason : List.of("queue_full", "admission", "bytes", "channel_full", "deadline", "too_large",
        "unavailable")) {
      assertTrue(value(s, "shardserve_refused_total", "model=\"hpt\"", "reason=\"" + reason + "\"").isPresent(),
          "every refusal reason starts at 0: " + reason);
    }
  }

  @Test
  void aModelThatDoesNotExist_isCountedAsModelEmpty_withoutASeriesOfItsOwn() throws Exception {
    assertEquals(404, predict("no_such_model_xyz", "[1.0]").statusCode());
    String s = scrape();
    assertFalse(s.contains("no_such_model_xyz"), "no series names an unknown model");
    assertTrue(value(s, "shardserve_requests_total", "model=\"\"", "code=\"404\"").orElseThrow() >= 1);
  }

  @Test
  void aDeadlineThatPassesInTheQueue_isARefusalForDeadline() throws Exception {
    double before = value(scrape(), "shardserve_refused_total", "model=\"hpt\"", "reason=\"deadline\"").orElse(0.0);
    HttpResponse<String> r = server.client.send(HttpRequest.newBuilder(server.uri("/v1/models/hpt:predict"))
        .header("X-Request-Timeout-Ms", "1").POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [1.0]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 504) {
      assertTrue(value(scrape(), "shardserve_refused_total", "model=\"hpt\"", "reason=\"deadline\"").orElseThrow()
          > before);
    } else {
      assertEquals(200, r.statusCode(), "answered within 1 ms: " + r.body());
    }
  }

  @Test
  void aLoadFailure_andASwap_showInTheVersionStatesAndLoadFamilies() throws Exception {
    await().atMost(Duration.ofSeconds(60)).until(() -> value(scrape(), "shardserve_model_load_failures_total",
        "model=\"broken\"").orElse(0.0) >= 1);
    assertEquals(1.0, value(scrape(), "shardserve_model_version_state", "model=\"broken\"", "version=\"1\"",
        "state=\"END\"").orElseThrow());
    HalfPlusTwoModel.write(repo.resolve("hpt/2"), 0.5f, 3f);
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      String s = scrape();
      return value(s, "shardserve_model_version_state", "model=\"hpt\"", "version=\"2\"", "state=\"AVAILABLE\"")
          .orElse(0.0) == 1.0 && value(s, "shardserve_model_version_state", "model=\"hpt\"", "version=\"1\"",
          "state=\"END\"").orElse(0.0) == 1.0;
    });
    assertTrue(value(scrape(), "shardserve_model_load_duration_seconds_count", "model=\"hpt\"").orElseThrow() >= 2);
  }

  @Test
  void underConcurrentLoad_theScrapeIsWellFormed_andCountersNeverGoBack() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> load = new ArrayList<>();
    double last = 0;
    for (int round = 0; round < 5; round++) {
      for (int i = 0; i < 40; i++) {
        load.add(server.client.sendAsync(HttpRequest.newBuilder(server.uri("/v1/models/hpt:predict"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [" + i + ".0]}")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      String s = scrape();
      double now = value(s, "shardserve_requests_total", "model=\"hpt\"", "api=\"predict\"", "code=\"200\"")
          .orElse(0.0);
      assertTrue(now >= last, "a counter went back: " + last + " then " + now);
      last = now;
      Optional<Promtool> promtool = Promtool.find();
      if (promtool.isPresent()) {
        Promtool.Result check = promtool.get().checkMetrics(s);
        assertEquals(0, check.exit(), check.output());
      }
    }
    for (CompletableFuture<HttpResponse<String>> f : load) {
      assertTrue(f.get(60, TimeUnit.SECONDS).statusCode() < 500);
    }
  }
}

package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.node.testing.FixtureModels;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Admission control, batching settings from the config file and their errors, over HTTP. */
class BackpressureHttpTest {
  @TempDir static Path tmp;
  static InProcessServer server;

  @BeforeAll
  static void start() throws Exception {
    Path repo = tmp.resolve("repo");
    FixtureModels.writeFixedShape(repo.resolve("slow/1"));
    FixtureModels.writeFixedShape(repo.resolve("nosplit/1"));
    Path config = tmp.resolve("models.conf");
    Files.writeString(config, """
        models {
          # one request waits 2 s for a batch to fill: it stays in flight meanwhile
          slow { batching { max-queue-delay = 2s } }
          nosplit { batching { max-batch-size = 2, split-large-requests = false }, request-timeout = 5s }
        }
        """);
    server = new InProcessServer(repo, Map.of(
        "shardserve.model-config", config.toString(),
        "shardserve.gateway.admission.initial-limit", 1,
        "shardserve.gateway.admission.min-limit", 1,
        "shardserve.gateway.admission.max-limit", 1,
        // a held 26-byte body leaves room for 38 more bytes
        "shardserve.gateway.admission.max-bytes-in-flight", 64));
    await().atMost(Duration.ofSeconds(60)).until(() -> predict("nosplit", "[[1, 2, 3]]").statusCode() == 200);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  static HttpResponse<String> predict(String model, String instances) throws Exception {
    return server.post("/v1/models/" + model + ":predict", "{\"instances\": " + instances + "}");
  }

  @Test
  void overTheConcurrencyLimit_is503WithRetryAfter_atOnce() throws Exception {
    AtomicReference<HttpResponse<String>> refused = new AtomicReference<>();
    // Requests to 'slow' stay in flight ~2 s; with a limit of 1 the next one is refused.
    CompletableFuture<HttpResponse<String>> held = server.client.sendAsync(
        HttpRequest.newBuilder(server.uri("/v1/models/slow:predict")).timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [[1, 2, 3]]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
      HttpResponse<String> r = predict("slow", "[[4, 5, 6]]");
      if (r.statusCode() == 503) {
        refused.set(r);
        return true;
      }
      return false;
    });
    HttpResponse<String> r = refused.get();
    assertEquals("1", r.headers().firstValue("Retry-After").orElse(""), r.headers().toString());
    assertTrue(r.body().contains("concurrency limit") && r.body().contains("slow"), r.body());
    assertEquals(200, held.get().statusCode(), "the admitted request is answered: nothing accepted is lost");
    assertEquals("{\"predictions\":[[2.0,4.0,6.0]]}", held.get().body());
  }

  @Test
  void overTheByteBudget_is503NamingTheBudget_andABodyAloneRunsWhateverItsSize() throws Exception {
    String body = "{\"instances\": [[1, 2, 3]]}";
    CompletableFuture<HttpResponse<String>> held = server.client.sendAsync(
        HttpRequest.newBuilder(server.uri("/v1/models/slow:predict")).timeout(Duration.ofSeconds(60))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    String padded = "{\"instances\": [[1, 2, 3]]" + " ".repeat(40) + "}";
    AtomicReference<HttpResponse<String>> refused = new AtomicReference<>();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> {
      HttpResponse<String> r = predict("nosplit", "[[1, 2, 3]]" + " ".repeat(40));
      refused.set(r);
      return r.statusCode() == 503 || held.isDone();
    });
    HttpResponse<String> r = refused.get();
    assertEquals(503, r.statusCode(), "the held request was answered before a refusal was seen: " + r.body());
    assertEquals("1", r.headers().firstValue("Retry-After").orElse(""), r.headers().toString());
    assertTrue(r.body().contains("budget of 64") && r.body().contains("body of " + padded.length() + " bytes")
        && r.body().contains("max-bytes-in-flight"), r.body());
    assertEquals(200, held.get().statusCode(), held.get().body());
    // nothing in flight: a body larger than the whole budget is admitted, alone
    await().atMost(Duration.ofSeconds(30)).until(() -> predict("nosplit", "[[1, 2, 3]]" + " ".repeat(100))
        .statusCode() == 200);
  }

  @Test
  void aRequestLargerThanMaxBatchSize_withSplittingOff_is400NamingTheSizes() throws Exception {
    HttpResponse<String> r = predict("nosplit", "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]");
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("3 rows") && r.body().contains("max-batch-size of 2"), r.body());
    assertEquals(200, predict("nosplit", "[[1, 2, 3], [4, 5, 6]]").statusCode());
  }

  @Test
  void batchingSettings_areShownAndChangedThroughTheAdminApi() throws Exception {
    HttpResponse<String> r = server.admin("GET", "/admin/models/slow", null);
    assertTrue(r.body().contains("\"max_queue_delay_us\":2000000"), r.body());
    r = server.admin("PUT", "/admin/models/nosplit", "{\"batching\": {\"max_batch_size\": 0}}");
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("max_batch_size") && r.body().contains("0"), r.body());
    r = server.admin("PUT", "/admin/models/nosplit", "{\"batching\": {\"allowed_batch_sizes\": [1, 3]}}");
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("allowed-batch-sizes"), r.body());
    r = server.admin("PUT", "/admin/models/nosplit", "{\"batching\": {\"split_large_requests\": true}}");
    assertEquals(200, r.statusCode(), r.body());
    HttpResponse<String> split = predict("nosplit", "[[1, 2, 3], [4, 5, 6], [7, 8, 9]]");
    assertEquals(200, split.statusCode(), split.body());
    assertEquals("{\"predictions\":[[2.0,4.0,6.0],[8.0,10.0,12.0],[14.0,16.0,18.0]]}", split.body());
    server.admin("PUT", "/admin/models/nosplit", "{\"batching\": {\"split_large_requests\": false}}");
  }
}

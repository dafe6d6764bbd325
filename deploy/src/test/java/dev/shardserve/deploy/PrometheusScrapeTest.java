package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus scrapes a real process: a standalone server in this JVM with its metrics
 * listener, and the {@code prometheus} binary (Debian package; .ci/run installs it) with a
 * generated config scraping it every second. The test queries Prometheus's HTTP API until every
 * expected series is there, then checks that the target is healthy (Prometheus parsed the scrape).
 * Skipped with a message when the binary is absent.
 */
class PrometheusScrapeTest {
  /** Queries that must return a series with value 1 once Prometheus has scraped the process. */
  static final List<String> EXPECTED = List.of(
      "shardserve_cluster_members{status=\"up\",role=\"worker\",reachable=\"true\"}",
      "shardserve_cluster_members{status=\"up\",role=\"gateway\",reachable=\"true\"}",
      "shardserve_replicas_hosted{model=\"half_plus_two\"}",
      "shardserve_requests_total{model=\"half_plus_two\",version=\"1\",protocol=\"rest_v1\",api=\"predict\","
          + "code=\"200\"}",
      "up{job=\"shardserve\"}");

  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path tmp;

  @Test
  void prometheus_scrapesTheStandaloneProcess_andQueriesItsFamilies() throws Exception {
    Optional<Path> binary = Promtool.onPath("prometheus");
    assumeTrue(binary.isPresent(), "the prometheus binary is not on the PATH (Debian package prometheus; "
        + ".ci/run installs it when run as root): skipped");
    Path repo = tmp.resolve("models");
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    try (InProcessServer server = new InProcessServer(repo,
        Map.of("shardserve.metrics.port", 0, "shardserve.metrics.host", "127.0.0.1"))) {
      HttpResponse<String> predict = server.post("/v1/models/half_plus_two:predict", "{\"instances\": [1.0]}");
      assertEquals(200, predict.statusCode(), predict.body());

      int port = freePort();
      Path config = tmp.resolve("prometheus.yml");
      Files.writeString(config, """
          global:
            scrape_interval: 1s
            evaluation_interval: 1s
          scrape_configs:
            - job_name: shardserve
              static_configs:
                - targets: ["127.0.0.1:%d"]
          """.formatted(server.metricsPort));
      Path log = tmp.resolve("prometheus.log");
      Process prometheus = new ProcessBuilder(binary.get().toString(),
          "--config.file=" + config, "--storage.tsdb.path=" + tmp.resolve("data"),
          "--web.listen-address=127.0.0.1:" + port, "--log.level=warn")
          .redirectErrorStream(true).redirectOutput(log.toFile()).start();
      try {
        for (String query : EXPECTED) {
          JsonNode result = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
              .ignoreExceptions()
              .until(() -> query(port, query), r -> r.size() == 1 && r.get(0).at("/value/1").asText().equals("1"));
          System.out.println("prometheus: " + query + " -> " + result);
        }
        JsonNode targets = JSON.readTree(get(port, "/api/v1/targets")).at("/data/activeTargets");
        assertEquals(1, targets.size(), targets.toString());
        assertEquals("up", targets.get(0).get("health").asText(), targets.toString());
        assertEquals("", targets.get(0).get("lastError").asText(), targets.toString());
        System.out.println("prometheus: target " + targets.get(0).get("scrapeUrl").asText() + " health up, "
            + targets.get(0).get("lastScrapeDuration").asText() + " s per scrape");
      } catch (RuntimeException | AssertionError e) {
        System.out.println("prometheus log:\n" + Files.readString(log));
        throw e;
      } finally {
        prometheus.destroy();
        if (!prometheus.waitFor(20, TimeUnit.SECONDS)) {
          prometheus.destroyForcibly();
        }
      }
    }
  }

  private JsonNode query(int port, String promql) throws Exception {
    JsonNode answer = JSON.readTree(get(port, "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
    if (!answer.get("status").asText().equals("success")) {
      throw new IllegalStateException(answer.toString());
    }
    return answer.at("/data/result");
  }

  private String get(int port, String pathAndQuery) throws Exception {
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

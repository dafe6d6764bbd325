package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shardserve.node.examples.HalfPlusTwoModel;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A standalone process's metrics listener: the cluster and replica families it fills itself, a well-formed scrape. */
class MetricsProcessTest {
  @TempDir static Path repo;
  static InProcessServer server;

  @BeforeAll
  static void start() {
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    server = new InProcessServer(repo, Map.of("shardserve.metrics.port", 0, "shardserve.metrics.host", "127.0.0.1"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void standalone_metrics_showTheMemberUnderBothRoles_andTheHostedReplica() {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      String body = server.metrics("/metrics").body();
      assertTrue(body.contains("shardserve_cluster_members{reachable=\"true\",role=\"gateway\",status=\"up\"} 1.0"), body);
      assertTrue(body.contains("shardserve_cluster_members{reachable=\"true\",role=\"worker\",status=\"up\"} 1.0"), body);
      assertTrue(body.contains("shardserve_replicas_hosted{model=\"half_plus_two\"} 1.0"), body);
      assertTrue(body.contains("shardserve_replicas_desired{model=\"half_plus_two\"} 1.0"), body);
    });
  }

  @Test
  void inferencePort_doesNotServeMetrics() throws Exception {
    assertEquals(404, server.get("/metrics").statusCode());
  }

  @Test
  void scrape_passesPromtoolCheckMetrics() throws Exception {
    Optional<Promtool> promtool = Promtool.find();
    assumeTrue(promtool.isPresent(), "promtool is not on the PATH (Debian package prometheus): skipped");
    HttpResponse<String> scrape = server.metrics("/metrics");
    assertEquals(200, scrape.statusCode());
    Promtool.Result r = promtool.get().checkMetrics(scrape.body());
    assertTrue(r.ok(), r.output());
  }
}

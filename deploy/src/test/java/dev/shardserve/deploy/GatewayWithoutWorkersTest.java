package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cluster with no worker node answers at once, 503 with Retry-After, and never hangs. */
class GatewayWithoutWorkersTest {
  @TempDir static Path repo;
  static InProcessServer gateway;

  @BeforeAll
  static void start() {
    gateway = new InProcessServer(repo, Map.of(), /* worker= */ false);
    await().atMost(Duration.ofSeconds(30))
        .until(() -> Cluster.get(gateway.system).selfMember().status() == MemberStatus.up());
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  @Test
  void predict_withNoWorkerNode_is503ModelNotReady() throws Exception {
    HttpResponse<String> r = gateway.post("/v1/models/half_plus_two:predict", "{\"instances\": [1]}");
    assertEquals(503, r.statusCode(), r.body());
    assertTrue(r.body().contains("no worker node"), r.body());
    assertEquals("1", r.headers().firstValue("Retry-After").orElse(""));
    assertEquals(503, gateway.get("/v1/models/half_plus_two").statusCode());
  }
}

package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.gateway.warmup.RequestPathWarmup;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.examples.MlpModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A gateway warms its request path through its own listener before it is ready: every request answered. */
class RequestPathWarmupTest {
  @TempDir Path tmp;

  @Test
  void syntheticRequests_reachEveryModel_throughV1AndV2_andAreAnswered() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    MlpModel.write(repo.resolve("mlp/1"), 7);
    try (InProcessServer server = new InProcessServer(repo, Map.of("shardserve.gateway.warmup.requests", 200,
        "shardserve.metrics.port", 0, "shardserve.metrics.host", "127.0.0.1"))) {
      RequestPathWarmup.Outcome o = server.bindings.warmedUp().toCompletableFuture().get(120, TimeUnit.SECONDS);
      assertTrue(o.models().containsAll(List.of("half_plus_two", "mlp")), o.toString());
      assertEquals(200, o.sent(), o.toString());
      assertEquals(200, o.ok(), "every synthetic request is a valid one: " + o);
      String metrics = server.metrics("/metrics").body();
      for (String model : List.of("half_plus_two", "mlp")) {
        for (String protocol : List.of("rest_v1", "rest_v2")) {
          assertTrue(metrics.lines().anyMatch(l -> l.startsWith("shardserve_requests_total{") && l.contains(
              "model=\"" + model + "\"") && l.contains("protocol=\"" + protocol + "\"") && l.contains("code=\"200\"")),
              model + " " + protocol + " answered during the warm-up");
        }
      }
      // the warm-up's listener is gone; the inference listener was never needed for it
      assertEquals(200, server.post("/v1/models/half_plus_two:predict", "{\"instances\": [1.0]}").statusCode());
    }
  }
}

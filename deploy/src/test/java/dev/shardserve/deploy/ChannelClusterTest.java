package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.gateway.Gateway;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.testing.FixtureModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway-to-node channels, on a cluster in this JVM: one worker node and two gateways
 * (three ActorSystems, ephemeral ports), with a 1 MiB cluster frame so that limits are reached
 * with small bodies. Concurrent requests share frames and each gets its own answer; a frame mixes
 * models and versions; a request or an answer over the frame limit is a clear error, computed at
 * most once; two gateways serve the same node, and one stopping changes nothing for the other.
 */
class ChannelClusterTest {
  @TempDir static Path repo;
  static ActorSystem<Void> node;
  static ActorSystem<Void> gatewayA;
  static ActorSystem<Void> gatewayB;
  static int portA;
  static int portB;
  static int adminA;
  static final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  static final ObjectMapper JSON = new ObjectMapper();

  static Map<String, Object> base(List<String> roles) {
    Map<String, Object> c = new HashMap<>(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", roles,
        "akka.remote.artery.advanced.maximum-large-frame-size", "1 MiB",
        "shardserve.node.model-repository", repo.toAbsolutePath().toString(),
        "shardserve.node.repository-poll-interval", "200ms",
        "shardserve.gateway.host", "127.0.0.1",
        "shardserve.gateway.port", 0,
        "shardserve.gateway.admin-port", 0,
        // an attempt through sharding counts as lost after 300 ms: a request over a channel must not
        "shardserve.gateway.routing.attempt-timeout", "300ms",
        "shardserve.gateway.grpc.port", -1));
    return c;
  }

  static ActorSystem<Void> gateway(ActorSystem<Void> seed, int[] ports) throws Exception {
    ActorSystem<Void> g = Processes.system(ConfigFactory.parseMap(base(List.of("gateway"))));
    Cluster.get(g).manager().tell(Join.create(Cluster.get(seed).selfMember().address()));
    Gateway.Bindings b = Gateway.start(g, GatewaySettings.fromConfig(g.settings().config())).toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
    ports[0] = b.inference().localAddress().getPort();
    ports[1] = b.admin().localAddress().getPort();
    return g;
  }

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("hpt/1"), 0.5f, 1f);
    HalfPlusTwoModel.write(repo.resolve("hpt/2"), 0.5f, 2f);
    HalfPlusTwoModel.write(repo.resolve("other/1"), 1f, 0f);
    FixtureModels.writeTile(repo.resolve("tile/1"));
    FixtureModels.writeGate(repo.resolve("slow/1"));
    Path config = repo.resolve("models.conf");
    // tile's output is not one row per input row: it runs unbatched
    Files.writeString(config, "discover-repository = true\nmodels { hpt { version-policy = \"all\" }, "
        + "tile { batching { enabled = false } }, slow { batching { enabled = false } } }\n");
    Map<String, Object> nodeConfig = base(List.of("worker"));
    nodeConfig.put("shardserve.node.warmup.synthetic-runs", 0); // the gate model would block its warm-up
    nodeConfig.put("shardserve.model-config", config.toString());
    node = Processes.system(ConfigFactory.parseMap(nodeConfig));
    Processes.joinSelf(node);
    Processes.seedDesiredState(node);
    WorkerNode.start(node, NodeSettings.fromConfig(node.settings().config())).toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
    int[] a = new int[2];
    gatewayA = gateway(node, a);
    portA = a[0];
    adminA = a[1];
    int[] b = new int[2];
    gatewayB = gateway(node, b);
    portB = b[0];
    await().atMost(Duration.ofSeconds(60)).until(() -> allUp(3));
    await().atMost(Duration.ofSeconds(60)).until(() -> predict(portA, "hpt", "/versions/2", "[1.0]").statusCode() == 200
        && predict(portA, "hpt", "/versions/1", "[1.0]").statusCode() == 200
        && predict(portA, "other", "", "[1.0]").statusCode() == 200
        && predict(portB, "hpt", "/versions/2", "[1.0]").statusCode() == 200);
  }

  static boolean allUp(int n) {
    int up = 0;
    for (akka.cluster.Member m : Cluster.get(node).state().getMembers()) {
      up += m.status() == MemberStatus.up() ? 1 : 0;
    }
    return up == n;
  }

  @AfterAll
  static void stop() {
    for (ActorSystem<Void> s : new ArrayList<>(java.util.Arrays.asList(gatewayB, gatewayA, node))) {
      if (s != null) {
        s.terminate();
        s.getWhenTerminated().toCompletableFuture().join();
      }
    }
  }

  static HttpResponse<String> predict(int port, String model, String version, String instances) throws Exception {
    return client.send(request(port, model, version, instances), HttpResponse.BodyHandlers.ofString());
  }

  static HttpRequest request(int port, String model, String version, String instances) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models/" + model + version
            + ":predict")).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": " + instances + "}")).build();
  }

  /** Frames and requests the gateway at {@code admin} has sent to the node, from its admin API. */
  static long[] channelCounts(int admin) throws Exception {
    JsonNode nodes = JSON.readTree(client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin
        + "/admin/nodes")).build(), HttpResponse.BodyHandlers.ofString()).body()).get("nodes");
    long[] out = new long[2];
    for (JsonNode n : nodes) {
      JsonNode c = n.get("channel");
      if (c != null) {
        out[0] += c.get("frames_sent").asLong();
        out[1] += c.get("requests_sent").asLong();
      }
    }
    return out;
  }

  @Test
  void concurrentRequests_shareFrames_andEachGetsItsOwnAnswer_acrossModelsAndVersions() throws Exception {
    long[] before = channelCounts(adminA);
    List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      float x = i;
      switch (i % 3) {
        case 0 -> {
          answers.add(client.sendAsync(request(portA, "hpt", "/versions/1", "[" + x + "]"),
              HttpResponse.BodyHandlers.ofString()));
          expected.add(f(0.5f * x + 1));
        }
        case 1 -> {
          answers.add(client.sendAsync(request(portA, "hpt", "/versions/2", "[" + x + "]"),
              HttpResponse.BodyHandlers.ofString()));
          expected.add(f(0.5f * x + 2));
        }
        default -> {
          answers.add(client.sendAsync(request(portA, "other", "", "[" + x + "]"), HttpResponse.BodyHandlers.ofString()));
          expected.add(f(x));
        }
      }
    }
    for (int i = 0; i < answers.size(); i++) {
      HttpResponse<String> r = answers.get(i).get(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("{\"predictions\":[" + expected.get(i) + "]}", r.body(), "request " + i);
    }
    long[] after = channelCounts(adminA);
    long frames = after[0] - before[0];
    long requests = after[1] - before[1];
    assertEquals(300, requests, "every request went over the channel");
    assertTrue(frames < requests, frames + " frames carried " + requests + " requests");
  }

  static String f(float v) {
    return Float.toString(v);
  }

  @Test
  void anAnswerOverTheFrameLimit_isAClearError_notARetry() throws Exception {
    StringBuilder x = new StringBuilder("[[");
    for (int i = 0; i < 200; i++) {
      x.append(i == 0 ? "" : ",").append(i);
    }
    // 200 floats tiled 2,000 times: a 1.6 MB answer over a 1 MiB frame
    HttpResponse<String> r = predict(portA, "tile", "", x.append("]]").toString().replace("[[", "[").replace("]]", "]"));
    assertEquals(500, r.statusCode(), r.body());
    assertTrue(r.body().contains("larger than the cluster frame limit") && r.body().contains("1600"), r.body());
  }

  @Test
  void aRequestOverTheFrameLimit_is413_namingBothSizes() throws Exception {
    StringBuilder x = new StringBuilder("[");
    for (int i = 0; i < 300_000; i++) {
      x.append(i == 0 ? "" : ",").append(i % 10);
    }
    HttpResponse<String> r = predict(portA, "other", "", x.append("]").toString());
    assertEquals(413, r.statusCode(), r.body());
    assertTrue(r.body().contains("bytes on the wire") && r.body().contains(Long.toString(1024 * 1024 - 16 * 1024)),
        r.body());
  }

  @Test
  void twoGateways_bothServe_andOneStoppingChangesNothingForTheOther() throws Exception {
    assertEquals(200, predict(portB, "other", "", "[3.0]").statusCode());
    List<CompletableFuture<HttpResponse<String>>> during = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      during.add(client.sendAsync(request(portA, "other", "", "[" + i + ".0]"), HttpResponse.BodyHandlers.ofString()));
    }
    ActorSystem<Void> b = gatewayB;
    gatewayB = null;
    b.terminate();
    for (int i = 50; i < 120; i++) { // below the admission limit of 128 in flight
      during.add(client.sendAsync(request(portA, "other", "", "[" + i + ".0]"), HttpResponse.BodyHandlers.ofString()));
    }
    for (int i = 0; i < during.size(); i++) {
      HttpResponse<String> r = during.get(i).get(60, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode(), r.body());
      assertEquals(String.format(Locale.ROOT, "{\"predictions\":[%s]}", f(i)), r.body());
    }
    b.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertEquals(200, predict(portA, "other", "", "[1.0]").statusCode());
  }

  @Test
  void aModelSlowerThanTheAttemptTimeout_isAnsweredOnce_andComputedOnce() throws Exception {
    dev.shardserve.metrics.ShardServeMetrics nodeMetrics = dev.shardserve.metrics.ShardServeMetrics.get(node);
    long batchesBefore = dev.shardserve.node.testing.MetricValues.batches(nodeMetrics, "slow");
    long sent = System.nanoTime();
    CompletableFuture<HttpResponse<String>> answer = client.sendAsync(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + portA + "/v1/models/slow:predict")).timeout(Duration.ofSeconds(30))
        .header("X-Request-Timeout-Ms", "10000")
        .POST(HttpRequest.BodyPublishers.ofString("{\"instances\": [0.0]}")).build(),
        HttpResponse.BodyHandlers.ofString());
    // The run blocks on the model's queue. Once it has run for three attempt timeouts, a router that gave
    // up after one would have sent it again (and the node would have started a second run).
    await().atMost(Duration.ofSeconds(30))
        .until(() -> System.nanoTime() - sent > 1_000_000_000L
            && dev.shardserve.node.testing.MetricValues.queueWaits(nodeMetrics, "slow") > 0);
    assertTrue(!answer.isDone(), "still running, not answered by a timeout");
    HttpResponse<String> released = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + portA
        + "/v1/models/slow:predict")).POST(HttpRequest.BodyPublishers.ofString(
            "{\"signature_name\": \"release\", \"instances\": [7.0]}")).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, released.statusCode(), released.body());
    HttpResponse<String> r = answer.get(30, TimeUnit.SECONDS);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"predictions\":[7.0]}", r.body());
    assertEquals(batchesBefore + 2, dev.shardserve.node.testing.MetricValues.batches(nodeMetrics, "slow"),
        "the slow request ran once (and the release once)");
  }
}

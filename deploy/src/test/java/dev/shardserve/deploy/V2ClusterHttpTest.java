package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.testing.FixtureModels;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * v2 through a gateway whose replicas are in another ActorSystem (a worker node in this JVM):
 * the declared datatypes are still checked at the gateway, from the signature's metadata, and
 * binary tensors cross the cluster hop intact.
 */
class V2ClusterHttpTest {
  @TempDir static Path repo;
  static InProcessServer gateway;
  static ActorSystem<Void> worker;

  @BeforeAll
  static void start() throws Exception {
    FixtureModels.writeDtypes(repo.resolve("dtypes/1"));
    gateway = new InProcessServer(repo, Map.of(), /* worker= */ false);
    worker = Processes.system(ConfigFactory.parseMap(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", List.of("worker"),
        "shardserve.node.model-repository", repo.toAbsolutePath().toString(),
        "shardserve.node.repository-poll-interval", "200ms")));
    Cluster.get(worker).manager().tell(Join.create(Cluster.get(gateway.system).selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      int up = 0;
      for (akka.cluster.Member m : Cluster.get(gateway.system).state().getMembers()) {
        up += m.status() == MemberStatus.up() ? 1 : 0;
      }
      return up == 2;
    });
    WorkerNode.start(worker, NodeSettings.fromConfig(worker.settings().config())).toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
    String[] last = {""};
    try {
      await().atMost(Duration.ofSeconds(90)).until(() -> {
        HttpResponse<String> r = gateway.get("/v2/health/ready");
        last[0] = r.body();
        return r.statusCode() == 200;
      });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("the gateway never became ready: " + last[0], e);
    }
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.terminate();
      worker.getWhenTerminated().toCompletableFuture().join();
    }
    gateway.close();
  }

  private static String request(String datatype, String data) {
    return "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"" + datatype + "\",\"data\":" + data + "}]}";
  }

  @Test
  void declaredDatatype_isCheckedAtTheGateway_againstTheRemoteSignature() throws Exception {
    HttpResponse<String> ok = gateway.post("/v2/models/dtypes/infer", request("FP32", "[1,2]"));
    assertEquals(200, ok.statusCode(), ok.body());
    assertTrue(ok.body().contains("\"data\":[2.0,4.0]"), ok.body());
    // The worker would convert FP64 to FP32 (the v1 routes' rule); v2 refuses the mismatch.
    HttpResponse<String> wrong = gateway.post("/v2/models/dtypes/infer", request("FP64", "[1,2]"));
    assertEquals(400, wrong.statusCode(), wrong.body());
    assertTrue(wrong.body().contains("expects datatype FP32") && wrong.body().contains("gives FP64"), wrong.body());
  }

  @Test
  void binaryTensors_crossTheClusterHopIntact() throws Exception {
    byte[] data = V2Wire.strings(new byte[0], new byte[] {0, 1, 0}, "z".getBytes());
    V2Wire.Body body = new V2Wire.Body("{\"parameters\":{\"signature_name\":\"bytes\",\"binary_data_output\":true},"
        + "\"inputs\":[{\"name\":\"x\",\"shape\":[3,1],\"datatype\":\"BYTES\",\"parameters\":{\"binary_data_size\":"
        + data.length + "}}]}", V2Wire.parts(data));
    V2Wire.Answer a = V2Wire.read(gateway.client.send(body.post(gateway.uri("/v2/models/dtypes/infer")).build(),
        HttpResponse.BodyHandlers.ofByteArray()));
    assertEquals(200, a.status(), a.json().toString());
    assertArrayEquals(data, a.binary().get("y"));
  }
}

package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.typed.GetShardRegionState;
import akka.cluster.sharding.ShardRegion.CurrentShardRegionState;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.actor.testkit.typed.javadsl.TestProbe;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.sharding.EntityIds;
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
 * Labels and rollback on a cluster of two worker nodes (two ActorSystems in this JVM, ephemeral
 * ports): one model with two replicas, one on each node. An admin rollback reaches both nodes'
 * replicas within 2 s, through the desired state in Distributed Data.
 */
class ClusterRollbackTest {
  @TempDir static Path repo;
  static InProcessServer a;
  static ActorSystem<Void> b;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("hpt/1"), 0.5f, 1f);
    HalfPlusTwoModel.write(repo.resolve("hpt/2"), 0.5f, 2f);
    a = new InProcessServer(repo, Map.of());
    b = Processes.system(ConfigFactory.parseMap(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", List.of("worker"),
        "shardserve.node.model-repository", repo.toAbsolutePath().toString(),
        "shardserve.node.repository-poll-interval", "200ms")));
    Cluster.get(b).manager().tell(Join.create(Cluster.get(a.system).selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> Cluster.get(a.system).state().getMembers().spliterator()
        .estimateSize() == 2 && allUp());
    WorkerNode.start(b, NodeSettings.fromConfig(b.settings().config())).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  static boolean allUp() {
    for (akka.cluster.Member m : Cluster.get(a.system).state().getMembers()) {
      if (m.status() != MemberStatus.up()) {
        return false;
      }
    }
    return true;
  }

  @AfterAll
  static void stop() {
    if (b != null) {
      b.terminate();
      b.getWhenTerminated().toCompletableFuture().join();
    }
    if (a != null) {
      a.close();
    }
  }

  /** The version replica {@code r} answers a request for {@code selector} with. */
  static long answeredBy(int r, VersionSelector selector) {
    TestProbe<InferReply> probe = TestProbe.create(a.system);
    ClusterSharding.get(a.system).entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of("hpt", r))
        .tell(new Infer("hpt", selector, ModelProtocol.DEFAULT_SIGNATURE,
            Map.of("x", Tensor.ofFloats(new long[] {1}, 0f)), System.currentTimeMillis() + 10_000, probe.ref()));
    InferReply reply = probe.receiveMessage(Duration.ofSeconds(15));
    return reply instanceof InferResult ok ? ok.version() : -1;
  }

  static List<String> hostedShards(ActorSystem<?> system) {
    TestProbe<CurrentShardRegionState> probe = TestProbe.create(system);
    ClusterSharding.get(system).shardState().tell(new GetShardRegionState(ModelProtocol.ENTITY_TYPE_KEY, probe.ref()));
    List<String> out = new java.util.ArrayList<>();
    probe.receiveMessage(Duration.ofSeconds(10)).getShards().forEach(s -> out.add(s.shardId()));
    return out;
  }

  @Test
  void rollback_reachesTheReplicasOnBothNodes_within2Seconds() throws Exception {
    HttpResponse<String> r = a.admin("PUT", "/admin/models/hpt",
        "{\"replicas\": 2, \"version_policy\": \"all\", \"labels\": {}}");
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      JsonNode m = JSON.readTree(a.admin("GET", "/admin/models/hpt", null).body());
      JsonNode replicas = m.get("replica_status");
      if (replicas == null || replicas.size() != 2) {
        return false;
      }
      for (JsonNode rep : replicas) {
        if (rep.get("versions") == null || !rep.get("versions").toString().matches(".*AVAILABLE.*AVAILABLE.*")) {
          return false;
        }
      }
      return true;
    });
    // One replica on each node (a replica allocated before B's region registered is moved to B
    // by the next rebalance).
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> hostedShards(a.system).size() == 1 && hostedShards(b).size() == 1);
    List<String> onA = hostedShards(a.system);
    List<String> onB = hostedShards(b);
    assertNotEquals(onA, onB);
    assertEquals(2, answeredBy(0, VersionSelector.latest()));
    assertEquals(2, answeredBy(1, VersionSelector.latest()));

    // Pin version 1: both replicas switch within 2 s of the admin call.
    long t0 = System.nanoTime();
    r = a.admin("POST", "/admin/models/hpt/rollback", "{\"version\": 1}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(JSON.readTree(r.body()).get("confirmed_by_all_nodes").asBoolean(), r.body());
    await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> answeredBy(0, VersionSelector.latest()) == 1 && answeredBy(1, VersionSelector.latest()) == 1);
    long pinMillis = (System.nanoTime() - t0) / 1_000_000;

    // Move a label back: the same. Version 2 was unloaded by the pin, so (TF Serving's two-step
    // rule) it is loaded again before a label may point at it.
    r = a.admin("PUT", "/admin/models/hpt", "{\"version_policy\": \"all\", \"labels\": {\"stable\": 2}}");
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("AVAILABLE"), r.body());
    r = a.admin("PUT", "/admin/models/hpt", "{\"version_policy\": \"all\"}");
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(60)).until(() -> a.admin("PUT", "/admin/models/hpt",
        "{\"labels\": {\"stable\": 2}}").statusCode() == 200);
    await().atMost(Duration.ofSeconds(2)).until(() -> answeredBy(0, new VersionSelector.Label("stable")) == 2
        && answeredBy(1, new VersionSelector.Label("stable")) == 2);
    t0 = System.nanoTime();
    r = a.admin("POST", "/admin/models/hpt/rollback", "{\"label\": \"stable\", \"version\": 1}");
    assertEquals(200, r.statusCode(), r.body());
    await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20))
        .until(() -> answeredBy(0, new VersionSelector.Label("stable")) == 1
            && answeredBy(1, new VersionSelector.Label("stable")) == 1);
    long labelMillis = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf("cluster rollback: pin effective on both nodes after %d ms, label move after %d ms%n",
        pinMillis, labelMillis);
  }
}

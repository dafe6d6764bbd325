package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.ShardRegion.CurrentShardRegionState;
import akka.cluster.sharding.typed.GetShardRegionState;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.gateway.Gateway;
import dev.shardserve.gateway.GatewaySettings;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.protocol.ModelProtocol;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replica placement on a cluster of ActorSystems in this JVM (ephemeral ports): two worker
 * nodes and a gateway, then a third, heavier worker joins. Three models with two replicas each.
 */
class PlacementClusterTest {
  @TempDir static Path repo;
  static final List<ActorSystem<Void>> systems = new ArrayList<>();
  static ActorSystem<Void> a;
  static ActorSystem<Void> b;
  static ActorSystem<Void> gateway;

  static ActorSystem<Void> start(List<String> roles, int cpuSlots) {
    Map<String, Object> c = new HashMap<>(Map.of(
        "akka.remote.artery.canonical.port", 0,
        "akka.cluster.roles", roles,
        "akka.cluster.sharding.rebalance-interval", "300ms",
        "shardserve.node.model-repository", repo.toAbsolutePath().toString(),
        "shardserve.node.repository-poll-interval", "200ms",
        "shardserve.node.capacity.cpu-slots", cpuSlots,
        "shardserve.gateway.host", "127.0.0.1",
        "shardserve.gateway.port", 0,
        "shardserve.gateway.grpc.port", 0,
        "shardserve.gateway.admin-port", 0));
    ActorSystem<Void> s = Processes.system(ConfigFactory.parseMap(c));
    systems.add(s);
    Cluster.get(s).manager().tell(Join.create(Cluster.get(systems.get(0)).selfMember().address()));
    return s;
  }

  static void awaitUp(int members) {
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      int up = 0;
      for (akka.cluster.Member m : Cluster.get(a).state().getMembers()) {
        up += m.status() == MemberStatus.up() ? 1 : 0;
      }
      return up == members;
    });
  }

  @BeforeAll
  static void startCluster() throws Exception {
    for (String m : List.of("m", "x", "y")) {
      HalfPlusTwoModel.write(repo.resolve(m + "/1"));
    }
    a = start(List.of("worker"), 1);
    b = start(List.of("worker"), 1);
    gateway = start(List.of("gateway"), 1);
    awaitUp(3);
    new DesiredStateStore(a, Duration.ofSeconds(5)).update(s -> s
        .with("m", ModelSpec.DEFAULT.withReplicas(2))
        .with("x", ModelSpec.DEFAULT.withReplicas(2))
        .with("y", ModelSpec.DEFAULT.withReplicas(2))).toCompletableFuture().get(30, TimeUnit.SECONDS);
    for (ActorSystem<Void> w : List.of(a, b)) {
      WorkerNode.start(w, NodeSettings.fromConfig(w.settings().config())).toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    }
    Gateway.start(gateway, GatewaySettings.fromConfig(gateway.settings().config())).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stopCluster() {
    for (ActorSystem<Void> s : systems) {
      s.terminate();
    }
    for (ActorSystem<Void> s : systems) {
      s.getWhenTerminated().toCompletableFuture().join();
    }
  }

  static List<String> hosted(ActorSystem<?> system) {
    TestProbe<CurrentShardRegionState> probe = TestProbe.create(system);
    ClusterSharding.get(system).shardState().tell(new GetShardRegionState(ModelProtocol.ENTITY_TYPE_KEY, probe.ref()));
    List<String> out = new ArrayList<>();
    probe.receiveMessage(Duration.ofSeconds(10)).getShards().forEach(s -> out.add(s.shardId()));
    out.sort(null);
    return out;
  }

  static boolean antiAffine(List<String> shards) {
    return shards.stream().map(s -> s.substring(0, s.indexOf('#'))).distinct().count() == shards.size();
  }

  @Test
  void replicasLandOnDistinctNodes_aHeavierJoinerTakesItsShare_andTheGatewayHostsNothing() {
    // Shards allocated while only one worker's region had registered all land there; rebalancing then
    // moves one per round until the spread is even (a few rounds of 300 ms).
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> hosted(a).size() == 3 && hosted(b).size() == 3);
    assertTrue(antiAffine(hosted(a)) && antiAffine(hosted(b)), "A " + hosted(a) + " B " + hosted(b));
    assertEquals(List.of(), hosted(gateway), "a gateway-role node hosts no replica");

    // A worker with twice the capacity joins: it takes three replicas, one of each model.
    ActorSystem<Void> c = start(List.of("worker"), 2);
    awaitUp(4);
    WorkerNode.start(c, NodeSettings.fromConfig(c.settings().config()));
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> hosted(c).size() == 3 && hosted(a).size() + hosted(b).size() == 3);
    assertEquals(new TreeSet<>(List.of("m", "x", "y")),
        new TreeSet<>(hosted(c).stream().map(s -> s.substring(0, s.indexOf('#'))).toList()));
    for (ActorSystem<Void> s : List.of(a, b, c)) {
      assertTrue(antiAffine(hosted(s)), hosted(s).toString());
    }
    assertEquals(List.of(), hosted(gateway));
  }
}

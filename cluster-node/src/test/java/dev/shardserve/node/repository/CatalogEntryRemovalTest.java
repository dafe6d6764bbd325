package dev.shardserve.node.repository;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.Member;
import akka.cluster.MemberStatus;
import akka.cluster.ddata.LWWMap;
import akka.cluster.ddata.typed.javadsl.DistributedData;
import akka.cluster.ddata.typed.javadsl.Replicator;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.ddata.ReplicatedView;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.protocol.ModelCatalog;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.settings.ShardServeConfig;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's entry in the model catalog goes when the node leaves the cluster, so that a node
 * restarting at the same address does not show its predecessor's models and replicas (two
 * worker systems in this JVM; the second one restarts at the same port).
 */
class CatalogEntryRemovalTest {
  @TempDir Path tmp;
  final List<ActorSystem<?>> systems = new ArrayList<>();
  ActorSystem<Void> a;
  ActorTestKit kit;
  ReplicatedView<LWWMap<String, NodeModels>> catalogOnA;

  ActorSystem<Void> worker(int port, Path repo) {
    ActorSystem<Void> s = ActorSystem.create(Behaviors.empty(), "shardserve", ShardServeConfig.load(
        ConfigFactory.parseMap(Map.of(
            "akka.remote.artery.canonical.port", port,
            "akka.cluster.roles", List.of("worker"),
            "shardserve.node.repository-poll-interval", "200ms",
            "shardserve.node.model-repository", repo.toString()))));
    systems.add(s);
    return s;
  }

  @BeforeEach
  void startA() throws Exception {
    Path repoA = Files.createDirectories(tmp.resolve("repo-a"));
    a = worker(0, repoA);
    Cluster.get(a).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    WorkerNode.start(a, NodeSettings.fromConfig(a.settings().config())).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    kit = ActorTestKit.create(a);
    catalogOnA = ReplicatedView.start(a, ModelCatalog.KEY, LWWMap.empty(), "test-catalog-view");
  }

  @AfterEach
  void stopAll() {
    for (ActorSystem<?> s : systems) {
      s.terminate();
      s.getWhenTerminated().toCompletableFuture().join();
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private boolean upOnA(ActorSystem<?> node) {
    for (Member m : Cluster.get(a).state().getMembers()) {
      if (m.uniqueAddress().equals(Cluster.get(node).selfMember().uniqueAddress()) && m.status() == MemberStatus.up()) {
        return true;
      }
    }
    return false;
  }

  @Test
  void aRemovedNodesEntryGoes_andARestartAtTheSameAddressDoesNotShowItsPredecessor() throws Exception {
    int port = freePort();
    Path repoB = Files.createDirectories(tmp.resolve("repo-b"));
    Files.createDirectories(repoB.resolve("only_on_b"));
    ActorSystem<Void> b = worker(port, repoB);
    String keyB = Cluster.get(b).selfMember().address().toString();
    Cluster.get(b).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    WorkerNode.start(b, NodeSettings.fromConfig(b.settings().config())).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      NodeModels entry = catalogOnA.get().getEntries().get(keyB);
      assertTrue(entry != null && entry.models().contains("only_on_b"), String.valueOf(entry));
      return null;
    });

    // B leaves (SIGTERM: Coordinated Shutdown) and is removed: its entry goes.
    systems.remove(b);
    b.terminate();
    b.getWhenTerminated().toCompletableFuture().join();
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertFalse(catalogOnA.get().getEntries().containsKey(keyB), "entry of the removed node");
      return null;
    });

    // A new node at the same address (not publishing yet): nothing of its predecessor shows.
    ActorSystem<Void> again = worker(port, Files.createDirectories(tmp.resolve("repo-b2")));
    assertEquals(keyB, Cluster.get(again).selfMember().address().toString());
    Cluster.get(again).manager().tell(Join.create(Cluster.get(a).selfMember().address()));
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertTrue(upOnA(again));
      return null;
    });
    assertFalse(catalogOnA.get().getEntries().containsKey(keyB), catalogOnA.get().getEntries().toString());
  }

  @Test
  void anEntryRemovedByMistake_isPublishedAgainByItsNode() {
    String keyA = Cluster.get(a).selfMember().address().toString();
    TestProbe<Object> probe = kit.createTestProbe();
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertTrue(catalogOnA.get().getEntries().containsKey(keyA));
      return null;
    });
    // A desired-state change first: the publisher hears of it (and must survive it) ...
    new DesiredStateStore(a, Duration.ofSeconds(5)).update(s -> s.with("named", ModelSpec.DEFAULT))
        .toCompletableFuture().join();
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      assertTrue(catalogOnA.get().getEntries().get(keyA).models().contains("named"));
      return null;
    });
    // ... then what a late removal for a predecessor at this address would do.
    TestProbe<Replicator.UpdateResponse<LWWMap<String, NodeModels>>> updated = kit.createTestProbe();
    DistributedData.get(a).replicator().tell(new Replicator.Update<>(ModelCatalog.KEY, LWWMap.empty(),
        Replicator.writeLocal(), updated.ref(), map -> map.remove(DistributedData.get(a).selfUniqueAddress(), keyA)));
    updated.expectMessageClass(Replicator.UpdateSuccess.class, Duration.ofSeconds(10));
    // Reads from the replicator itself, after the removal: absent until the publisher puts it back.
    probe.awaitAssert(Duration.ofSeconds(30), () -> {
      TestProbe<Replicator.GetResponse<LWWMap<String, NodeModels>>> got = kit.createTestProbe();
      DistributedData.get(a).replicator().tell(new Replicator.Get<>(ModelCatalog.KEY, Replicator.readLocal(),
          got.ref()));
      Replicator.GetResponse<LWWMap<String, NodeModels>> response = got.receiveMessage(Duration.ofSeconds(5));
      assertTrue(response instanceof Replicator.GetSuccess<LWWMap<String, NodeModels>> ok
          && ok.dataValue().contains(keyA), "entry of " + keyA + " published again");
      return null;
    });
  }
}

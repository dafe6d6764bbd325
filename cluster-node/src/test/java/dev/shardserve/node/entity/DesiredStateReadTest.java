package dev.shardserve.node.entity;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.MemberStatus;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.VersionPolicy;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import dev.shardserve.sharding.EntityIds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica converges only on a desired state it has read (issue 12, case 3). Two systems in this
 * JVM with gossip turned off in effect (one round an hour): the first holds the desired state,
 * which pins the model to version 1 of the two on disk; a worker joins afterwards, so its local
 * replica of the desired state is empty when its replica of the model starts. The replica must
 * read the cluster's state and serve version 1, never load version 2, which nobody chose.
 */
class DesiredStateReadTest {
  @TempDir static Path repo;
  static ActorSystem<Void> holder;
  static ActorSystem<Void> worker;

  static ActorSystem<Void> system(String role) {
    return ActorSystem.create(Behaviors.empty(), "DesiredStateReadTest", ShardServeConfig.load(ConfigFactory.parseMap(
        Map.of("akka.remote.artery.canonical.port", 0,
            "akka.cluster.roles", List.of(role),
            "akka.cluster.distributed-data.gossip-interval", "1h",
            "shardserve.node.model-repository", repo.toString(),
            "shardserve.node.repository-poll-interval", "200ms"))));
  }

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("pinned/1"), 0.5f, 2f);
    HalfPlusTwoModel.write(repo.resolve("pinned/2"), 1f, 0f);
    holder = system("gateway");
    Cluster.get(holder).manager().tell(Join.create(Cluster.get(holder).selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> Cluster.get(holder).selfMember().status() == MemberStatus.up());
    new DesiredStateStore(holder, Duration.ofSeconds(5)).update(s -> s.with("pinned",
            ModelSpec.DEFAULT.withPolicy(new VersionPolicy.Specific(new TreeSet<>(List.of(1L))))))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    worker = system("worker");
    Cluster.get(worker).manager().tell(Join.create(Cluster.get(holder).selfMember().address()));
    await().atMost(Duration.ofSeconds(30)).until(() -> Cluster.get(worker).selfMember().status() == MemberStatus.up());
    WorkerNode.start(worker, NodeSettings.fromConfig(worker.settings().config())).toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    for (ActorSystem<Void> s : new ActorSystem[] {worker, holder}) {
      if (s != null) {
        s.terminate();
        s.getWhenTerminated().toCompletableFuture().join();
      }
    }
  }

  @Test
  void aReplicaWhoseNodeHasNoCopyOfTheDesiredState_readsTheCluster_andServesThePinnedVersionOnly() {
    var entity = ClusterSharding.get(worker).entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of("pinned", 0));
    TestProbe<InferReply> probe = TestProbe.create(worker);
    entity.tell(new Infer("pinned", VersionSelector.latest(), "serving_default",
        Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {1}, 2f)), System.currentTimeMillis() + 30_000,
        probe.ref()));
    InferResult r = assertInstanceOf(InferResult.class, probe.receiveMessage(Duration.ofSeconds(30)));
    assertEquals(1, r.version(), "the answer came from version " + r.version() + "; the desired state pins 1");
    assertEquals(3f, r.outputs().get("y").floats()[0], 0f);
    TestProbe<StatusReply> status = TestProbe.create(worker);
    entity.tell(new GetStatus("pinned", VersionSelector.latest(), status.ref()));
    ModelStatus s = assertInstanceOf(ModelStatus.class, status.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(List.of(1L), s.versions().stream().map(VersionStatus::version).toList(),
        "no other version was ever loaded: " + s.versions());
  }
}

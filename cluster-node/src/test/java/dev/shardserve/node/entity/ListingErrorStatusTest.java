package dev.shardserve.node.entity;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
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
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import dev.shardserve.sharding.EntityIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model folder that cannot be listed (here: its volume is gone, folder and parent alike) keeps
 * serving what the last listing found, and says so in the replica's status: each version's
 * message names the folder and the error, until a listing succeeds again.
 */
class ListingErrorStatusTest {
  @TempDir static Path repo;
  static ActorTestKit testKit;

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("mnt/flaky/1"));
    testKit = ActorTestKit.create("ListingErrorStatusTest", ConfigFactory.parseString(
            "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.roles = [worker]\n"
                + "shardserve.node.repository-poll-interval = 200ms\n"
                + "shardserve.node.model-repository = \"" + repo + "\"\n")
        .withFallback(ShardServeConfig.load()));
    Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
    new DesiredStateStore(testKit.system(), Duration.ofSeconds(5)).update(s -> new DesiredState(false, s.models())
            .with("flaky", ModelSpec.DEFAULT.withBasePath("mnt/flaky")))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    WorkerNode.start(testKit.system(), NodeSettings.fromConfig(testKit.system().settings().config()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static EntityRef<ModelProtocol.Command> entity() {
    return ClusterSharding.get(testKit.system()).entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of("flaky", 0));
  }

  static InferReply infer() {
    TestProbe<InferReply> probe = testKit.createTestProbe();
    entity().tell(new Infer("flaky", VersionSelector.latest(), "serving_default",
        Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {1}, 2f)), System.currentTimeMillis() + 30_000,
        probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(30));
  }

  static VersionStatus status() {
    TestProbe<StatusReply> probe = testKit.createTestProbe();
    entity().tell(new GetStatus("flaky", VersionSelector.latest(), probe.ref()));
    ModelStatus s = assertInstanceOf(ModelStatus.class, probe.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(1, s.versions().size(), s.toString());
    return s.versions().get(0);
  }

  @Test
  void aFolderThatCannotBeListed_keepsServing_andTheStatusSaysWhy_untilItListsAgain() throws Exception {
    assertInstanceOf(InferResult.class, infer());
    assertEquals("", status().errorMessage());
    Files.move(repo.resolve("mnt"), repo.resolve("mnt-away")); // the volume is gone: folder and parent
    try {
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        VersionStatus v = status();
        assertEquals(VersionState.AVAILABLE, v.state());
        assertNull(v.errorCode(), "the version itself is fine");
        assertTrue(v.errorMessage().contains("cannot be listed") && v.errorMessage().contains(
            repo.resolve("mnt/flaky").toString()) && v.errorMessage().contains("NoSuchFileException"),
            v.errorMessage());
      });
      assertInstanceOf(InferResult.class, infer(), "still serving what the last listing found");
    } finally {
      Files.move(repo.resolve("mnt-away"), repo.resolve("mnt"));
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> status().errorMessage().isEmpty());
    assertEquals(VersionState.AVAILABLE, status().state());
  }
}

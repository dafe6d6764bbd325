package dev.shardserve.node.entity;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.sharding.typed.javadsl.EntityRef;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
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
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import dev.shardserve.sharding.EntityIds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change of a model's base path (issue 12, case 5): both folders hold a version 1, with
 * different weights. After the change the replica answers from the new folder's version 1, and
 * availability comes first: while it loads, the old folder's version 1 keeps answering, so no
 * request fails during the switch.
 */
class BasePathChangeTest {
  @TempDir static Path repo;
  static ActorTestKit testKit;
  static DesiredStateStore store;

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("old/1"), 0.5f, 2f); // y = 0.5 x + 2
    HalfPlusTwoModel.write(repo.resolve("new/1"), 1f, 0f); // y = x
    testKit = ActorTestKit.create("BasePathChangeTest", ConfigFactory.parseString(
            "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.roles = [worker]\n"
                + "shardserve.node.repository-poll-interval = 200ms\n"
                + "shardserve.node.model-repository = \"" + repo + "\"\n")
        .withFallback(ShardServeConfig.load()));
    Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
    store = new DesiredStateStore(testKit.system(), Duration.ofSeconds(5));
    store.update(s -> new dev.shardserve.desired.DesiredState(false, s.models())
            .with("moved", ModelSpec.DEFAULT.withBasePath("old")))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    WorkerNode.start(testKit.system(), NodeSettings.fromConfig(testKit.system().settings().config()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static EntityRef<ModelProtocol.Command> entity() {
    return ClusterSharding.get(testKit.system()).entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of("moved", 0));
  }

  /** The answer for x = 2: 3 from the old folder, 2 from the new one. */
  static InferReply infer() {
    TestProbe<InferReply> probe = testKit.createTestProbe();
    entity().tell(new Infer("moved", VersionSelector.latest(), "serving_default",
        Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {1}, 2f)), System.currentTimeMillis() + 30_000,
        probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(30));
  }

  static float y(InferReply reply) {
    return assertInstanceOf(InferResult.class, reply, reply::toString).outputs().get("y").floats()[0];
  }

  @Test
  void aNewBasePath_servesTheNewFoldersVersion_withTheOldOneAnsweringUntilItIsAvailable() throws Exception {
    assertEquals(3f, y(infer()), 0f);
    List<InferReply> during = Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stop = new AtomicBoolean();
    Thread load = new Thread(() -> {
      while (!stop.get()) {
        during.add(infer());
      }
    });
    load.start();
    try {
      store.update(s -> s.with("moved", s.models().get("moved").withBasePath("new")))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> y(infer()) == 2f);
      int seen = during.size();
      await().atMost(Duration.ofSeconds(30)).until(() -> during.size() > seen + 5);
    } finally {
      stop.set(true);
      load.join(30_000);
    }
    List<InferReply> failed = during.stream().filter(r -> !(r instanceof InferResult)).toList();
    assertEquals(List.of(), failed, "failed during the switch");
    List<Float> answers = during.stream().map(BasePathChangeTest::y).toList();
    int firstNew = answers.indexOf(2f);
    assertTrue(firstNew >= 0 && answers.subList(firstNew, answers.size()).stream().allMatch(v -> v == 2f)
        && answers.subList(0, firstNew).stream().allMatch(v -> v == 3f), "old answers, then new ones only: " + answers);
    TestProbe<StatusReply> status = testKit.createTestProbe();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      entity().tell(new GetStatus("moved", VersionSelector.latest(), status.ref()));
      ModelStatus s = assertInstanceOf(ModelStatus.class, status.receiveMessage(Duration.ofSeconds(10)));
      assertEquals(List.of(VersionState.AVAILABLE), s.versions().stream().map(v -> v.state()).toList(),
          "the old folder's version 1 is unloaded and forgotten: " + s.versions());
    });
  }
}

package dev.shardserve.node.batch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.metrics.ShardServeMetrics;
import dev.shardserve.node.runtime.RuntimePool;
import dev.shardserve.node.testing.MetricValues;
import dev.shardserve.node.testing.FixtureModels;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import dev.shardserve.sharding.EntityIds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batcher inside a real model replica, with TensorFlow: y = 2x on rows of 3 floats. */
class BatchingEntityTest {
  @TempDir static Path repo;
  static ActorTestKit testKit;

  @BeforeAll
  static void start() throws Exception {
    FixtureModels.writeFixedShape(repo.resolve("fixed/1"));
    testKit = ActorTestKit.create("BatchingEntityTest", ConfigFactory.parseString(
            "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.roles = [worker]\n"
                + "shardserve.node.repository-poll-interval = 100ms\n"
                + "shardserve.node.model-repository = \"" + repo + "\"\n")
        .withFallback(ShardServeConfig.load()));
    Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
    // A long delay so that requests sent together wait for each other; 12 may wait.
    BatchingSpec batching = new BatchingSpec(true, 8, 300_000, 12, List.of(4, 8), 1, true);
    new DesiredStateStore(testKit.system(), Duration.ofSeconds(5))
        .update(s -> s.with("fixed", ModelSpec.DEFAULT.withBatching(batching))).toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    WorkerNode.start(testKit.system(), NodeSettings.fromConfig(testKit.system().settings().config()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    // The first request waits for the version to load (bounded by the probe's timeout).
    assertDoubled(1, 1, send(1, 1).receiveMessage(Duration.ofSeconds(30)));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** Sends {@code rows} rows whose values start at {@code id * 100}. */
  static TestProbe<InferReply> send(int id, int rows) {
    TestProbe<InferReply> probe = testKit.createTestProbe();
    float[] v = new float[rows * 3];
    for (int i = 0; i < v.length; i++) {
      v[i] = id * 100 + i;
    }
    ClusterSharding.get(testKit.system()).entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of("fixed", 0))
        .tell(new Infer("fixed", VersionSelector.latest(), "serving_default",
            Map.of("x", Tensor.ofFloats(new long[] {rows, 3}, v)), System.currentTimeMillis() + 30_000, probe.ref()));
    return probe;
  }

  static void assertDoubled(int id, int rows, InferReply reply) {
    InferResult r = assertInstanceOf(InferResult.class, reply, reply::toString);
    Tensor y = r.outputs().get("y");
    assertArrayEquals(new long[] {rows, 3}, y.shape());
    for (int i = 0; i < rows * 3; i++) {
      assertEquals(2f * (id * 100 + i), y.floats()[i], "request " + id + " element " + i);
    }
  }

  @Test
  void requestsSentTogether_runAsOneBatch_andEachGetsItsOwnRows() {
    ShardServeMetrics m = ShardServeMetrics.get(testKit.system());
    long batchesBefore = MetricValues.batches(m, "fixed");
    List<TestProbe<InferReply>> probes = new ArrayList<>();
    for (int id = 1; id <= 6; id++) {
      probes.add(send(id, id % 2 + 1)); // 2,1,2,1,2,1 rows: 9 rows in all, over max-batch-size 8
    }
    for (int id = 1; id <= 6; id++) {
      assertDoubled(id, id % 2 + 1, probes.get(id - 1).receiveMessage(Duration.ofSeconds(30)));
    }
    // 8 rows fill the first batch at once; the 9th row waits for the delay: two batches, not six
    assertEquals(2, MetricValues.batches(m, "fixed") - batchesBefore);
  }

  @Test
  void aLargeRequest_isSplitAndRejoined() {
    TestProbe<InferReply> p = send(7, 20);
    assertDoubled(7, 20, p.receiveMessage(Duration.ofSeconds(30)));
  }

  @Test
  void aFullQueue_answersOverloadedAtOnce_andNothingAcceptedIsLost() throws Exception {
    ShardServeMetrics m = ShardServeMetrics.get(testKit.system());
    long rejectedBefore = MetricValues.refused(m, "fixed", "queue_full");
    // Hold every runtime thread so that the first batch cannot finish while the others
    // arrive: then exactly one batch of 8 is running and 12 wait, whatever the machine's speed.
    RuntimePool pool = RuntimePool.get(testKit.system());
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch held = new CountDownLatch(pool.threads());
    for (int t = 0; t < pool.threads(); t++) {
      pool.submit("test-blocker", () -> {
        held.countDown();
        try {
          release.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
    }
    List<TestProbe<InferReply>> probes = new ArrayList<>();
    try {
      assertTrue(held.await(30, TimeUnit.SECONDS), "runtime threads held");
      for (int id = 1; id <= 40; id++) {
        probes.add(send(id, 1));
      }
      // the 20 refused are answered while the runtime is still held: at once, not after a wait
      for (int id = 21; id <= 40; id++) {
        InferReply reply = probes.get(id - 1).receiveMessage(Duration.ofSeconds(30));
        Failure f = assertInstanceOf(Failure.class, reply, reply::toString);
        assertEquals(ErrorCode.OVERLOADED, f.code(), f.message());
      }
    } finally {
      release.countDown();
    }
    // 8 fill the first batch (fewer only if its 300 ms delay ran out first) and 12 queue
    int overloaded = 20;
    for (int id = 1; id <= 20; id++) {
      InferReply reply = probes.get(id - 1).receiveMessage(Duration.ofSeconds(30));
      if (id > 12 && reply instanceof Failure f && f.code() == ErrorCode.OVERLOADED) {
        overloaded++;
      } else {
        assertDoubled(id, 1, reply);
      }
    }
    assertEquals(overloaded, MetricValues.refused(m, "fixed", "queue_full") - rejectedBefore);
  }
}

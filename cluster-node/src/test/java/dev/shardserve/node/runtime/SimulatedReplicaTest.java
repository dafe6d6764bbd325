package dev.shardserve.node.runtime;

import static org.awaitility.Awaitility.await;
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
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.testing.SimulatedModels;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import dev.shardserve.sharding.EntityIds;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A simulated model in a real replica (the node's timer, runtime threads, batcher, versions):
 * answers, a hot swap to a new version under load, and no CPU spent while the device computes.
 */
class SimulatedReplicaTest {
  @TempDir static Path repo;
  static ActorTestKit testKit;
  static ClusterSharding sharding;

  @BeforeAll
  static void start() throws Exception {
    SimulatedModels.write(repo.resolve("sim/1"), 3, 2_000, 0, 8, 1);
    SimulatedModels.write(repo.resolve("slow/1"), 1, 100_000, 0, 8, 1);
    testKit = ActorTestKit.create("SimulatedReplicaTest", ConfigFactory.parseString(
            "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.roles = [worker]\n"
                + "shardserve.node.repository-poll-interval = 100ms\n"
                + "shardserve.node.warmup.synthetic-runs = 1\n"
                + "shardserve.node.model-repository = \"" + repo + "\"\n")
        .withFallback(ShardServeConfig.load()));
    Cluster.get(testKit.system()).manager().tell(Join.create(Cluster.get(testKit.system()).selfMember().address()));
    WorkerNode.start(testKit.system(), NodeSettings.fromConfig(testKit.system().settings().config()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    sharding = ClusterSharding.get(testKit.system());
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  private static TestProbe<InferReply> send(String model, float... row) {
    TestProbe<InferReply> probe = testKit.createTestProbe();
    sharding.entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of(model, 0)).tell(new Infer(model,
        VersionSelector.latest(), "serving_default", Map.of("x", Tensor.ofFloats(new long[] {1, row.length}, row)),
        System.currentTimeMillis() + 30_000, probe.ref()));
    return probe;
  }

  @Test
  void answersCopyTheInput_andAHotSwapServesTheNewVersion_withoutAFailedRequest() {
    InferReply first = send("sim", 1, 2, 3).receiveMessage(Duration.ofSeconds(30));
    InferResult r = assertInstanceOf(InferResult.class, first, first::toString);
    assertEquals(1, r.version());
    assertArrayEquals(new float[] {1, 2, 3}, r.outputs().get("y").floats());

    SimulatedModels.write(repo.resolve("sim/2"), 3, 2_000, 0, 8, 1);
    List<InferReply> during = new ArrayList<>();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      InferReply reply = send("sim", 4, 5, 6).receiveMessage(Duration.ofSeconds(10));
      during.add(reply);
      return reply instanceof InferResult ok && ok.version() == 2;
    });
    for (InferReply reply : during) {
      InferResult ok = assertInstanceOf(InferResult.class, reply, reply::toString);
      assertArrayEquals(new float[] {4, 5, 6}, ok.outputs().get("y").floats());
    }
  }

  @Test
  void whileTheDeviceComputes_noThreadSpendsCpu() {
    assertInstanceOf(InferResult.class, send("slow", 1).receiveMessage(Duration.ofSeconds(30))); // loaded, warm
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long before = cpuOf(threads, "shardserve-simulated-accelerator") + cpuOf(threads, "shardserve-runtime");
    long wallStart = System.nanoTime();
    for (int i = 0; i < 5; i++) {
      assertInstanceOf(InferResult.class, send("slow", i).receiveMessage(Duration.ofSeconds(30)));
    }
    long wall = System.nanoTime() - wallStart;
    long cpu = cpuOf(threads, "shardserve-simulated-accelerator") + cpuOf(threads, "shardserve-runtime") - before;
    assertTrue(wall >= 5 * 100_000_000L, "five batches of 100 ms one after another: " + wall / 1e6 + " ms");
    // The timer and the runtime threads were parked while the device "computed" 500 ms.
    assertTrue(cpu < wall / 10, "timer and runtime threads used " + cpu / 1e6 + " ms of CPU in " + wall / 1e6
        + " ms");
  }

  private static long cpuOf(ThreadMXBean threads, String prefix) {
    long sum = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith(prefix)) {
        long c = threads.getThreadCpuTime(t.getId());
        sum += Math.max(0, c);
      }
    }
    return sum;
  }
}

package dev.shardserve.node.entity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import dev.shardserve.settings.ShardServeConfig;
import dev.shardserve.node.NodeSettings;
import dev.shardserve.node.WorkerNode;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.MetadataReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
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

class ModelEntityTest {
  @TempDir static Path repo;
  static ActorTestKit testKit;
  static ClusterSharding sharding;

  @BeforeAll
  static void start() throws Exception {
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/7"), 1f, 0f);
    Files.createDirectories(repo.resolve("broken/3"));
    Files.write(repo.resolve("broken/3/saved_model.pb"), new byte[] {9, 9, 9});
    testKit = ActorTestKit.create("ModelEntityTest", ConfigFactory.parseString(
            "akka.remote.artery.canonical.port = 0\n"
                + "akka.cluster.roles = [worker]\n"
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

  private static EntityRef<ModelProtocol.Command> entity(String model) {
    return sharding.entityRefFor(ModelProtocol.ENTITY_TYPE_KEY, EntityIds.of(model, 0));
  }

  private static long deadline() {
    return System.currentTimeMillis() + 30_000;
  }

  private static InferReply infer(String model, VersionSelector version, long deadline) {
    TestProbe<InferReply> probe = testKit.createTestProbe();
    entity(model).tell(new Infer(model, version, "serving_default",
        Map.of(LoadedModel.SOLE_INPUT, Tensor.ofFloats(new long[] {3}, 1f, 2f, 5f)), deadline, probe.ref()));
    return probe.receiveMessage(Duration.ofSeconds(30));
  }

  @Test
  void infer_loadsTheNewestVersionAndAnswersFromIt() {
    InferReply reply = infer("half_plus_two", VersionSelector.latest(), deadline());
    InferResult r = assertInstanceOf(InferResult.class, reply, reply::toString);
    assertEquals(7, r.version());
    assertArrayEquals(new float[] {1f, 2f, 5f}, r.outputs().get("y").floats());
  }

  @Test
  void infer_olderVersionThanTheLoadedOne_isVersionNotFound() {
    Failure f = assertInstanceOf(Failure.class, infer("half_plus_two", new VersionSelector.Specific(1), deadline()));
    assertEquals(ErrorCode.VERSION_NOT_FOUND, f.code());
    assertEquals("Servable not found for request: Specific(half_plus_two, 1)", f.message());
  }

  @Test
  void infer_unknownLabel_isLabelNotFound() {
    Failure f = assertInstanceOf(Failure.class, infer("half_plus_two", new VersionSelector.Label("stable"), deadline()));
    assertEquals(ErrorCode.LABEL_NOT_FOUND, f.code());
  }

  @Test
  void infer_expiredDeadline_isNeverRun() {
    Failure f = assertInstanceOf(Failure.class, infer("half_plus_two", VersionSelector.latest(), 1L));
    assertEquals(ErrorCode.DEADLINE_EXCEEDED, f.code());
  }

  @Test
  void infer_modelWithoutFolder_isModelNotFound() {
    Failure f = assertInstanceOf(Failure.class, infer("nothing_here", VersionSelector.latest(), deadline()));
    assertEquals(ErrorCode.MODEL_NOT_FOUND, f.code());
    assertEquals("Servable not found for request: Latest(nothing_here)", f.message());
  }

  @Test
  void status_andMetadata_ofAServingModel() {
    infer("half_plus_two", VersionSelector.latest(), deadline());
    TestProbe<StatusReply> status = testKit.createTestProbe();
    entity("half_plus_two").tell(new GetStatus("half_plus_two", VersionSelector.latest(), status.ref()));
    ModelStatus s = assertInstanceOf(ModelStatus.class, status.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(VersionState.AVAILABLE, s.versions().get(0).state());
    assertEquals(7, s.versions().get(0).version());
    TestProbe<MetadataReply> meta = testKit.createTestProbe();
    entity("half_plus_two").tell(new GetMetadata("half_plus_two", VersionSelector.latest(), meta.ref()));
    ModelMetadata m = assertInstanceOf(ModelMetadata.class, meta.receiveMessage(Duration.ofSeconds(10)));
    assertTrue(m.signatures().containsKey("serving_default"));
  }

  @Test
  void corruptModel_reportsItsErrorInStatus_andFailsRequests() {
    Failure f = assertInstanceOf(Failure.class, infer("broken", VersionSelector.latest(), deadline()));
    assertEquals(ErrorCode.MODEL_LOAD_FAILED, f.code());
    TestProbe<StatusReply> status = testKit.createTestProbe();
    entity("broken").tell(new GetStatus("broken", VersionSelector.latest(), status.ref()));
    ModelStatus s = assertInstanceOf(ModelStatus.class, status.receiveMessage(Duration.ofSeconds(10)));
    assertEquals(VersionState.END, s.versions().get(0).state());
    assertEquals(ErrorCode.MODEL_LOAD_FAILED, s.versions().get(0).errorCode());
    assertTrue(s.versions().get(0).errorMessage().contains("broken"), s.versions().get(0).errorMessage());
  }
}

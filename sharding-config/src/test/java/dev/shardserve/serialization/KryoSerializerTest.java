package dev.shardserve.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializers;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.settings.ShardServeConfig;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Command;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KryoSerializerTest {
  static ActorTestKit testKit;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("KryoSerializerTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0").withFallback(ShardServeConfig.load()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** One sample of every message; the permitted-subclass lists below check none is missing. */
  static List<Object> samples() {
    TestProbe<ModelProtocol.InferReply> inferProbe = testKit.createTestProbe();
    TestProbe<ModelProtocol.StatusReply> statusProbe = testKit.createTestProbe();
    TestProbe<ModelProtocol.MetadataReply> metaProbe = testKit.createTestProbe();
    Tensor floats = Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6);
    Tensor strings = Tensor.ofStrings(new long[] {2},
        List.of("a".getBytes(StandardCharsets.UTF_8), new byte[] {0, (byte) 0xff}));
    Map<String, Feature> example = Map.of(
        "x", new Feature.FloatList(new float[] {1.5f}),
        "id", new Feature.Int64List(new long[] {7, 8}),
        "name", new Feature.BytesList(List.of("n".getBytes(StandardCharsets.UTF_8))));
    TensorInfo info = new TensorInfo("x:0", "DT_FLOAT", new long[] {-1, 1}, false);
    return List.of(
        new Infer("half_plus_two", VersionSelector.latest(), "serving_default",
            Map.of("x", floats, "s", strings), 1_700_000_000_000L, inferProbe.ref()),
        new Infer("m", new VersionSelector.Specific(123), "sig", Map.of(), 1L, inferProbe.ref()),
        new InferExamples("m", new VersionSelector.Label("stable"), "classify_x_to_y", ExampleMethod.CLASSIFY,
            List.of(example, Map.of()), Map.of("c", new Feature.FloatList(new float[] {2f})), 5L, inferProbe.ref()),
        new InferExamples("m", VersionSelector.latest(), "r", ExampleMethod.REGRESS, List.of(), Map.of(), 5L,
            inferProbe.ref()),
        new GetStatus("m", VersionSelector.latest(), statusProbe.ref()),
        new GetMetadata("m", new VersionSelector.Specific(3), metaProbe.ref()),
        new InferResult(123, Map.of("y", floats)),
        new Failure(ErrorCode.INVALID_INPUT, "bad input 'x'"),
        new ModelStatus(List.of(
            new VersionStatus(1, VersionState.AVAILABLE, null, ""),
            new VersionStatus(2, VersionState.END, ErrorCode.MODEL_LOAD_FAILED, "corrupt")),
            new java.util.TreeSet<>(Set.of(1L, 2L, 3L))),
        new ModelMetadata(7, Map.of("serving_default",
            new SignatureInfo("tensorflow/serving/predict", Map.of("x", info), Map.of("y", info)))),
        new NodeModels(Set.of("a", "b")),
        new dev.shardserve.desired.DesiredState(false, new java.util.TreeMap<>(Map.of(
            "a", dev.shardserve.desired.ModelSpec.DEFAULT,
            "b", new dev.shardserve.desired.ModelSpec("/srv/b", new dev.shardserve.desired.VersionPolicy.Specific(
                new java.util.TreeSet<>(Set.of(3L, 4L))), new java.util.TreeMap<>(Map.of("stable", 3L)), 1, true, false),
            "c", dev.shardserve.desired.ModelSpec.DEFAULT.withPolicy(dev.shardserve.desired.VersionPolicy.All.INSTANCE)
                .withReplicas(3)))),
        dev.shardserve.desired.ModelSpec.DEFAULT);
  }

  @Test
  void everyMessage_roundTripsThroughKryo() {
    for (Object msg : samples()) {
      Serialization serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
      assertEquals(KryoSerializer.class, serialization.findSerializerFor(msg).getClass(), msg.getClass().getName());
      testKit.serializationTestKit().verifySerialization(msg, false);
    }
  }

  @Test
  void everyMessage_roundTripsThroughTheByteBufferPath_andBothPathsAgree() throws NotSerializableException {
    KryoSerializer serializer = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(Infer.class);
    for (Object msg : samples()) {
      String manifest = Serializers.manifestFor(serializer, msg);
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      serializer.toBinary(msg, buf);
      buf.flip();
      byte[] viaBuffer = new byte[buf.remaining()];
      buf.duplicate().get(viaBuffer);
      assertEquals(msg, serializer.fromBinary(buf, manifest));
      byte[] viaArray = serializer.toBinary(msg);
      assertTrue(Arrays.equals(viaArray, viaBuffer), "same bytes from both paths for " + msg.getClass());
      assertEquals(msg, serializer.fromBinary(ByteBuffer.wrap(viaArray), manifest));
    }
  }

  @Test
  void aOneMebibyteTensor_roundTrips() {
    float[] values = new float[256 * 1024];
    for (int i = 0; i < values.length; i++) {
      values[i] = i * 0.5f;
    }
    Object msg = new InferResult(1, Map.of("y", Tensor.ofFloats(new long[] {values.length}, values)));
    testKit.serializationTestKit().verifySerialization(msg, false);
  }

  @Test
  void everyProtocolClass_isRegistered() {
    Set<Class<?>> expected = new HashSet<>();
    for (Class<?> sealedType : List.of(
        Command.class, ModelProtocol.InferReply.class, ModelProtocol.StatusReply.class,
        ModelProtocol.MetadataReply.class, VersionSelector.class, Feature.class)) {
      for (Class<?> c : sealedType.getPermittedSubclasses()) {
        if (c != Command.Internal.class) {
          expected.add(c);
        }
      }
    }
    List<Class<?>> missing = new ArrayList<>();
    for (Class<?> c : expected) {
      if (!KryoRegistrations.isRegistered(c)) {
        missing.add(c);
      }
    }
    assertEquals(List.of(), missing);
    Set<Class<?>> sampled = new HashSet<>();
    for (Object s : samples()) {
      sampled.add(s.getClass());
    }
    for (Class<?> c : expected) {
      if (Command.class.isAssignableFrom(c) || ModelProtocol.InferReply.class.isAssignableFrom(c)
          || ModelProtocol.StatusReply.class.isAssignableFrom(c)
          || ModelProtocol.MetadataReply.class.isAssignableFrom(c)) {
        assertTrue(sampled.contains(c), "no round-trip sample for " + c.getName());
      }
    }
  }

  @Test
  void unknownManifest_isNotSerializable() throws Exception {
    KryoSerializer serializer = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(Infer.class);
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[] {1}, "NoSuchThing"));
    assertThrows(NotSerializableException.class, () -> serializer.fromBinary(new byte[] {1, 2}, "Infer"));
  }
}

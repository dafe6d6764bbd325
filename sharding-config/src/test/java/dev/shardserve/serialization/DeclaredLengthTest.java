package dev.shardserve.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.SerializationExtension;
import com.esotericsoftware.kryo.io.Output;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every reader checks a declared length against the bytes left before it allocates: a frame of a
 * few bytes that declares a huge array, string or tensor is refused with an exception naming the
 * numbers, never an {@code OutOfMemoryError} or a long stall.
 */
class DeclaredLengthTest {
  /** 2^31 - 1 as an unsigned varint: the largest length an int can declare. */
  static final byte[] HUGE = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07};
  static final Pattern REFUSAL = Pattern.compile(
      "([A-Za-z0-9 ]+?(?: of shape \\[[0-9, ]*\\])?): declared (\\d+) element\\(s\\) of at least \\d+ byte\\(s\\) "
          + "\\((\\d+) bytes\\), but only (\\d+) bytes are left in the message");

  static ActorTestKit testKit;
  static KryoSerializer serializer;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("DeclaredLengthTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0").withFallback(ShardServeConfig.load()));
    serializer = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(InferResult.class);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void aThirtyByteFrame_declaringATwoGibibyteTensor_isRefusedNamingTheNumbers() {
    Output out = new Output(64);
    out.writeVarLong(1, true); // version
    out.writeVarInt(1, true); // one output
    out.writeString("y");
    out.writeVarInt(DType.FLOAT32.wire(), true);
    out.writeVarInt(1, true); // rank 1
    out.writeVarLong(536_870_911L, true); // 2^29 - 1 floats: 2 GiB
    out.writeVarInt(Integer.MAX_VALUE, true); // its byte block
    out.writeBytes(new byte[30 - out.position()]);
    byte[] frame = out.toBytes();
    assertEquals(30, frame.length);
    for (boolean viaBuffer : List.of(false, true)) {
      NotSerializableException e = assertThrows(NotSerializableException.class, () -> {
        Object ignored = viaBuffer ? serializer.fromBinary(ByteBuffer.wrap(frame), "InferResult")
            : serializer.fromBinary(frame, "InferResult");
      });
      assertTrue(e.getMessage().contains("FLOAT32 tensor data: declared 2147483647 element(s)")
          && e.getMessage().contains("only 14 bytes are left"), e.getMessage());
    }
  }

  @Test
  void aShapeWhoseDataDoesNotMatch_isRefusedBeforeTheBytesAreRead() {
    Output out = new Output(64);
    out.writeVarLong(1, true);
    out.writeVarInt(1, true);
    out.writeString("y");
    out.writeVarInt(DType.FLOAT32.wire(), true);
    out.writeVarInt(1, true);
    out.writeVarLong(3, true); // 3 floats = 12 bytes ...
    out.writeVarInt(8, true); // ... but 8 declared
    out.writeBytes(new byte[8]);
    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(out.toBytes(), "InferResult"));
    assertTrue(e.getMessage().contains("needs 12 bytes, the message declares 8"), e.getMessage());
  }

  @Test
  void aHugeString_isRefusedBeforeItsCharactersAreAllocated() {
    Output out = new Output(64);
    out.writeVarIntFlag(true, Integer.MAX_VALUE, true); // a UTF-8 string of 2^31 - 2 characters
    out.writeBytes(new byte[10]);
    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(out.toBytes(), "GetStatus")); // its first field is the model name
    assertTrue(e.getMessage().contains("model name: declared 2147483646 element(s)")
        && e.getMessage().contains("only 10 bytes are left"), e.getMessage());
  }

  /**
   * Every length of every reader: in each golden sample, each byte in turn is replaced by a varint
   * declaring 2^31 - 1. Decoding must fail with {@link NotSerializableException} or give some
   * value, never anything else, and every length field of every reader must have been refused by
   * name at least once.
   */
  @Test
  void everyReader_refusesAHugeDeclaredLength_atEveryPosition() throws Exception {
    Map<String, Object> samples = GoldenSamples.all(ActorRefResolver.get(testKit.system()));
    Set<String> refused = new TreeSet<>();
    Map<String, Integer> refusalsPerManifest = new TreeMap<>();
    long start = System.nanoTime();
    for (Map.Entry<String, Object> sample : samples.entrySet()) {
      String manifest = serializer.manifest(sample.getValue());
      byte[] bytes = serializer.toBinary(sample.getValue());
      for (int i = 0; i < bytes.length; i++) {
        byte[] mutated = new byte[bytes.length - 1 + HUGE.length];
        System.arraycopy(bytes, 0, mutated, 0, i);
        System.arraycopy(HUGE, 0, mutated, i, HUGE.length);
        System.arraycopy(bytes, i + 1, mutated, i + HUGE.length, bytes.length - i - 1);
        try {
          serializer.fromBinary(mutated, manifest);
        } catch (NotSerializableException e) {
          Matcher m = REFUSAL.matcher(e.getMessage());
          if (m.find()) {
            refused.add(m.group(1).trim().replaceAll(" of shape .*", ""));
            refusalsPerManifest.merge(manifest.replaceAll("@[0-9]+$", ""), 1, Integer::sum); // any format
            assertTrue(Long.parseLong(m.group(3)) > Long.parseLong(m.group(4)), e.getMessage());
          }
        }
      }
    }
    assertEquals(new TreeSet<>(GoldenBytesTest.PREVIOUS_RELEASE_MANIFESTS), refusalsPerManifest.keySet(),
        "every message type refused at least one huge length");
    Set<String> lengths = new TreeSet<>(Set.of(
        // tensors and their shapes
        "tensor map", "tensor name", "tensor shape", "STRING tensor", "STRING tensor element",
        "FLOAT32 tensor data", "INT32 tensor data",
        // strings and refs
        "model name", "signature name", "actor ref", "failure message", "version label",
        // examples
        "examples", "feature map", "feature name", "float feature", "int64 feature", "bytes feature",
        "bytes feature value",
        // status and metadata
        "version statuses", "version error message", "versions on disk", "signatures", "signature key",
        "signature method name", "tensor infos", "tensor info key", "tensor info name", "tensor info dtype",
        "tensor info shape",
        // catalog and desired state
        "node models", "node replicas", "replica id", "desired state models", "base path", "labels", "label",
        "specific versions", "allowed batch sizes"));
    lengths.removeAll(refused);
    assertEquals(Set.of(), lengths, "length fields never refused; refused: " + refused);
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 60_000, "mutated frames took " + millis + " ms to refuse");
  }

  @Test
  void anUnknownExampleMethod_isRefused_neverReadAsRegress() throws Exception {
    akka.actor.typed.ActorRef<dev.shardserve.protocol.ModelProtocol.InferReply> replyTo =
        testKit.<dev.shardserve.protocol.ModelProtocol.InferReply>createTestProbe().ref();
    byte[] classify = serializer.toBinary(new InferExamples("m", VersionSelector.latest(), "s",
        ExampleMethod.CLASSIFY, List.of(), Map.of(), 1L, replyTo));
    byte[] regress = serializer.toBinary(new InferExamples("m", VersionSelector.latest(), "s",
        ExampleMethod.REGRESS, List.of(), Map.of(), 1L, replyTo));
    int method = 0;
    while (classify[method] == regress[method]) {
      method++;
    }
    assertEquals(1, classify[method], "CLASSIFY travels as 1");
    assertEquals(2, regress[method], "REGRESS travels as 2");
    classify[method] = 3;
    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(classify, "InferExamples"));
    assertTrue(e.getMessage().contains("unknown example method number 3"), e.getMessage());
  }
}

package dev.shardserve.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.SerializationExtension;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.channel.ChannelProtocol.Credit;
import dev.shardserve.channel.ChannelProtocol.Open;
import dev.shardserve.channel.ChannelProtocol.Opened;
import dev.shardserve.channel.ChannelProtocol.ReplyFrame;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.settings.ShardServeConfig;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Akka serializer of the channel messages: every message is bound to it and round-trips on
 * both of its paths (arrays and Artery's buffers), and a short or hostile handshake is refused
 * with a {@link NotSerializableException} naming the field, leaving the buffer's byte order as it
 * was.
 */
class FrameSerializerTest {
  static ActorTestKit testKit;
  static FrameSerializer serializer;
  static Map<String, Object> samples;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("FrameSerializerTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0").withFallback(ShardServeConfig.load()));
    serializer = (FrameSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(Credit.class);
    samples = FrameSamples.all(ActorRefResolver.get(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void everyChannelMessage_isBoundToTheFrameSerializer_withItsFormatInTheManifest() throws Exception {
    for (Class<?> type : List.of(Open.class, Opened.class, RequestFrame.class, ReplyFrame.class, Credit.class)) {
      assertEquals(FrameSerializer.IDENTIFIER, SerializationExtension.get(Adapter.toClassic(testKit.system()))
          .serializerFor(type).identifier(), type.getName());
    }
    assertEquals("Open@1", serializer.manifest(samples.get("Open@1--format-1")));
    assertEquals("ReplyFrame@1", serializer.manifest(samples.get("ReplyFrame@1--empty")));
  }

  @Test
  void handshakesAndFrames_roundTripOnBothPaths() throws Exception {
    for (Object message : samples.values()) {
      if (message instanceof RequestFrame) {
        continue; // deadlines are rebased on the system ticker: FrameGoldenBytesTest checks those
      }
      byte[] bytes = serializer.toBinary(message);
      assertEquals(message, serializer.fromBinary(bytes, serializer.manifest(message)));
      ByteBuffer buf = ByteBuffer.allocate(bytes.length);
      serializer.toBinary(message, buf);
      assertEquals(bytes.length, buf.position(), "both paths write the same length");
      assertEquals(message, serializer.fromBinary(buf.flip(), serializer.manifest(message)));
    }
  }

  @Test
  void aHandshakeWithoutItsActorRef_isRefusedNamingIt() {
    for (String manifest : List.of("Open@1", "Opened@1")) {
      ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
      b.putLong(1).putInt(1).putInt(-1);
      NotSerializableException e = assertThrows(NotSerializableException.class,
          () -> serializer.fromBinary(b.array(), manifest));
      assertTrue(e.getMessage().contains("actor ref: missing"), e.getMessage());
    }
  }

  @Test
  void everyTruncatedHandshake_isRefusedNamingTheField_andKeepsTheBufferOrder() throws Exception {
    for (String sample : List.of("Open@1--format-1", "Opened@1--format-1")) {
      Object message = samples.get(sample);
      byte[] bytes = serializer.toBinary(message);
      for (int n = 0; n < bytes.length; n++) {
        ByteBuffer buf = ByteBuffer.wrap(Arrays.copyOf(bytes, n)).order(ByteOrder.BIG_ENDIAN);
        NotSerializableException e = assertThrows(NotSerializableException.class,
            () -> serializer.fromBinary(buf, serializer.manifest(message)), sample + " cut to " + n);
        assertTrue(e.getMessage().matches("channel message '[A-Za-z]+@1': (channel id|max format|format|"
            + "channel actor ref|inbox actor ref): .*"), e.getMessage());
        assertEquals(ByteOrder.BIG_ENDIAN, buf.order(), sample + " cut to " + n);
      }
    }
  }

  @Test
  void aHostileFrame_isRefusedAsNotSerializable_withTheCodecsReason() {
    ByteBuffer b = ByteBuffer.allocate(17).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 1).putLong(1).putInt(0).putInt(Integer.MAX_VALUE);
    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(b.array(), "RequestFrame@1"));
    assertTrue(e.getMessage().startsWith("channel message 'RequestFrame@1': request count: declared 2147483647"),
        e.getMessage());
    assertTrue(e.getCause() instanceof IllegalArgumentException);
  }

  @Test
  void aRefThatIsNotAnActorPath_decodesToDeadLetters_neverThrowsSomethingElse() throws Exception {
    ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(1).putInt(1);
    FrameCodec.putString(b, "not a path \u0000 ::/#");
    Object open = serializer.fromBinary(Arrays.copyOf(b.array(), b.position()), "Open@1");
    assertTrue(((Open) open).channel().path().toString().contains("deadLetters"), open.toString());
  }
}

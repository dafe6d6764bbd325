package dev.shardserve.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.SerializationExtension;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.channel.ChannelProtocol.Credit;
import dev.shardserve.channel.ChannelProtocol.ReplyFrame;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.settings.ShardServeConfig;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of the channel messages' readers: an input is a manifest
 * ({@code RequestFrame@1}), a newline, and the bytes Akka would hand {@link FrameSerializer} with
 * it (the seeds are the channel golden samples, written so). The serializer must refuse with a
 * {@link NotSerializableException} or decode; {@link FrameCodec#read} must refuse with an
 * {@link IllegalArgumentException} or decode to a frame whose {@link FrameCodec#size} is the
 * bytes it writes and which reads back to itself. Any other exception, an error or a hang is a
 * finding.
 */
class FrameFuzzTest {
  static final long NOW = 1_000_000_000L;
  static final Map<String, Class<?>> FRAMES = Map.of("RequestFrame@1", RequestFrame.class,
      "ReplyFrame@1", ReplyFrame.class, "Credit@1", Credit.class);

  static ActorTestKit testKit;
  static FrameSerializer serializer;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("FrameFuzzTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0\nakka.loglevel = ERROR").withFallback(ShardServeConfig.load()));
    serializer = (FrameSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(Credit.class);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @FuzzTest(maxDuration = "10s")
  void channelMessage(byte[] input) {
    int newline = -1;
    for (int i = 0; i < input.length && i <= 64 && newline < 0; i++) {
      newline = input[i] == '\n' ? i : -1;
    }
    if (newline < 0) {
      return;
    }
    String manifest = new String(input, 0, newline, StandardCharsets.UTF_8);
    byte[] bytes = Arrays.copyOfRange(input, newline + 1, input.length);
    try {
      serializer.fromBinary(ByteBuffer.wrap(bytes), manifest);
    } catch (NotSerializableException e) {
      // refused: fine
    } catch (RuntimeException e) {
      fail("'" + manifest + "' threw " + e, e);
    }
    Class<?> type = FRAMES.get(manifest);
    if (type == null) {
      return;
    }
    Object frame;
    try {
      frame = FrameCodec.read(type, ByteBuffer.wrap(bytes), NOW);
    } catch (IllegalArgumentException e) {
      return; // refused: fine
    }
    int size;
    try {
      size = FrameCodec.size(frame);
    } catch (IllegalArgumentException e) {
      fail("a decoded " + manifest + " cannot be sized: " + e.getMessage(), e);
      return;
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    FrameCodec.write(frame, out);
    assertEquals(size, out.position(), "size() is not the bytes written");
    assertEquals(frame, FrameCodec.read(type, out.flip(), NOW), "a decoded frame does not read back to itself");
  }
}

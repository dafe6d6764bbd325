package dev.shardserve.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.SerializationExtension;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.channel.ChannelProtocol.Request;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.concurrent.Ticker;
import dev.shardserve.settings.ShardServeConfig;
import java.io.NotSerializableException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every channel golden sample ({@code src/test/resources/golden/channel/<release>/}) is read with
 * today's {@link FrameSerializer} and decodes to the value {@link FrameSamples} records for it,
 * and today's writer still writes those bytes: during a rolling upgrade a gateway and a node of
 * different releases that agreed on format 1 read each other's frames.
 */
class FrameGoldenBytesTest {
  static ActorTestKit testKit;
  static FrameSerializer serializer;
  static Map<String, Object> expected;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("FrameGoldenBytesTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0").withFallback(ShardServeConfig.load()));
    serializer = (FrameSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(RequestFrame.class);
    expected = FrameSamples.all(ActorRefResolver.get(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static Path channelRoot() throws URISyntaxException {
    return Path.of(FrameGoldenBytesTest.class.getResource("/golden/channel").toURI());
  }

  static List<Path> releases() throws Exception {
    try (Stream<Path> s = Files.list(channelRoot())) {
      return s.filter(Files::isDirectory).sorted().toList();
    }
  }

  static List<Path> samples(Path release) throws Exception {
    try (Stream<Path> s = Files.list(release)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList();
    }
  }

  /** Every sample of every release. */
  static List<Path> allSamples() throws Exception {
    List<Path> all = new ArrayList<>();
    for (Path release : releases()) {
      all.addAll(samples(release));
    }
    return all;
  }

  static String caseOf(Path sample) {
    String name = sample.getFileName().toString();
    return name.substring(0, name.length() - ".bin".length());
  }

  static String manifestOf(Path sample) {
    String c = caseOf(sample);
    return c.substring(0, c.indexOf("--"));
  }

  static String where(Path sample) {
    return sample.getParent().getFileName() + "/" + sample.getFileName();
  }

  /**
   * Decodes with the serializer, whose reader rebases deadlines on the system ticker: the
   * deadlines must lie within the budget from the moments before and after the read, and the
   * rest of the value must equal the recorded one.
   */
  private static void assertDecodes(Object want, Path sample, boolean viaBuffer) throws Exception {
    byte[] bytes = Files.readAllBytes(sample);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
    long before = Ticker.SYSTEM.nanos();
    Object got = viaBuffer ? serializer.fromBinary(buf, manifestOf(sample))
        : serializer.fromBinary(bytes, manifestOf(sample));
    long after = Ticker.SYSTEM.nanos();
    if (viaBuffer) {
      assertEquals(0, buf.remaining(), where(sample) + ": bytes left unread");
      assertEquals(ByteOrder.BIG_ENDIAN, buf.order(), where(sample) + ": the buffer's byte order is restored");
    }
    if (got instanceof RequestFrame f && !f.requests().isEmpty()) {
      Request first = ((RequestFrame) FrameSamples.rebased(want, 0)).requests().get(0);
      long readAt = f.requests().get(0).call().deadlineNanos() - first.call().deadlineNanos();
      assertTrue(readAt >= before && readAt <= after, where(sample) + ": deadline rebased on " + readAt
          + ", not between " + before + " and " + after);
      want = FrameSamples.rebased(want, readAt);
    }
    assertEquals(want, got, where(sample));
  }

  @Test
  void everySampleOfEveryRelease_decodesToItsRecordedValue_onBothReadPaths() throws Exception {
    List<String> read = new ArrayList<>();
    for (Path sample : allSamples()) {
      Object want = expected.get(caseOf(sample));
      assertNotNull(want, "no recorded value for " + where(sample));
      assertDecodes(want, sample, false);
      assertDecodes(want, sample, true);
      read.add(where(sample));
    }
    assertTrue(read.size() >= expected.size(), "read " + read);
  }

  @Test
  void todaysWriter_writesTheSameBytes_onBothWritePaths() throws Exception {
    // Format 1 is what this release writes: byte for byte what the samples hold (every collection
    // in the samples has a fixed order).
    for (Path sample : allSamples()) {
      Object value = expected.get(caseOf(sample));
      String old = HexFormat.of().formatHex(Files.readAllBytes(sample));
      assertEquals(manifestOf(sample), serializer.manifest(value), where(sample));
      assertEquals(old, HexFormat.of().formatHex(serializer.toBinary(value)), where(sample));
      ByteBuffer buf = ByteBuffer.allocate(old.length() / 2 + 16).order(ByteOrder.BIG_ENDIAN);
      buf.position(3);
      serializer.toBinary(value, buf);
      assertEquals(3 + old.length() / 2, buf.position(), where(sample));
      assertEquals(ByteOrder.BIG_ENDIAN, buf.order(), where(sample));
      byte[] written = new byte[old.length() / 2];
      buf.position(3);
      buf.get(written);
      assertEquals(old, HexFormat.of().formatHex(written), where(sample));
    }
  }

  @Test
  void everyChannelMessageType_hasSamples_andEverySampleEntryHasAFile() throws Exception {
    Set<String> types = new TreeSet<>();
    for (Class<?> c : ChannelProtocol.ToInbox.class.getPermittedSubclasses()) {
      types.add(c.getSimpleName() + "@" + ChannelProtocol.FORMAT);
    }
    for (Class<?> c : ChannelProtocol.ToChannel.class.getPermittedSubclasses()) {
      types.add(c.getSimpleName() + "@" + ChannelProtocol.FORMAT);
    }
    Set<String> sampledTypes = new TreeSet<>();
    Set<String> cases = new TreeSet<>();
    for (Path sample : allSamples()) {
      sampledTypes.add(manifestOf(sample));
      cases.add(caseOf(sample));
    }
    assertEquals(types, sampledTypes, "add samples to FrameSamples and write them with FrameGoldenWriter");
    assertEquals(new TreeSet<>(expected.keySet()), cases, "every FrameSamples entry has a file, and only those");
  }

  @Test
  void goldenFiles_areNeverEmpty_andNamedAfterAChannelManifest() throws Exception {
    assertFalse(releases().isEmpty());
    for (Path release : releases()) {
      assertFalse(samples(release).isEmpty(), release + " holds no samples");
      for (Path sample : samples(release)) {
        assertTrue(Files.size(sample) > 0, sample.toString());
        assertTrue(manifestOf(sample).matches("(Open|Opened|RequestFrame|ReplyFrame|Credit)@[1-9][0-9]*"),
            sample.toString());
      }
    }
  }

  @Test
  void aFutureFormat_isRefusedWithItsNumber_neverDecoded() throws Exception {
    Path credit = releases().get(0).resolve("Credit@1--zero.bin");
    byte[] bytes = Files.readAllBytes(credit);
    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(bytes, "Credit@2"));
    assertTrue(e.getMessage().contains("format 2 is not known") && e.getMessage().contains("reads format 1"),
        e.getMessage());
    for (String malformed : List.of("Credit", "Credit@", "Credit@x", "NoSuchFrame@1", "")) {
      assertThrows(NotSerializableException.class, () -> serializer.fromBinary(bytes, malformed), malformed);
    }
    // The format byte inside a frame is checked too.
    byte[] future = bytes.clone();
    future[0] = 2;
    e = assertThrows(NotSerializableException.class, () -> serializer.fromBinary(future, "Credit@1"));
    assertTrue(e.getMessage().contains("channel frame format 2 is not known"), e.getMessage());
  }
}

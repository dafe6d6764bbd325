package dev.shardserve.serialization;

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
import dev.shardserve.settings.ShardServeConfig;
import java.io.NotSerializableException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every golden sample of every release ({@code src/test/resources/golden/<release>/}) is read
 * with today's code and decodes to the value {@link GoldenSamples} records for it: a node of
 * this release reads what a node of an earlier one sent (rolling upgrades) or stored on disk
 * (the durable desired state).
 */
class GoldenBytesTest {
  /** The previous release: every message type it had must have samples in its folder. */
  static final String PREVIOUS_RELEASE = "1970aee";
  static final Set<String> PREVIOUS_RELEASE_MANIFESTS = Set.of("Infer", "InferExamples", "GetStatus", "GetMetadata",
      "InferResult", "Failure", "ModelStatus", "ModelMetadata", "NodeModels", "DesiredState", "ModelSpec");

  /** The folder of the channel frames' samples ({@code dev.shardserve.channel.FrameGoldenBytesTest}). */
  static final String CHANNEL = "channel";

  static ActorTestKit testKit;
  static KryoSerializer serializer;
  static Map<String, Object> expected;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("GoldenBytesTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0").withFallback(ShardServeConfig.load()));
    serializer = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerFor(dev.shardserve.protocol.ModelProtocol.Infer.class);
    expected = GoldenSamples.all(ActorRefResolver.get(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static Path goldenRoot() throws URISyntaxException {
    return Path.of(GoldenBytesTest.class.getResource("/golden").toURI());
  }

  /** The Kryo samples' folders: every folder but {@link #CHANNEL} (the channel frames', read by their own test). */
  static List<Path> releases() throws Exception {
    try (Stream<Path> s = Files.list(goldenRoot())) {
      return s.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().equals(CHANNEL)).sorted().toList();
    }
  }

  static List<Path> samples(Path release) throws Exception {
    try (Stream<Path> s = Files.list(release)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".bin")).sorted().toList();
    }
  }

  static String caseOf(Path sample) {
    String name = sample.getFileName().toString();
    return name.substring(0, name.length() - ".bin".length());
  }

  static String manifestOf(Path sample) {
    String c = caseOf(sample);
    return c.substring(0, c.indexOf("--"));
  }

  @Test
  void everySampleOfEveryRelease_decodesToItsRecordedValue_onBothReadPaths() throws Exception {
    List<String> read = new ArrayList<>();
    for (Path release : releases()) {
      for (Path sample : samples(release)) {
        Object want = expected.get(caseOf(sample));
        assertNotNull(want, "no recorded value for " + release.getFileName() + "/" + sample.getFileName());
        byte[] bytes = Files.readAllBytes(sample);
        String where = release.getFileName() + "/" + sample.getFileName();
        assertEquals(want, serializer.fromBinary(bytes, manifestOf(sample)), where);
        assertEquals(want, serializer.fromBinary(ByteBuffer.wrap(bytes), manifestOf(sample)), where);
        read.add(where);
      }
    }
    assertTrue(read.size() >= 2 * expected.size(), "read " + read);
  }

  @Test
  void thePreviousRelease_hasSamplesOfEveryMessageItHad() throws Exception {
    Set<String> manifests = new TreeSet<>();
    for (Path sample : samples(goldenRoot().resolve(PREVIOUS_RELEASE))) {
      manifests.add(manifestOf(sample));
    }
    assertEquals(new TreeSet<>(PREVIOUS_RELEASE_MANIFESTS), manifests);
  }

  @Test
  void everyRegisteredWireMessage_hasGoldenSamples() throws Exception {
    Set<String> sampled = new TreeSet<>();
    for (Path release : releases()) {
      for (Path sample : samples(release)) {
        sampled.add(manifestOf(sample));
      }
    }
    List<String> missing = new ArrayList<>();
    for (KryoRegistrations.Registration r : KryoRegistrations.ALL) {
      if (WireMessage.class.isAssignableFrom(r.type()) && !sampled.contains(r.manifest())) {
        missing.add(r.manifest());
      }
    }
    assertEquals(List.of(), missing, "add samples to GoldenSamples and write them with GoldenWriter");
  }

  /** Samples whose collections have a fixed order (sorted, or at most one element): same bytes. */
  static final Set<String> ORDER_FREE = Set.of("Infer--label-no-inputs", "InferExamples--regress",
      "GetStatus--latest", "GetStatus--specific", "GetMetadata--label", "InferResult--no-outputs",
      "ModelStatus--every-state", "ModelStatus--empty", "NodeModels--models-only", "DesiredState--three-models",
      "DesiredState--initial", "ModelSpec--default", "ModelSpec--custom");

  @Test
  void thisRelease_writesThePreviousReleasesLayout_soThatItReadsThisOne() throws Exception {
    // Format 1 everywhere: during a rolling upgrade the previous release reads this one's messages.
    // Hash-ordered maps and sets may list their entries in another order: same length then.
    for (Path sample : samples(goldenRoot().resolve(PREVIOUS_RELEASE))) {
      Object value = expected.get(caseOf(sample));
      byte[] old = Files.readAllBytes(sample);
      byte[] now = serializer.toBinary(value);
      assertEquals(manifestOf(sample), serializer.manifest(value));
      if (ORDER_FREE.contains(caseOf(sample)) || caseOf(sample).startsWith("Failure--")) {
        assertEquals(java.util.HexFormat.of().formatHex(old), java.util.HexFormat.of().formatHex(now),
            caseOf(sample));
      } else {
        assertEquals(old.length, now.length, caseOf(sample));
      }
    }
  }

  @Test
  void aModelsDevice_isWrittenInFormat2_onlyWhenItIsNotAny_andReadBack() throws Exception {
    for (Map.Entry<String, Object> e : expected.entrySet()) {
      String manifest = e.getKey().substring(0, e.getKey().indexOf("--"));
      assertEquals(manifest, serializer.manifest(e.getValue()), e.getKey());
      byte[] bytes = serializer.toBinary(e.getValue());
      assertEquals(e.getValue(), serializer.fromBinary(bytes, manifest), e.getKey());
    }
    Object gpu = expected.get("ModelSpec@2--gpu");
    assertEquals("ModelSpec@2", serializer.manifest(gpu));
    assertEquals("ModelSpec", serializer.manifest(((dev.shardserve.desired.ModelSpec) gpu)
        .withDevice(dev.shardserve.desired.Device.ANY)));
    // a format-2 layout read as format 1 (what the previous release would try) is refused or differs
    byte[] two = serializer.toBinary(gpu);
    Object misread;
    try {
      misread = serializer.fromBinary(two, "ModelSpec");
    } catch (NotSerializableException refused) {
      misread = null;
    }
    assertTrue(!gpu.equals(misread));
    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(two, "ModelSpec@3"));
    assertTrue(e.getMessage().contains("ModelSpec in format 3") && e.getMessage().contains("formats 1..2"),
        e.getMessage());
  }

  @Test
  void aFutureFormat_isRefusedWithItsNumber_neverDecoded() throws Exception {
    byte[] bytes = Files.readAllBytes(goldenRoot().resolve(PREVIOUS_RELEASE).resolve("Failure--internal.bin"));
    NotSerializableException e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(bytes, "Failure@2"));
    assertTrue(e.getMessage().contains("Failure in format 2") && e.getMessage().contains("formats 1..1"),
        e.getMessage());
    e = assertThrows(NotSerializableException.class,
        () -> serializer.fromBinary(ByteBuffer.wrap(bytes), "DesiredState@7"));
    assertTrue(e.getMessage().contains("DesiredState in format 7"), e.getMessage());
    for (String malformed : List.of("Failure@1", "Failure@x", "Failure@", "NoSuchType@2")) {
      assertThrows(NotSerializableException.class, () -> serializer.fromBinary(bytes, malformed), malformed);
    }
  }

  @Test
  void goldenFiles_areNeverEmpty_andNamedAfterARegisteredManifest() throws Exception {
    for (Path release : releases()) {
      assertFalse(samples(release).isEmpty(), release + " holds no samples");
      for (Path sample : samples(release)) {
        assertTrue(Files.size(sample) > 0, sample.toString());
        assertNotNull(KryoRegistrations.classOf(manifestOf(sample)), sample.toString());
      }
    }
  }
}

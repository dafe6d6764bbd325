package dev.shardserve.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.BootstrapSetup;
import akka.actor.setup.ActorSystemSetup;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.SerializationExtension;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.settings.ShardServeConfig;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing (Jazzer) of the Kryo readers of every wire message: an input is a
 * manifest, a newline, and the bytes Akka would hand {@link KryoSerializer#fromBinary} with it
 * (the seeds are the golden samples, written so). Any input must be refused with a
 * {@link NotSerializableException} or decode to a value, on both read paths (arrays and Artery's
 * buffers); a decoded value must be writable, and what the writer writes must read back to
 * itself. Any other exception, an error (OutOfMemoryError, StackOverflowError) or a hang is a
 * finding. (The decoded value itself need not read back to itself: an actor ref that is not a
 * valid path resolves to a local dead ref, written with this system's address.) What it found
 * and what now refuses it: a null actor ref, which crashed the JVM in Akka's resolver
 * ({@code ProtocolSerializers.readRef}), and a class written by name or a Kryo String where a
 * reader reads a class and object, which allocated their declared length
 * ({@code KryoRegistrations.OnlyOurClasses}); seeds {@code finding-*}.
 *
 * <p>The two paths are not compared with each other: Kryo 5.6 decodes a string whose bytes are
 * not its UTF-8 differently on each ({@code readUtf8Chars_slow} leaves the char of a byte
 * 0x80-0xbf or 0xf0-0xff unassigned, so it holds whatever the reused char buffer held; the pooled
 * {@code ByteBufferInput} keeps its buffer across messages). No writer produces such bytes; the
 * seed {@code finding-GetStatus-ref-not-utf8} is the input that showed it, and
 * {@code finding-GetStatus-ref-not-a-path} the one of the dead ref.
 */
class KryoFuzzTest {
  /** A Failure whose message is 4096 NUL characters and an accent (so written as UTF-8), written below. */
  static byte[] ZEROS;
  static ActorSystem<Void> system;
  static KryoSerializer serializer;
  @BeforeAll
  static void start() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "KryoFuzzTest", ActorSystemSetup.create(
        BootstrapSetup.create(ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\nakka.loglevel = ERROR")
            .withFallback(ShardServeConfig.load()))));
    serializer = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(system))
        .serializerFor(ModelProtocol.Infer.class);
    ZEROS = serializer.toBinary(new ModelProtocol.Failure(ErrorCode.INTERNAL, "\u0000".repeat(4096) + "\u00e9"));
  }

  @AfterAll
  static void stop() {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  @FuzzTest(maxDuration = "10s")
  void kryoMessage(byte[] input) throws Exception {
    int newline = indexOf(input, (byte) '\n');
    if (newline < 0 || newline > 64) {
      return;
    }
    String manifest = new String(input, 0, newline, StandardCharsets.UTF_8);
    byte[] bytes = Arrays.copyOfRange(input, newline + 1, input.length);
    for (boolean viaBuffer : new boolean[] {false, true}) {
      Object decoded = decode(bytes, manifest, viaBuffer);
      if (decoded != null) {
        String m = serializer.manifest(decoded);
        Object written = serializer.fromBinary(serializer.toBinary(decoded), m);
        assertEquals(written, serializer.fromBinary(serializer.toBinary(written), m), "a value decoded from "
            + (viaBuffer ? "a buffer" : "an array") + ", written, does not read back to itself");
      }
    }
  }

  /** The decoded value, or null when refused as the serializer documents. */
  private static Object decode(byte[] bytes, String manifest, boolean viaBuffer) {
    try {
      if (viaBuffer) {
        // The pooled ByteBufferInput (one, with one thread) keeps the chars of the last string it
        // read, which a string that is not UTF-8 shows (see the class comment): zero them, so that
        // a finding replays the same way alone.
        serializer.fromBinary(ByteBuffer.wrap(ZEROS), "Failure");
      }
      return viaBuffer ? serializer.fromBinary(ByteBuffer.wrap(bytes), manifest)
          : serializer.fromBinary(bytes, manifest);
    } catch (NotSerializableException e) {
      return null;
    } catch (RuntimeException e) {
      return fail("'" + manifest + "' threw " + e, e);
    }
  }

  static int indexOf(byte[] input, byte b) {
    for (int i = 0; i < input.length; i++) {
      if (input[i] == b) {
        return i;
      }
    }
    return -1;
  }
}

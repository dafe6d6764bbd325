package dev.shardserve.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.BootstrapSetup;
import akka.actor.setup.ActorSystemSetup;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.ActorRefResolverSetup;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.serialization.SerializationExtension;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.settings.ShardServeConfig;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
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
 * valid path resolves to a local dead ref, written with this system's address.)
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
  /** Kryo as {@code KryoRegistrations.newKryo} builds it, but refusing other classes (one thread fuzzes). */
  static Kryo onlyOurs;

  /**
   * Akka's resolver, except that it refuses a null ref, as {@code ProtocolSerializers.readRef}
   * must: Akka's resolver crashes the JVM on one (SIGSEGV in {@code akka.util.Unsafe.fastHash},
   * whose Unsafe read does not check null), which would end the fuzzing run at every such input
   * (seed {@code finding-GetMetadata-null-ref}).
   */
  static final class RefusingNull extends ActorRefResolver {
    private final ActorRefResolver akka;

    RefusingNull(ActorSystem<?> system) {
      this.akka = ActorRefResolver.createExtension(system);
    }

    @Override
    public <T> String toSerializationFormat(ActorRef<T> ref) {
      return akka.toSerializationFormat(ref);
    }

    @Override
    public <T> ActorRef<T> resolveActorRef(String serialized) {
      if (serialized == null) {
        throw new IllegalArgumentException("actor ref: null (Akka's resolver would crash the JVM)");
      }
      return akka.resolveActorRef(serialized);
    }
  }

  /**
   * Refuses a class that is not one of {@link KryoRegistrations#ALL}: written by name, or one of
   * the types Kryo registers on its own (String, the primitives). No writer of ours sends one.
   */
  static final class OnlyOurClasses extends DefaultClassResolver {
    static final String REFUSAL = "a class that is not one of the registrations";

    @Override
    public Registration readClass(Input input) {
      Registration r = super.readClass(input);
      if (r != null && KryoRegistrations.ALL.stream().noneMatch(ours -> ours.id() == r.getId())) {
        throw new KryoException(REFUSAL);
      }
      return r;
    }

    @Override
    protected Registration readName(Input input) {
      throw new KryoException(REFUSAL);
    }
  }

  /**
   * True when the message holds, where a reader calls {@code readClassAndObject} (a version
   * selector, a feature), a class that is not one of ours: a class written by name, whose name
   * {@code DefaultClassResolver.readName} reads as a string of the length the message declares,
   * or a String, which Kryo's own serializer reads the same way. Both allocate before anything
   * checks the length (a 10-byte message makes Kryo allocate 4 GiB: an OutOfMemoryError, which
   * makes Akka exit the JVM). Found by this target (seeds {@code finding-*-oom*}); the fix belongs
   * in {@code KryoRegistrations.newKryo} (reported to the integrator). Until it is there, such
   * inputs are not run through the serializer, so that fuzzing goes on past them. The readers
   * are the same registrations.
   */
  static boolean holdsAForeignClass(byte[] bytes, String manifest) {
    Class<?> type;
    try {
      type = KryoRegistrations.classOf(manifest);
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (onlyOurs == null) {
      onlyOurs = new Kryo(new OnlyOurClasses(), null);
      onlyOurs.setRegistrationRequired(true);
      onlyOurs.setReferences(false);
      for (KryoRegistrations.Registration r : KryoRegistrations.ALL) {
        onlyOurs.register(r.type(), r.serializer().apply(() -> ActorRefResolver.get(system)), r.id());
      }
    }
    // Both inputs: they decode bytes that are not UTF-8 differently, so they may take other branches.
    for (Input in : List.of(new Input(bytes), new ByteBufferInput(ByteBuffer.wrap(bytes)))) {
      try {
        onlyOurs.readObject(in, type);
      } catch (RuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
          if (OnlyOurClasses.REFUSAL.equals(t.getMessage())) {
            return true;
          }
        }
      }
    }
    return false;
  }

  @BeforeAll
  static void start() throws Exception {
    system = ActorSystem.create(Behaviors.empty(), "KryoFuzzTest", ActorSystemSetup.create(
        BootstrapSetup.create(ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\nakka.loglevel = ERROR")
            .withFallback(ShardServeConfig.load())),
        new ActorRefResolverSetup(RefusingNull::new)));
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
    if (holdsAForeignClass(bytes, manifest)) {
      return;
    }
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
        // it reads as the fresh input of holdsAForeignClass does.
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

package dev.shardserve.serialization;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.ByteBufferSerializer;
import akka.serialization.SerializerWithStringManifest;
import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.ByteBufferInput;
import com.esotericsoftware.kryo.io.ByteBufferOutput;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Akka serializer for every {@link WireMessage}: Kryo 5 with explicit registrations
 * ({@link KryoRegistrations}), the class named by a string manifest. Implements Artery's
 * {@link ByteBufferSerializer} so that messages are written straight into the envelope buffer.
 * Kryo instances and buffers are pooled (none is thread-safe).
 *
 * <p>Reading never yields a guessed value: a manifest naming a format newer than this release
 * knows, a declared length the message cannot hold ({@link DeclaredLength}), an unknown enum
 * number or any other malformed input ends in a {@link NotSerializableException} naming the
 * manifest and the reason (Akka then drops the message with a log line).
 */
public final class KryoSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {
  /** Stable identifier; Akka reserves 0-40. */
  public static final int IDENTIFIER = 0x5348_4453; // "SHDS"

  private static final Logger log = LoggerFactory.getLogger(KryoSerializer.class);

  private final Set<String> futureFormatsLogged = ConcurrentHashMap.newKeySet();
  private final Pool<Kryo> kryos;
  private final Pool<Output> outputs;
  private final Pool<ByteBufferOutput> bufferOutputs;
  private final Pool<ByteBufferInput> bufferInputs;

  public KryoSerializer(ExtendedActorSystem system) {
    // Resolved lazily: serializers are built while the system starts.
    Supplier<ActorRefResolver> resolver = new Supplier<>() {
      private volatile ActorRefResolver resolved;

      @Override
      public ActorRefResolver get() {
        ActorRefResolver r = resolved;
        if (r == null) {
          r = ActorRefResolver.get(Adapter.toTyped(system));
          resolved = r;
        }
        return r;
      }
    };
    int poolSize = Math.max(8, Runtime.getRuntime().availableProcessors() * 4);
    kryos = new Pool<>(true, false, poolSize) {
      @Override
      protected Kryo create() {
        return KryoRegistrations.newKryo(resolver);
      }
    };
    outputs = new Pool<>(true, false, poolSize) {
      @Override
      protected Output create() {
        return new Output(4096, -1);
      }
    };
    bufferOutputs = new Pool<>(true, false, poolSize) {
      @Override
      protected ByteBufferOutput create() {
        return new ByteBufferOutput();
      }
    };
    bufferInputs = new Pool<>(true, false, poolSize) {
      @Override
      protected ByteBufferInput create() {
        return new ByteBufferInput();
      }
    };
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return KryoRegistrations.manifestOf(o);
  }

  @Override
  public byte[] toBinary(Object o) {
    Kryo kryo = kryos.obtain();
    Output out = outputs.obtain();
    try {
      out.reset();
      kryo.writeObject(out, o);
      byte[] bytes = out.toBytes();
      if (out.getBuffer().length > 1 << 20) {
        out.setBuffer(new byte[4096], -1); // do not keep huge buffers in the pool
      }
      return bytes;
    } finally {
      outputs.free(out);
      kryos.free(kryo);
    }
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    Class<?> type = classFor(manifest);
    Kryo kryo = kryos.obtain();
    try {
      kryo.getContext().put(KryoRegistrations.FORMAT_IN_CONTEXT, KryoRegistrations.formatOf(manifest));
      return kryo.readObject(new Input(bytes), type);
    } catch (RuntimeException e) {
      throw notSerializable(manifest, e);
    } finally {
      kryo.getContext().remove(KryoRegistrations.FORMAT_IN_CONTEXT);
      kryos.free(kryo);
    }
  }

  @Override
  public void toBinary(Object o, ByteBuffer buf) {
    Kryo kryo = kryos.obtain();
    ByteBufferOutput out = bufferOutputs.obtain();
    try {
      out.setBuffer(buf, buf.remaining());
      kryo.writeObject(out, o);
      out.flush();
    } finally {
      out.setBuffer(EMPTY, 0);
      bufferOutputs.free(out);
      kryos.free(kryo);
    }
  }

  @Override
  public Object fromBinary(ByteBuffer buf, String manifest) throws NotSerializableException {
    Class<?> type = classFor(manifest);
    Kryo kryo = kryos.obtain();
    ByteBufferInput in = bufferInputs.obtain();
    try {
      kryo.getContext().put(KryoRegistrations.FORMAT_IN_CONTEXT, KryoRegistrations.formatOf(manifest));
      in.setBuffer(buf);
      return kryo.readObject(in, type);
    } catch (RuntimeException e) {
      throw notSerializable(manifest, e);
    } finally {
      kryo.getContext().remove(KryoRegistrations.FORMAT_IN_CONTEXT);
      in.setBuffer(EMPTY);
      bufferInputs.free(in);
      kryos.free(kryo);
    }
  }

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private Class<?> classFor(String manifest) throws NotSerializableException {
    try {
      return KryoRegistrations.classOf(manifest);
    } catch (KryoRegistrations.FutureFormatException e) {
      // Once per manifest and process: a newer release in the cluster sends many of them.
      if (futureFormatsLogged.add(manifest)) {
        log.error("refusing a message in a format this release cannot read: {} (further ones with manifest "
            + "'{}' are refused without this line)", e.getMessage(), manifest);
      }
      throw notSerializable(manifest, e);
    } catch (IllegalArgumentException e) {
      throw notSerializable(manifest, e);
    }
  }

  private static NotSerializableException notSerializable(String manifest, Exception cause) {
    NotSerializableException e = new NotSerializableException("cannot read '" + manifest + "': " + cause.getMessage());
    e.initCause(cause);
    return e;
  }
}

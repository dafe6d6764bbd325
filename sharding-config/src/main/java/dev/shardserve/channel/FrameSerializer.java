package dev.shardserve.channel;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import akka.actor.typed.javadsl.Adapter;
import akka.serialization.ByteBufferSerializer;
import akka.serialization.SerializerWithStringManifest;
import dev.shardserve.channel.ChannelProtocol.Credit;
import dev.shardserve.channel.ChannelProtocol.Open;
import dev.shardserve.channel.ChannelProtocol.Opened;
import dev.shardserve.channel.ChannelProtocol.ReplyFrame;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.concurrent.Ticker;
import java.io.NotSerializableException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Akka serializer for the channel messages ({@link FrameMessage}): {@link FrameCodec}'s format,
 * written straight into Artery's envelope buffer ({@link ByteBufferSerializer}). The manifest
 * names the message and its format ({@code RequestFrame@1}); a manifest of a format this release
 * does not know is refused with an exception naming it (Artery logs it and drops the message; the
 * handshake agrees on a format both ends read, so that only happens with a peer that broke it).
 */
public final class FrameSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {
  /** Stable identifier; Akka reserves 0-40, Kryo's is "SHDS". */
  public static final int IDENTIFIER = 0x5348_4446; // "SHDF"

  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;

  public FrameSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) {
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public String manifest(Object o) {
    return o.getClass().getSimpleName() + "@" + ChannelProtocol.FORMAT;
  }

  @Override
  public byte[] toBinary(Object o) {
    int size = o instanceof Open || o instanceof Opened ? handshakeSize(o) : FrameCodec.size(o);
    ByteBuffer buf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    toBinary(o, buf);
    return buf.array();
  }

  @Override
  public void toBinary(Object o, ByteBuffer buf) {
    if (o instanceof Open m) {
      ByteOrder order = buf.order();
      buf.order(ByteOrder.LITTLE_ENDIAN);
      buf.putLong(m.channelId());
      buf.putInt(m.maxFormat());
      FrameCodec.putString(buf, resolver().toSerializationFormat(m.channel()));
      buf.order(order);
    } else if (o instanceof Opened m) {
      ByteOrder order = buf.order();
      buf.order(ByteOrder.LITTLE_ENDIAN);
      buf.putLong(m.channelId());
      buf.putInt(m.format());
      FrameCodec.putString(buf, resolver().toSerializationFormat(m.inbox()));
      buf.order(order);
    } else {
      FrameCodec.write(o, buf);
    }
  }

  private int handshakeSize(Object o) {
    ActorRef<?> ref = o instanceof Open m ? m.channel() : ((Opened) o).inbox();
    return 8 + 4 + 4 + resolver().toSerializationFormat(ref).getBytes(StandardCharsets.UTF_8).length;
  }

  @Override
  public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
    return fromBinary(ByteBuffer.wrap(bytes), manifest);
  }

  @Override
  public Object fromBinary(ByteBuffer buf, String manifest) throws NotSerializableException {
    int at = manifest.indexOf('@');
    String name = at < 0 ? manifest : manifest.substring(0, at);
    String format = at < 0 ? "" : manifest.substring(at + 1);
    if (!format.equals(Integer.toString(ChannelProtocol.FORMAT))) {
      throw new NotSerializableException("channel message '" + manifest + "': format " + format
          + " is not known to this release (it reads format " + ChannelProtocol.FORMAT + ")");
    }
    try {
      return switch (name) {
        case "Open" -> {
          ByteOrder order = buf.order();
          buf.order(ByteOrder.LITTLE_ENDIAN);
          try {
            long id = FrameCodec.i64(buf, "channel id");
            int max = FrameCodec.i32(buf, "max format");
            yield new Open(id, max, resolver().resolveActorRef(FrameCodec.required(buf, "channel actor ref")));
          } finally {
            buf.order(order);
          }
        }
        case "Opened" -> {
          ByteOrder order = buf.order();
          buf.order(ByteOrder.LITTLE_ENDIAN);
          try {
            long id = FrameCodec.i64(buf, "channel id");
            int f = FrameCodec.i32(buf, "format");
            yield new Opened(id, f, resolver().resolveActorRef(FrameCodec.required(buf, "inbox actor ref")));
          } finally {
            buf.order(order);
          }
        }
        case "RequestFrame" -> FrameCodec.read(RequestFrame.class, buf, Ticker.SYSTEM.nanos());
        case "ReplyFrame" -> FrameCodec.read(ReplyFrame.class, buf, Ticker.SYSTEM.nanos());
        case "Credit" -> FrameCodec.read(Credit.class, buf, Ticker.SYSTEM.nanos());
        default -> throw new NotSerializableException("unknown channel message '" + manifest + "'");
      };
    } catch (IllegalArgumentException | java.nio.BufferUnderflowException e) {
      NotSerializableException n = new NotSerializableException("channel message '" + manifest + "': "
          + e.getMessage());
      n.initCause(e);
      throw n;
    }
  }
}

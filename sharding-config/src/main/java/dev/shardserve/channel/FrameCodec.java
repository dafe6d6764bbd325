package dev.shardserve.channel;

import dev.shardserve.channel.ChannelProtocol.Credit;
import dev.shardserve.channel.ChannelProtocol.Reply;
import dev.shardserve.channel.ChannelProtocol.ReplyFrame;
import dev.shardserve.channel.ChannelProtocol.Request;
import dev.shardserve.channel.ChannelProtocol.RequestFrame;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.InferReply;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The channel frames' format (version {@link ChannelProtocol#FORMAT}), little-endian: written
 * straight into a {@link ByteBuffer} (Artery's envelope), tensors as their bytes in their own
 * dtype with no intermediate array, and a reply's outputs from the views of the batch's buffers.
 * {@link #size} gives the exact size first, so that a frame is checked against the frame limit
 * before it is sent. Every declared length is checked against the bytes left before anything is
 * allocated: a short or hostile frame is refused with {@link IllegalArgumentException} naming the
 * field, never an {@code OutOfMemoryError} or another exception.
 *
 * <pre>
 * RequestFrame: u8 format, i64 channel, i32 repliesAcked, i32 n, n x request
 *   request: i64 id, i32 replica, i64 remainingMicros, u8 kind (1 predict, 2 examples), str model,
 *            selector (u8 0 latest | 1 i64 version | 2 str label), str signature, str requestId,
 *            str traceparent,
 *            predict: i32 n, n x (str name, tensor); examples: u8 method (1 classify, 2 regress),
 *            i32 n, n x features, features (context)
 *   tensor: u8 dtype (DType wire), u8 rank, rank x i64, then i32 byte length + bytes, or for
 *           strings one (i32 length + bytes) per element
 *   features: i32 n, n x (str name, u8 kind (1 floats, 2 int64s, 3 bytes), i32 count, values)
 * ReplyFrame: u8 format, i64 channel, i32 requestsAcked, i32 n, n x reply
 *   reply: i64 id, u8 kind (1 result: i64 version, i32 n, n x (str name, tensor); 2 failure: i32
 *          code, str message)
 * Credit: u8 format, i64 channel, i32 frames
 * str: i32 byte length (-1 = null), UTF-8 bytes
 * </pre>
 */
public final class FrameCodec {
  private static final byte PREDICT = 1;
  private static final byte EXAMPLES = 2;
  private static final byte RESULT = 1;
  private static final byte FAILURE = 2;

  private FrameCodec() {}

  // ---- sizes ----

  public static int size(Object frame) {
    if (frame instanceof RequestFrame f) {
      long n = 1 + 8 + 4 + 4;
      for (Request r : f.requests()) {
        n += size(r);
      }
      return checked(n);
    }
    if (frame instanceof ReplyFrame f) {
      long n = 1 + 8 + 4 + 4;
      for (Reply r : f.replies()) {
        n += size(r);
      }
      return checked(n);
    }
    if (frame instanceof Credit) {
      return 1 + 8 + 4;
    }
    throw new IllegalArgumentException("not a frame: " + frame.getClass().getName());
  }

  private static int checked(long n) {
    if (n > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a frame of " + n + " bytes");
    }
    return (int) n;
  }

  /** Bytes one request takes in a frame. */
  public static long size(Request r) {
    InferCall c = r.call();
    long n = 8 + 4 + 8 + 1 + str(c.model()) + selector(c.version()) + str(c.signatureName()) + str(c.requestId())
        + str(c.traceParent());
    if (c instanceof InferCall.Predict p) {
      n += 4;
      for (Map.Entry<String, Tensor> e : p.inputs().entrySet()) {
        n += str(e.getKey()) + tensor("input", e.getKey(), e.getValue());
      }
    } else {
      InferCall.Examples e = (InferCall.Examples) c;
      n += 1 + 4;
      for (Map<String, Feature> ex : e.examples()) {
        n += features(ex);
      }
      n += features(e.context());
    }
    return n;
  }

  /** Bytes one reply takes in a frame. */
  public static long size(Reply r) {
    long n = 8 + 1;
    if (r.reply() instanceof InferResult res) {
      n += 8 + 4;
      Outputs o = res.outputs();
      for (int i = 0; i < o.size(); i++) {
        n += str(o.name(i)) + 2 + 8L * rank("output", o.name(i), o.shape(i));
        int count = o.elementCount(i);
        if (o.dtype(i).isString()) {
          int from = o.elementOffset(i);
          for (int k = from; k < from + count; k++) {
            n += 4 + o.backing(i).strings().get(k).length;
          }
        } else {
          n += 4 + (long) count * o.dtype(i).byteSize();
        }
      }
    } else {
      n += 4 + str(((Failure) r.reply()).message());
    }
    return n;
  }

  private static long str(String s) {
    return s == null ? 4 : 4 + (long) utf8Length(s);
  }

  /** {@code s}'s length in UTF-8 as {@code getBytes(UTF_8)} writes it (a surrogate outside a pair as '?'). */
  private static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        n += 1;
      } else {
        n += 3;
      }
    }
    return n;
  }

  private static long selector(VersionSelector v) {
    return 1 + (v instanceof VersionSelector.Specific ? 8 : v instanceof VersionSelector.Label l ? str(l.label()) : 0);
  }

  /**
   * The rank of a tensor, which a frame writes in one byte: a higher one is refused (TensorFlow
   * itself stops at 254) rather than written as another rank.
   */
  private static int rank(String kind, String name, long[] shape) {
    if (shape.length > 255) {
      throw new IllegalArgumentException(kind + " '" + name + "' has rank " + shape.length
          + ": a channel frame holds tensors of rank 255 at most");
    }
    return shape.length;
  }

  private static long tensor(String kind, String name, Tensor t) {
    long n = 2 + 8L * rank(kind, name, t.shape());
    if (t.dtype().isString()) {
      for (byte[] s : t.strings()) {
        n += 4 + s.length;
      }
      return n;
    }
    return n + 4 + t.data().length;
  }

  private static long features(Map<String, Feature> features) {
    long n = 4;
    for (Map.Entry<String, Feature> e : features.entrySet()) {
      n += str(e.getKey()) + 1 + 4;
      Feature f = e.getValue();
      if (f instanceof Feature.FloatList fl) {
        n += 4L * fl.values().length;
      } else if (f instanceof Feature.Int64List il) {
        n += 8L * il.values().length;
      } else {
        for (byte[] b : ((Feature.BytesList) f).values()) {
          n += 4 + b.length;
        }
      }
    }
    return n;
  }

  // ---- writing ----

  /** Writes {@code frame} at the buffer's position (little-endian; the buffer's order is restored). */
  public static void write(Object frame, ByteBuffer buf) {
    ByteOrder order = buf.order();
    buf.order(ByteOrder.LITTLE_ENDIAN);
    try {
      buf.put((byte) ChannelProtocol.FORMAT);
      if (frame instanceof RequestFrame f) {
        buf.putLong(f.channelId());
        buf.putInt(f.repliesAcked());
        buf.putInt(f.requests().size());
        for (Request r : f.requests()) {
          write(r, buf);
        }
      } else if (frame instanceof ReplyFrame f) {
        buf.putLong(f.channelId());
        buf.putInt(f.requestsAcked());
        buf.putInt(f.replies().size());
        for (Reply r : f.replies()) {
          write(r, buf);
        }
      } else {
        Credit c = (Credit) frame;
        buf.putLong(c.channelId());
        buf.putInt(c.frames());
      }
    } finally {
      buf.order(order);
    }
  }

  private static void write(Request r, ByteBuffer buf) {
    InferCall c = r.call();
    buf.putLong(r.id());
    buf.putInt(r.replica());
    buf.putLong(r.remainingMicros());
    buf.put(c instanceof InferCall.Predict ? PREDICT : EXAMPLES);
    putString(buf, c.model());
    if (c.version() instanceof VersionSelector.Specific s) {
      buf.put((byte) 1);
      buf.putLong(s.version());
    } else if (c.version() instanceof VersionSelector.Label l) {
      buf.put((byte) 2);
      putString(buf, l.label());
    } else {
      buf.put((byte) 0);
    }
    putString(buf, c.signatureName());
    putString(buf, c.requestId());
    putString(buf, c.traceParent());
    if (c instanceof InferCall.Predict p) {
      buf.putInt(p.inputs().size());
      for (Map.Entry<String, Tensor> e : p.inputs().entrySet()) {
        putString(buf, e.getKey());
        Tensor t = e.getValue();
        putTensor(buf, "input", e.getKey(), t.dtype(), t.shape(), t, 0, (int) Tensor.elementCount(t.shape()));
      }
    } else {
      InferCall.Examples e = (InferCall.Examples) c;
      buf.put((byte) (e.method() == ExampleMethod.CLASSIFY ? 1 : 2));
      buf.putInt(e.examples().size());
      for (Map<String, Feature> ex : e.examples()) {
        putFeatures(buf, ex);
      }
      putFeatures(buf, e.context());
    }
  }

  private static void write(Reply r, ByteBuffer buf) {
    buf.putLong(r.id());
    if (r.reply() instanceof InferResult res) {
      buf.put(RESULT);
      buf.putLong(res.version());
      Outputs o = res.outputs();
      buf.putInt(o.size());
      for (int i = 0; i < o.size(); i++) {
        putString(buf, o.name(i));
        putTensor(buf, "output", o.name(i), o.dtype(i), o.shape(i), o.backing(i), o.elementOffset(i),
            o.elementCount(i));
      }
    } else {
      Failure f = (Failure) r.reply();
      buf.put(FAILURE);
      buf.putInt(f.code().wire());
      putString(buf, f.message());
    }
  }

  /** Elements {@code [from, from + count)} of {@code backing}, with {@code shape}. */
  private static void putTensor(ByteBuffer buf, String kind, String name, DType dtype, long[] shape, Tensor backing,
      int from, int count) {
    buf.put((byte) dtype.wire());
    buf.put((byte) rank(kind, name, shape));
    for (long d : shape) {
      buf.putLong(d);
    }
    if (dtype.isString()) {
      for (int k = from; k < from + count; k++) {
        byte[] s = backing.strings().get(k);
        buf.putInt(s.length);
        buf.put(s);
      }
    } else {
      int size = dtype.byteSize();
      buf.putInt(count * size);
      buf.put(backing.data(), from * size, count * size);
    }
  }

  private static void putFeatures(ByteBuffer buf, Map<String, Feature> features) {
    buf.putInt(features.size());
    for (Map.Entry<String, Feature> e : features.entrySet()) {
      putString(buf, e.getKey());
      Feature f = e.getValue();
      if (f instanceof Feature.FloatList fl) {
        buf.put((byte) 1);
        buf.putInt(fl.values().length);
        for (float v : fl.values()) {
          buf.putFloat(v);
        }
      } else if (f instanceof Feature.Int64List il) {
        buf.put((byte) 2);
        buf.putInt(il.values().length);
        for (long v : il.values()) {
          buf.putLong(v);
        }
      } else {
        List<byte[]> values = ((Feature.BytesList) f).values();
        buf.put((byte) 3);
        buf.putInt(values.size());
        for (byte[] b : values) {
          buf.putInt(b.length);
          buf.put(b);
        }
      }
    }
  }

  static void putString(ByteBuffer buf, String s) {
    if (s == null) {
      buf.putInt(-1);
      return;
    }
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    buf.putInt(b.length);
    buf.put(b);
  }

  // ---- reading ----

  /**
   * Reads a frame of kind {@code type} ({@link RequestFrame}, {@link ReplyFrame} or
   * {@link Credit}). A request's deadline is rebased: {@code nowNanos} plus its remaining budget.
   * A frame that is short, declares more than it holds, or holds a value no writer writes (a
   * missing or repeated name, an unknown number) is refused with an
   * {@link IllegalArgumentException} whose message starts with the field ({@code input 'x' data:
   * ...}).
   */
  public static Object read(Class<?> type, ByteBuffer buf, long nowNanos) {
    if (type != RequestFrame.class && type != ReplyFrame.class && type != Credit.class) {
      throw new IllegalArgumentException("not a frame type: " + type.getName());
    }
    ByteOrder order = buf.order();
    buf.order(ByteOrder.LITTLE_ENDIAN);
    try {
      int format = u8(buf, "frame format");
      if (format != ChannelProtocol.FORMAT) {
        throw new IllegalArgumentException("channel frame format " + format + " is not known to this release "
            + "(it reads format " + ChannelProtocol.FORMAT + ")");
      }
      long channel = i64(buf, "channel id");
      if (type == Credit.class) {
        return new Credit(channel, i32(buf, "credit frames"));
      }
      if (type == RequestFrame.class) {
        int acked = i32(buf, "replies acked");
        int n = count(buf, 8 + 4 + 8 + 1, "request count");
        List<Request> requests = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          requests.add(readRequest(buf, nowNanos));
        }
        return new RequestFrame(channel, acked, requests);
      }
      int acked = i32(buf, "requests acked");
      int n = count(buf, 8 + 1, "reply count");
      List<Reply> replies = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        replies.add(readReply(buf));
      }
      return new ReplyFrame(channel, acked, replies);
    } finally {
      buf.order(order);
    }
  }

  private static Request readRequest(ByteBuffer buf, long nowNanos) {
    long id = i64(buf, "correlation id");
    int replica = i32(buf, "replica");
    long remainingMicros = i64(buf, "remaining micros");
    int kind = u8(buf, "request kind");
    if (kind != PREDICT && kind != EXAMPLES) {
      throw unknown("request kind", kind);
    }
    String model = required(buf, "model name");
    int selector = u8(buf, "version selector");
    VersionSelector version = switch (selector) {
      case 0 -> VersionSelector.Latest.INSTANCE;
      case 1 -> new VersionSelector.Specific(i64(buf, "version"));
      case 2 -> new VersionSelector.Label(required(buf, "version label"));
      default -> throw unknown("version selector", selector);
    };
    String signature = required(buf, "signature name");
    String requestId = getString(buf, "request id");
    String traceParent = getString(buf, "traceparent");
    long deadline = nowNanos + Math.max(0, Math.min(remainingMicros, Long.MAX_VALUE / 2000)) * 1000;
    InferCall call;
    if (kind == PREDICT) {
      int n = count(buf, 4 + 2, "input count");
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      for (int i = 0; i < n; i++) {
        String name = required(buf, "input name");
        if (inputs.put(name, getTensor(buf, "input '" + name + "'")) != null) {
          throw repeated("input name", name);
        }
      }
      call = new InferCall.Predict(model, version, signature, inputs, deadline, requestId, traceParent);
    } else {
      int m = u8(buf, "example method");
      ExampleMethod method = switch (m) {
        case 1 -> ExampleMethod.CLASSIFY;
        case 2 -> ExampleMethod.REGRESS;
        default -> throw unknown("example method", m);
      };
      int n = count(buf, 4, "example count");
      List<Map<String, Feature>> examples = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        examples.add(getFeatures(buf));
      }
      call = new InferCall.Examples(model, version, signature, method, examples, getFeatures(buf), deadline, requestId,
          traceParent);
    }
    return new Request(id, replica, remainingMicros, call);
  }

  private static Reply readReply(ByteBuffer buf) {
    long id = i64(buf, "correlation id");
    int kind = u8(buf, "reply kind");
    if (kind == RESULT) {
      long version = i64(buf, "version");
      int n = count(buf, 4 + 2, "output count");
      Map<String, Tensor> outputs = new HashMap<>();
      for (int i = 0; i < n; i++) {
        String name = required(buf, "output name");
        if (outputs.put(name, getTensor(buf, "output '" + name + "'")) != null) {
          throw repeated("output name", name);
        }
      }
      return new Reply(id, new InferResult(version, outputs));
    }
    if (kind == FAILURE) {
      ErrorCode code = ErrorCode.fromWire(i32(buf, "error code"));
      return new Reply(id, new Failure(code, getString(buf, "failure message")));
    }
    throw unknown("reply kind", kind);
  }

  /** A tensor; {@code what} names it ({@code input 'x'}) in every refusal. */
  private static Tensor getTensor(ByteBuffer buf, String what) {
    int wire = u8(buf, what + " dtype");
    DType dtype;
    try {
      dtype = DType.fromWire(wire);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " dtype: " + e.getMessage());
    }
    int rank = u8(buf, what + " rank");
    need(buf, rank, 8, what + " shape");
    long[] shape = new long[rank];
    for (int i = 0; i < rank; i++) {
      shape[i] = buf.getLong();
    }
    long elements;
    try {
      elements = Tensor.elementCount(shape);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new IllegalArgumentException(what + " shape: " + java.util.Arrays.toString(shape)
          + " is not a valid shape (" + e.getMessage() + ")");
    }
    if (dtype.isString()) {
      need(buf, elements, 4, what + " data");
      List<byte[]> strings = new ArrayList<>((int) elements);
      for (long k = 0; k < elements; k++) {
        strings.add(getBytes(buf, what + " element"));
      }
      return Tensor.ofStrings(shape, strings);
    }
    int len = i32(buf, what + " data");
    if (len < 0) {
      throw negative(what + " data", len);
    }
    need(buf, len, 1, what + " data");
    if (len != elements * dtype.byteSize()) {
      throw new IllegalArgumentException(what + " data: declares " + len + " bytes, but a " + dtype
          + " tensor of shape " + java.util.Arrays.toString(shape) + " needs " + elements * dtype.byteSize());
    }
    byte[] data = new byte[len];
    buf.get(data);
    return Tensor.of(dtype, shape, data);
  }

  private static Map<String, Feature> getFeatures(ByteBuffer buf) {
    int n = count(buf, 4 + 1 + 4, "feature count");
    Map<String, Feature> out = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      String name = required(buf, "feature name");
      String what = "feature '" + name + "'";
      int kind = u8(buf, what + " kind");
      int count = i32(buf, what + " values");
      if (count < 0) {
        throw negative(what + " values", count);
      }
      Feature feature = switch (kind) {
        case 1 -> {
          need(buf, count, 4, what + " values");
          float[] v = new float[count];
          for (int k = 0; k < count; k++) {
            v[k] = buf.getFloat();
          }
          yield new Feature.FloatList(v);
        }
        case 2 -> {
          need(buf, count, 8, what + " values");
          long[] v = new long[count];
          for (int k = 0; k < count; k++) {
            v[k] = buf.getLong();
          }
          yield new Feature.Int64List(v);
        }
        case 3 -> {
          need(buf, count, 4, what + " values");
          List<byte[]> v = new ArrayList<>(count);
          for (int k = 0; k < count; k++) {
            v.add(getBytes(buf, what + " value"));
          }
          yield new Feature.BytesList(v);
        }
        default -> throw unknown(what + " kind", kind);
      };
      if (out.put(name, feature) != null) {
        throw repeated("feature name", name);
      }
    }
    return out;
  }

  private static int u8(ByteBuffer buf, String what) {
    ends(buf, 1, what);
    return buf.get() & 0xff;
  }

  static int i32(ByteBuffer buf, String what) {
    ends(buf, 4, what);
    return buf.getInt();
  }

  static long i64(ByteBuffer buf, String what) {
    ends(buf, 8, what);
    return buf.getLong();
  }

  private static void ends(ByteBuffer buf, int bytes, String what) {
    if (buf.remaining() < bytes) {
      throw new IllegalArgumentException(what + ": the channel frame ends " + (bytes - buf.remaining())
          + " byte(s) short of it");
    }
  }

  /** A count of items of at least {@code minBytes} each, checked against the bytes left. */
  private static int count(ByteBuffer buf, int minBytes, String what) {
    int n = i32(buf, what);
    if (n < 0) {
      throw negative(what, n);
    }
    need(buf, n, minBytes, what);
    return n;
  }

  /** Refuses {@code count} elements of at least {@code minBytes} each when the bytes left cannot hold them. */
  private static void need(ByteBuffer buf, long count, int minBytes, String what) {
    long needed = count * minBytes;
    if (needed > buf.remaining()) {
      throw new IllegalArgumentException(what + ": declared " + count + " element(s) of at least " + minBytes
          + " byte(s) (" + needed + " bytes), but only " + buf.remaining() + " bytes are left in the channel frame");
    }
  }

  private static IllegalArgumentException negative(String what, int n) {
    return new IllegalArgumentException(what + ": negative length " + n + " in a channel frame");
  }

  private static IllegalArgumentException unknown(String what, int n) {
    return new IllegalArgumentException(what + " " + n + " is not known to this release (channel frame format "
        + ChannelProtocol.FORMAT + ")");
  }

  private static IllegalArgumentException repeated(String what, String name) {
    return new IllegalArgumentException(what + ": '" + name + "' appears twice in a channel frame");
  }

  private static byte[] getBytes(ByteBuffer buf, String what) {
    int len = i32(buf, what);
    if (len < 0) {
      throw negative(what, len);
    }
    need(buf, len, 1, what);
    byte[] b = new byte[len];
    buf.get(b);
    return b;
  }

  /** A string, or null (length -1). */
  static String getString(ByteBuffer buf, String what) {
    int len = i32(buf, what);
    if (len == -1) {
      return null;
    }
    if (len < 0) {
      throw negative(what, len);
    }
    need(buf, len, 1, what);
    byte[] b = new byte[len];
    buf.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }

  /** A string that must be there (a name). */
  static String required(ByteBuffer buf, String what) {
    String s = getString(buf, what);
    if (s == null) {
      throw new IllegalArgumentException(what + ": missing (length -1) in a channel frame");
    }
    return s;
  }
}

package dev.shardserve.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.typed.ActorRefResolver;
import com.typesafe.config.ConfigFactory;
import dev.shardserve.channel.ChannelProtocol.Credit;
import dev.shardserve.channel.ChannelProtocol.Open;
import dev.shardserve.channel.ChannelProtocol.Opened;
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
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import dev.shardserve.settings.ShardServeConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
 * The channel frames' own format ({@link FrameCodec}): every frame, call, dtype, feature kind,
 * reply and error code round-trips; {@link FrameCodec#size} is exactly the bytes written; and a
 * short or hostile frame is refused with an {@link IllegalArgumentException} naming the field,
 * never another exception, an {@code OutOfMemoryError} or a long stall.
 */
class FrameCodecTest {
  static final long NOW = 1_000_000_000_000L;
  /** A refusal: the field it names first, then what is wrong. */
  static final Pattern FIELD = Pattern.compile("^([a-z][a-z0-9 ]*?(?: '[^']*')?(?: [a-z0-9 ]+?)?): ");

  static ActorTestKit testKit;
  static Map<String, Object> samples;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("FrameCodecTest", ConfigFactory.parseString(
        "akka.remote.artery.canonical.port = 0").withFallback(ShardServeConfig.load()));
    samples = FrameSamples.all(ActorRefResolver.get(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** The frames of the samples that FrameCodec writes (Open and Opened are the serializer's). */
  static Map<String, Object> frames() {
    Map<String, Object> m = new LinkedHashMap<>();
    samples.forEach((k, v) -> {
      if (!(v instanceof Open) && !(v instanceof Opened)) {
        m.put(k, v);
      }
    });
    return m;
  }

  /** Writes {@code frame} into a buffer of exactly {@code size(frame)} bytes, which it must fill. */
  static byte[] write(Object frame) {
    int size = FrameCodec.size(frame);
    ByteBuffer buf = ByteBuffer.allocate(size);
    FrameCodec.write(frame, buf);
    assertEquals(size, buf.position(), "size() of " + frame + " is not the bytes written");
    return buf.array();
  }

  static Object read(Object frame, byte[] bytes) {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    Object out = FrameCodec.read(frame.getClass(), buf, NOW);
    assertEquals(0, buf.remaining(), "bytes left unread");
    return out;
  }

  static void assertRoundTrips(Object frame) {
    assertEquals(FrameSamples.rebased(frame, NOW), read(frame, write(frame)));
  }

  static RequestFrame oneRequest(long remainingMicros, InferCall call) {
    return new RequestFrame(1, 0, List.of(new Request(5, 0, remainingMicros, call)));
  }

  static InferCall.Predict predict(Map<String, Tensor> inputs, String requestId, String traceParent) {
    return new InferCall.Predict("m", VersionSelector.latest(), "serving_default", inputs, 0, requestId, traceParent);
  }

  static InferCall.Examples examples(ExampleMethod method, List<Map<String, Feature>> examples,
      Map<String, Feature> context, String requestId, String traceParent) {
    return new InferCall.Examples("m", new VersionSelector.Specific(3), "sig", method, examples, context, 0, requestId,
        traceParent);
  }

  // ---- round trips ----

  @Test
  void everySample_roundTrips_andSizeIsTheBytesWritten() {
    for (Map.Entry<String, Object> e : frames().entrySet()) {
      assertRoundTrips(e.getValue());
    }
  }

  @Test
  void predict_ofEveryDtype_asVectorScalarAndEmpty_roundTrips() {
    for (DType t : DType.values()) {
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      if (t.isString()) {
        inputs.put("vector", Tensor.ofStrings(new long[] {2, 2},
            List.of(FrameSamples.bytes("a"), new byte[0], new byte[] {0, (byte) 0x80, (byte) 0xff}, new byte[300])));
        inputs.put("scalar", Tensor.ofStrings(new long[0], List.of(FrameSamples.bytes("\u00fc"))));
        inputs.put("empty", Tensor.ofStrings(new long[] {3, 0}, List.of()));
      } else {
        byte[] data = new byte[6 * t.byteSize()];
        for (int i = 0; i < data.length; i++) {
          data[i] = (byte) (t == DType.BOOL ? i % 2 : 0x80 + i * 13);
        }
        inputs.put("vector", Tensor.of(t, new long[] {2, 3}, data));
        inputs.put("scalar", Tensor.of(t, new long[0], Arrays.copyOf(data, t.byteSize())));
        inputs.put("empty", Tensor.of(t, new long[] {0, 7}, new byte[0]));
      }
      assertRoundTrips(oneRequest(10, predict(inputs, "r", FrameSamples.TRACE_PARENT)));
    }
  }

  @Test
  void predict_keepsTheInputsInTheirOrder() {
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    for (String name : List.of("z", "a", "m", "")) {
      inputs.put(name, Tensor.ofInts(new long[] {1}, name.length()));
    }
    RequestFrame back = (RequestFrame) read(oneRequest(1, predict(inputs, null, null)),
        write(oneRequest(1, predict(inputs, null, null))));
    assertEquals(List.of("z", "a", "m", ""),
        List.copyOf(((InferCall.Predict) back.requests().get(0).call()).inputs().keySet()));
  }

  @Test
  void examples_withFeaturesOfEveryKind_bothMethods_roundTrip() {
    for (ExampleMethod method : ExampleMethod.values()) {
      assertRoundTrips(oneRequest(1, examples(method, List.of(FrameSamples.everyFeature(), Map.of(),
          FrameSamples.linked("only", new Feature.Int64List(new long[] {-1}))), FrameSamples.everyFeature(),
          "id", null)));
      assertRoundTrips(oneRequest(1, examples(method, List.of(), Map.of(), null, null)));
    }
  }

  @Test
  void everyVersionSelector_roundTrips() {
    for (VersionSelector v : List.of(VersionSelector.latest(), new VersionSelector.Specific(0),
        new VersionSelector.Specific(Long.MAX_VALUE), new VersionSelector.Label("canary_2"))) {
      assertRoundTrips(oneRequest(1, new InferCall.Predict("m", v, "s", Map.of(), 0)));
      assertRoundTrips(oneRequest(1, new InferCall.Examples("m", v, "s", ExampleMethod.REGRESS, List.of(), Map.of(),
          0)));
    }
  }

  @Test
  void requestIdAndTraceParent_presentOrAbsent_roundTripForBothKinds() {
    List<String> values = Arrays.asList(null, "", "req-\u00e9", FrameSamples.TRACE_PARENT);
    for (String requestId : values) {
      for (String traceParent : values) {
        RequestFrame f = oneRequest(1, predict(Map.of(), requestId, traceParent));
        InferCall back = ((RequestFrame) read(f, write(f))).requests().get(0).call();
        assertEquals(requestId, back.requestId());
        assertEquals(traceParent, back.traceParent());
        RequestFrame g = oneRequest(1, examples(ExampleMethod.CLASSIFY, List.of(), Map.of(), requestId,
            traceParent));
        back = ((RequestFrame) read(g, write(g))).requests().get(0).call();
        assertEquals(requestId, back.requestId());
        assertEquals(traceParent, back.traceParent());
      }
    }
  }

  @Test
  void deadline_isTheRemainingBudget_rebasedOnTheReadersClock() {
    Map<Long, Long> deadlineOf = new LinkedHashMap<>();
    deadlineOf.put(1_500_000L, NOW + 1_500_000_000L);
    deadlineOf.put(1L, NOW + 1_000L);
    deadlineOf.put(0L, NOW);
    deadlineOf.put(-5L, NOW); // already late: due now, never in the past of the reader's clock
    deadlineOf.put(Long.MIN_VALUE, NOW);
    deadlineOf.put(Long.MAX_VALUE, NOW + Long.MAX_VALUE / 2000 * 1000); // "no deadline": far, never overflowing
    for (Map.Entry<Long, Long> e : deadlineOf.entrySet()) {
      RequestFrame f = oneRequest(e.getKey(), predict(Map.of(), null, null));
      Request back = ((RequestFrame) read(f, write(f))).requests().get(0);
      assertEquals(e.getKey(), back.remainingMicros(), "the budget as written");
      assertEquals(e.getValue(), back.call().deadlineNanos(), "deadline for " + e.getKey() + " us");
    }
  }

  @Test
  void rowViewsOfABatch_travelAsTheRequestsOwnRows() {
    Outputs batch = FrameSamples.batch();
    for (int from = 0; from <= 4; from++) {
      for (int to = from; to <= 4; to++) {
        Outputs view = batch.rows(from, to);
        ReplyFrame f = new ReplyFrame(1, 0, List.of(new Reply(1, new InferResult(3, view))));
        InferResult back = (InferResult) ((ReplyFrame) read(f, write(f))).replies().get(0).reply();
        assertEquals(view.toMap(), back.outputs().toMap(), "rows " + from + ".." + to);
        assertEquals(to - from, back.outputs().get("scores").shape()[0]);
        assertEquals(FrameCodec.size(new Reply(1, new InferResult(3, view))),
            FrameCodec.size(new Reply(1, new InferResult(3, view.toMap()))), "a view and its copy take the same bytes");
      }
    }
  }

  @Test
  void failure_ofEveryErrorCode_roundTrips_withItsMessage() {
    for (ErrorCode code : ErrorCode.values()) {
      ReplyFrame f = new ReplyFrame(1, 0, List.of(new Reply(7, new Failure(code, "why: " + code))));
      assertRoundTrips(f);
      Failure back = (Failure) ((ReplyFrame) read(f, write(f))).replies().get(0).reply();
      assertEquals(code, back.code());
      assertEquals("why: " + code, back.message());
    }
  }

  @Test
  void failure_withAnUnknownCode_readsAsInternal() {
    ReplyFrame f = new ReplyFrame(1, 0, List.of(new Reply(7, new Failure(ErrorCode.OVERLOADED, "m"))));
    byte[] bytes = write(f);
    // reply: i64 id, u8 kind, then i32 code: right after the frame header (17 bytes) and the id and kind
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(17 + 8 + 1, 999);
    assertEquals(new Failure(ErrorCode.INTERNAL, "m"), ((ReplyFrame) read(f, bytes)).replies().get(0).reply());
  }

  @Test
  void credit_roundTrips() {
    for (Credit c : List.of(new Credit(0, 0), new Credit(Long.MIN_VALUE, -1), new Credit(5, Integer.MAX_VALUE))) {
      assertRoundTrips(c);
      assertEquals(13, FrameCodec.size(c));
    }
  }

  @Test
  void writing_restoresTheBuffersByteOrder_andStartsAtItsPosition() {
    Object frame = samples.get("RequestFrame@1--several-requests");
    byte[] alone = write(frame);
    ByteBuffer buf = ByteBuffer.allocate(alone.length + 10).order(ByteOrder.BIG_ENDIAN);
    buf.position(10);
    FrameCodec.write(frame, buf);
    assertEquals(ByteOrder.BIG_ENDIAN, buf.order());
    assertEquals(alone.length + 10, buf.position());
    assertEquals(ByteBuffer.wrap(alone), buf.flip().position(10));
    buf.order(ByteOrder.BIG_ENDIAN);
    assertEquals(FrameSamples.rebased(frame, NOW), FrameCodec.read(RequestFrame.class, buf, NOW));
    assertEquals(ByteOrder.BIG_ENDIAN, buf.order());
  }

  // ---- size ----

  @Test
  void size_isTheBytesWritten_forStringsOfEveryUtf8Length_andMalformedSurrogates() {
    // 1-, 2-, 3- and 4-byte characters, and surrogates that are not pairs (a Java String may hold
    // them; UTF-8 writes each as '?').
    for (String s : List.of("", "a", "\u00e9", "\u20ac", "\ud83d\ude00", "\ud83d", "\ude00", "\ud83dx", "x\ude00y",
        "\ud83d\ud83d\ude00", "\ude00\ud83d", "a\u00e9\u20ac\ud83d\ude00\ud83d")) {
      write(new ReplyFrame(1, 0, List.of(new Reply(1, new Failure(ErrorCode.INTERNAL, s)))));
      write(oneRequest(1, new InferCall.Predict("m", VersionSelector.latest(), s,
          s.isEmpty() ? Map.of() : FrameSamples.linked(s, Tensor.ofInts(new long[0], 1)), 0, s, s)));
      write(oneRequest(1, examples(ExampleMethod.CLASSIFY, List.of(FrameSamples.linked(s,
          new Feature.FloatList(new float[] {1}))), Map.of(), null, s)));
    }
  }

  @Test
  void aTensorOfRankAbove255_isRefusedWhenSized_neverWrittenAsAnotherRank() {
    long[] shape = new long[256];
    Arrays.fill(shape, 1);
    RequestFrame f = oneRequest(1, predict(FrameSamples.linked("deep", Tensor.ofFloats(shape, 1f)), null, null));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FrameCodec.size(f));
    assertTrue(e.getMessage().contains("input 'deep'") && e.getMessage().contains("rank 256"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> FrameCodec.write(f, ByteBuffer.allocate(1 << 16)));
    long[] max = new long[255];
    Arrays.fill(max, 1);
    assertRoundTrips(oneRequest(1, predict(FrameSamples.linked("deep", Tensor.ofFloats(max, 1f)), null, null)));
  }

  @Test
  void size_ofSomethingElse_isRefused() {
    assertThrows(IllegalArgumentException.class, () -> FrameCodec.size("not a frame"));
  }

  // ---- hostile frames ----

  /** The IllegalArgumentException decoding {@code bytes} as a {@code type} throws; fails on success or any other. */
  static IllegalArgumentException refusal(Class<?> type, byte[] bytes, String what) {
    try {
      Object decoded = FrameCodec.read(type, ByteBuffer.wrap(bytes), NOW);
      return fail(what + " decoded to " + decoded);
    } catch (IllegalArgumentException e) {
      return e;
    } catch (Throwable t) {
      throw new AssertionError(what + " threw " + t, t);
    }
  }

  /** The field a refusal names, without the names of inputs, outputs and features in it. */
  static String field(IllegalArgumentException e) {
    Matcher m = FIELD.matcher(e.getMessage());
    assertTrue(m.find(), "the refusal names no field: " + e.getMessage());
    return m.group(1).replaceAll(" '[^']*'", "").trim();
  }

  @Test
  void everyTruncation_ofEverySample_isRefusedNamingTheFieldItCutsShort() {
    Set<String> named = new TreeSet<>();
    for (Map.Entry<String, Object> e : frames().entrySet()) {
      byte[] bytes = write(e.getValue());
      for (int n = 0; n < bytes.length; n++) {
        IllegalArgumentException r = refusal(e.getValue().getClass(), Arrays.copyOf(bytes, n), e.getKey() + " cut to "
            + n + " bytes");
        assertTrue(r.getMessage().contains("ends") || r.getMessage().contains("left"), r.getMessage());
        named.add(field(r));
      }
    }
    assertTrue(named.containsAll(Set.of("channel id", "request count", "reply count", "correlation id", "replica",
        "remaining micros", "model name", "signature name", "request id", "traceparent", "input count",
        "input name", "input dtype", "input rank", "input shape", "input data", "example count", "feature count",
        "feature name", "feature values", "output count", "output name", "output data", "error code",
        "failure message", "credit frames")), named.toString());
  }

  /** Each 4-byte window of each sample in turn set to {@code value}. */
  static Set<String> mutateEveryInt(int value, Map<String, Integer> refusedPerSample) {
    Set<String> named = new TreeSet<>();
    for (Map.Entry<String, Object> e : frames().entrySet()) {
      byte[] bytes = write(e.getValue());
      for (int i = 0; i + 4 <= bytes.length; i++) {
        byte[] mutated = bytes.clone();
        ByteBuffer.wrap(mutated).order(ByteOrder.LITTLE_ENDIAN).putInt(i, value);
        try {
          FrameCodec.read(e.getValue().getClass(), ByteBuffer.wrap(mutated), NOW);
        } catch (IllegalArgumentException r) {
          if (r.getMessage().contains(" bytes are left") || r.getMessage().contains("negative length")) {
            named.add(field(r));
            refusedPerSample.merge(e.getKey(), 1, Integer::sum);
          }
        } catch (Throwable t) {
          throw new AssertionError(e.getKey() + " with " + value + " at byte " + i + " threw " + t, t);
        }
      }
    }
    return named;
  }

  /** The length fields of the format: counts, string and byte lengths, shapes. */
  static final Set<String> LENGTHS = Set.of("request count", "reply count", "model name", "version label",
      "signature name", "request id", "traceparent", "input count", "input name", "input data", "input element",
      "example count", "feature count", "feature name", "feature values", "feature value", "output count",
      "output name", "output data", "output element", "failure message");

  @Test
  void everyLengthField_declaringAHugeLength_isRefusedByName_beforeAllocating() {
    Map<String, Integer> perSample = new TreeMap<>();
    long start = System.nanoTime();
    Set<String> named = mutateEveryInt(Integer.MAX_VALUE, perSample);
    named.addAll(mutateEveryInt(0x4000_0000, perSample));
    Set<String> missing = new TreeSet<>(LENGTHS);
    missing.removeAll(named);
    assertEquals(Set.of(), missing, "length fields never refused; refused: " + named);
    Set<String> withLengths = new TreeSet<>(frames().keySet());
    withLengths.removeIf(k -> k.startsWith("Credit"));
    assertEquals(withLengths, perSample.keySet());
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(millis < 20_000, "mutated frames took " + millis + " ms to refuse");
  }

  @Test
  void everyLengthField_declaringANegativeLength_isRefusedByName() {
    Map<String, Integer> perSample = new TreeMap<>();
    Set<String> named = mutateEveryInt(-2, perSample);
    named.addAll(mutateEveryInt(Integer.MIN_VALUE, perSample));
    Set<String> missing = new TreeSet<>(LENGTHS);
    missing.removeAll(named);
    assertEquals(Set.of(), missing, "length fields never refused; refused: " + named);
  }

  /** A request frame of one predict request, written by hand: {@code inputs} writes the inputs' count and inputs. */
  static byte[] predictFrame(String model, String signature, java.util.function.Consumer<ByteBuffer> inputs) {
    ByteBuffer b = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 1).putLong(1).putInt(0).putInt(1); // format, channel, acked, one request
    b.putLong(9).putInt(0).putLong(100).put((byte) 1); // id, replica, budget, predict
    FrameCodec.putString(b, model);
    b.put((byte) 0); // latest
    FrameCodec.putString(b, signature);
    b.putInt(-1).putInt(-1); // no request id, no traceparent
    inputs.accept(b);
    return Arrays.copyOf(b.array(), b.position());
  }

  /** A request frame of one predict request with one input, written by {@code input}. */
  static byte[] predictFrame(java.util.function.Consumer<ByteBuffer> input) {
    return predictFrame("m", "s", b -> {
      b.putInt(1);
      input.accept(b);
    });
  }

  @Test
  void aShapeWhoseElementsOverflow_isRefusedNamingTheInput() {
    // 3 x 2^62 elements: more than a long holds (Tensor.elementCount throws ArithmeticException)
    byte[] frame = predictFrame(b -> {
      FrameCodec.putString(b, "x");
      b.put((byte) DType.FLOAT32.wire()).put((byte) 2).putLong(3).putLong(1L << 62).putInt(0);
    });
    IllegalArgumentException e = refusal(RequestFrame.class, frame, "overflowing shape");
    assertTrue(e.getMessage().startsWith("input 'x' shape"), e.getMessage());
  }

  @Test
  void aShapeWithANegativeOrHugeDimension_isRefusedNamingTheInput() {
    for (long[] shape : List.of(new long[] {-1}, new long[] {1L << 40}, new long[] {1 << 20, 1 << 20})) {
      byte[] frame = predictFrame(b -> {
        FrameCodec.putString(b, "x");
        b.put((byte) DType.STRING.wire()).put((byte) shape.length);
        for (long d : shape) {
          b.putLong(d);
        }
      });
      IllegalArgumentException e = refusal(RequestFrame.class, frame, Arrays.toString(shape));
      assertTrue(e.getMessage().startsWith("input 'x' shape"), e.getMessage());
    }
  }

  @Test
  void dataThatDoesNotMatchTheShape_isRefusedNamingTheInput() {
    byte[] frame = predictFrame(b -> {
      FrameCodec.putString(b, "x");
      b.put((byte) DType.FLOAT32.wire()).put((byte) 1).putLong(3).putInt(8).putLong(0);
    });
    IllegalArgumentException e = refusal(RequestFrame.class, frame, "short data");
    assertTrue(e.getMessage().contains("input 'x' data") && e.getMessage().contains("needs 12"), e.getMessage());
  }

  @Test
  void missingNames_areRefusedByName_neverANullKeyOrANullPointer() {
    // a string of length -1 (null) where a name must be
    byte[] noInputName = predictFrame(b -> {
      b.putInt(-1);
      b.put((byte) DType.INT32.wire()).put((byte) 0).putInt(4).putInt(7);
    });
    assertEquals("input name", field(refusal(RequestFrame.class, noInputName, "no input name")));
    assertEquals("signature name", field(refusal(RequestFrame.class, predictFrame("m", null, b -> b.putInt(0)),
        "no signature")));
    assertEquals("model name", field(refusal(RequestFrame.class, predictFrame(null, "s", b -> b.putInt(0)),
        "no model")));
    ByteBuffer reply = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    reply.put((byte) 1).putLong(1).putInt(0).putInt(1); // format, channel, acked, one reply
    reply.putLong(1).put((byte) 1).putLong(1).putInt(1); // id, result, version, one output
    reply.putInt(-1).put((byte) DType.INT32.wire()).put((byte) 0).putInt(4).putInt(7);
    assertEquals("output name", field(refusal(ReplyFrame.class, Arrays.copyOf(reply.array(), reply.position()),
        "no output name")));
    byte[] noFeatureName = write(oneRequest(1, examples(ExampleMethod.CLASSIFY, List.of(), FrameSamples.linked("",
        new Feature.Int64List(new long[0])), null, null)));
    // the end: the context's i32 1, its name "" (i32 0), u8 kind, i32 0 values
    ByteBuffer.wrap(noFeatureName).order(ByteOrder.LITTLE_ENDIAN).putInt(noFeatureName.length - 4 - 1 - 4, -1);
    assertEquals("feature name", field(refusal(RequestFrame.class, noFeatureName, "no feature name")));
  }

  @Test
  void duplicateNames_areRefused_neverOneSilentlyDropped() {
    byte[] frame = predictFrame(b -> {
      b.position(b.position() - 4).putInt(2);
      for (int i = 0; i < 2; i++) {
        FrameCodec.putString(b, "x");
        b.put((byte) DType.INT32.wire()).put((byte) 0).putInt(4).putInt(i);
      }
    });
    IllegalArgumentException e = refusal(RequestFrame.class, frame, "two inputs named x");
    assertTrue(e.getMessage().contains("input name") && e.getMessage().contains("'x'"), e.getMessage());
  }

  @Test
  void unknownKindsAndNumbers_areRefusedNamingThem() {
    RequestFrame f = oneRequest(1, predict(Map.of(), null, null));
    int kindAt = 17 + 8 + 4 + 8;
    byte[] bytes = write(f);
    bytes[kindAt] = 9;
    assertTrue(refusal(RequestFrame.class, bytes, "kind 9").getMessage().contains("request kind 9"));
    bytes = write(f);
    bytes[kindAt + 1 + 4 + 1] = 7; // version selector after the model name "m"
    assertTrue(refusal(RequestFrame.class, bytes, "selector 7").getMessage().contains("version selector 7"));
    bytes = write(oneRequest(1, predict(FrameSamples.linked("x", Tensor.ofInts(new long[0], 1)), null, null)));
    int dtypeAt = bytes.length - 4 - 4 - 1 - 1; // data length, data, rank, dtype from the end
    bytes[dtypeAt] = 15;
    assertTrue(refusal(RequestFrame.class, bytes, "dtype 15").getMessage().contains("dtype wire number 15"));
    byte[] reply = write(new ReplyFrame(1, 0, List.of(new Reply(1, new Failure(ErrorCode.INTERNAL, "x")))));
    reply[17 + 8] = 3;
    assertTrue(refusal(ReplyFrame.class, reply, "reply kind 3").getMessage().contains("reply kind 3"));
    byte[] format = write(new Credit(1, 1));
    format[0] = 0;
    assertTrue(refusal(Credit.class, format, "format 0").getMessage().contains("format 0"));
    assertTrue(refusal(Open.class, write(new Credit(1, 1)), "Open").getMessage().contains("not a frame type"));
  }

  @Test
  void anExampleWithAnUnknownFeatureKindOrMethod_isRefusedNamingIt() {
    RequestFrame f = oneRequest(1, examples(ExampleMethod.REGRESS, List.of(FrameSamples.linked("f",
        new Feature.FloatList(new float[] {1}))), Map.of(), null, null));
    byte[] bytes = write(f);
    // the end: ..., u8 kind, i32 count, f32 value, then the context's i32 0
    bytes[bytes.length - 4 - 4 - 4 - 1] = 4;
    IllegalArgumentException e = refusal(RequestFrame.class, bytes, "feature kind 4");
    assertTrue(e.getMessage().contains("feature 'f' kind") && e.getMessage().contains("4"), e.getMessage());
    bytes = write(f);
    int methodAt = 17 + 8 + 4 + 8 + 1 + 5 + 1 + 8 + 7 + 4 + 4; // ..., "m", specific 3, "sig", no ids
    assertEquals(2, bytes[methodAt]);
    bytes[methodAt] = 0;
    assertTrue(refusal(RequestFrame.class, bytes, "method 0").getMessage().contains("example method 0"));
  }

  @Test
  void randomBytes_areRefusedOrDecoded_neverAnotherException() {
    java.util.Random random = new java.util.Random(42);
    int refused = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] bytes = new byte[random.nextInt(64)];
      random.nextBytes(bytes);
      if (bytes.length > 0) {
        bytes[0] = 1;
      }
      Class<?> type = List.of(RequestFrame.class, ReplyFrame.class, Credit.class).get(i % 3);
      try {
        FrameCodec.read(type, ByteBuffer.wrap(bytes), NOW);
      } catch (IllegalArgumentException e) {
        refused++;
      }
    }
    assertTrue(refused > 10_000, "refused " + refused);
  }

  @Test
  void aNullFailureMessage_travelsAsTheCodesDefault() {
    ReplyFrame f = new ReplyFrame(1, 0, List.of(new Reply(1, new Failure(ErrorCode.OVERLOADED, null))));
    Failure back = (Failure) ((ReplyFrame) read(f, write(f))).replies().get(0).reply();
    assertEquals(ErrorCode.OVERLOADED.defaultMessage(), back.message());
    assertNull(((RequestFrame) read(oneRequest(1, predict(Map.of(), null, null)),
        write(oneRequest(1, predict(Map.of(), null, null))))).requests().get(0).call().requestId());
  }

  @Test
  void manyRequestsInOneFrame_roundTripInOrder() {
    List<Request> requests = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      requests.add(new Request(i, i % 4, i, i % 2 == 0
          ? predict(FrameSamples.linked("x", Tensor.ofInts(new long[] {1}, i)), "r" + i, null)
          : examples(ExampleMethod.CLASSIFY, List.of(Map.of("f", new Feature.Int64List(new long[] {i}))), Map.of(),
              null, "t" + i)));
    }
    assertRoundTrips(new RequestFrame(3, 9, requests));
  }
}

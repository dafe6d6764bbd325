package dev.shardserve.channel;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Channel messages of every kind, and the values of the channel golden samples under
 * {@code src/test/resources/golden/channel/<release>/} (one file per entry, named
 * {@code <manifest>--<case>.bin}, the manifest with its format: {@code RequestFrame@1}).
 * {@link FrameGoldenWriter} wrote the files from this table; {@link FrameGoldenBytesTest} reads
 * them with today's code; {@link FrameCodecTest} round-trips every entry.
 *
 * <p>A record of what was written: never change an entry that has files, only add entries. Every
 * collection has a fixed order (sorted or linked maps), so a write gives the same bytes in any
 * JVM. The calls' deadlines are not written (the remaining budget is): each call here has
 * deadline 0, and {@link #rebased} gives the value a reader at a given time decodes.
 */
final class FrameSamples {
  /** Every actor ref in the samples: a remote ref of another system, the same in every release. */
  static final String REF = "akka://golden@127.0.0.1:25598/user/golden-channel#43";

  /** Every error code by name, so that a code added later does not change an entry. */
  static final List<ErrorCode> EVERY_CODE_OF_FORMAT_1 = List.of(ErrorCode.INTERNAL, ErrorCode.MODEL_NOT_FOUND,
      ErrorCode.VERSION_NOT_FOUND, ErrorCode.LABEL_NOT_FOUND, ErrorCode.SIGNATURE_NOT_FOUND, ErrorCode.INVALID_INPUT,
      ErrorCode.OVERLOADED, ErrorCode.MODEL_NOT_READY, ErrorCode.DEADLINE_EXCEEDED, ErrorCode.UNAVAILABLE,
      ErrorCode.MODEL_LOAD_FAILED, ErrorCode.TOO_LARGE, ErrorCode.UNAUTHENTICATED, ErrorCode.PERMISSION_DENIED,
      ErrorCode.NOT_FOUND, ErrorCode.METHOD_NOT_ALLOWED, ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      ErrorCode.REQUEST_TIMEOUT);

  static final String TRACE_PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  private FrameSamples() {}

  static Map<String, Object> all(ActorRefResolver resolver) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("RequestFrame@1--empty", new RequestFrame(0, 0, List.of()));
    s.put("RequestFrame@1--predict-every-dtype", new RequestFrame(7, 2, List.of(
        new Request(1, 0, 1_500_000, new InferCall.Predict("half_plus_two", new VersionSelector.Specific(123),
            "serving_default", everyDType(), 0, "req-1", TRACE_PARENT)))));
    s.put("RequestFrame@1--predict-label-no-inputs-no-ids", new RequestFrame(7, 0, List.of(
        new Request(2, 3, -5, new InferCall.Predict("m.v2_x-y", new VersionSelector.Label("stable"), "",
            Map.of(), 0, null, null)))));
    s.put("RequestFrame@1--examples-classify", new RequestFrame(-1, 1, List.of(
        new Request(3, 1, 250, new InferCall.Examples("m", VersionSelector.latest(), "classify_x_to_y",
            ExampleMethod.CLASSIFY, List.of(everyFeature(), linked("x", new Feature.FloatList(new float[] {3f}))),
            linked("c", new Feature.BytesList(List.of(bytes("ctx")))), 0, "req-3", null)))));
    s.put("RequestFrame@1--examples-regress-empty", new RequestFrame(1, 0, List.of(
        new Request(4, 0, 0, new InferCall.Examples("m", VersionSelector.latest(), "regress_x_to_y",
            ExampleMethod.REGRESS, List.of(), Map.of(), 0, null, TRACE_PARENT)))));
    s.put("RequestFrame@1--several-requests", new RequestFrame(Long.MAX_VALUE, Integer.MAX_VALUE, List.of(
        new Request(Long.MIN_VALUE, 0, Long.MAX_VALUE, new InferCall.Predict("m", VersionSelector.latest(),
            "sig-\u00fc-\u20ac-\ud83d\ude00", linked("x", Tensor.ofFloats(new long[] {1}, 1f)), 0, "\u00e9t\u00e9",
            TRACE_PARENT)),
        new Request(-1, Integer.MAX_VALUE, 1, new InferCall.Examples("other", new VersionSelector.Specific(0), "s",
            ExampleMethod.REGRESS, List.of(Map.of()), Map.of(), 0, null, null)),
        new Request(0, 2, 60_000_000, new InferCall.Predict("m", new VersionSelector.Specific(Long.MAX_VALUE), "s",
            linked("s", Tensor.ofStrings(new long[] {2}, List.of(bytes(""), new byte[] {0, (byte) 0xff}))), 0,
            "", "")))));

    s.put("ReplyFrame@1--empty", new ReplyFrame(0, 0, List.of()));
    Outputs batch = batch();
    s.put("ReplyFrame@1--results-row-views", new ReplyFrame(9, 4, List.of(
        new Reply(10, new InferResult(5, batch.rows(0, 1))),
        new Reply(11, new InferResult(5, batch.rows(1, 3))),
        new Reply(12, new InferResult(5, batch.rows(3, 4))),
        new Reply(13, new InferResult(5, batch.rows(2, 2))))));
    s.put("ReplyFrame@1--results-whole-tensors", new ReplyFrame(9, 0, List.of(
        new Reply(20, new InferResult(Long.MAX_VALUE, everyDType())),
        new Reply(21, new InferResult(0, Map.of())))));
    List<Reply> failures = new ArrayList<>();
    for (ErrorCode code : EVERY_CODE_OF_FORMAT_1) {
      failures.add(new Reply(100 + code.wire(), new Failure(code, code.name() + " \u00e0 'x' \ud83d\ude00")));
    }
    failures.add(new Reply(200, new Failure(ErrorCode.OVERLOADED, null)));
    s.put("ReplyFrame@1--every-failure", new ReplyFrame(3, 1, failures));
    s.put("ReplyFrame@1--results-and-failures", new ReplyFrame(3, 0, List.of(
        new Reply(30, new InferResult(1, batch.rows(0, 4))),
        new Reply(31, new Failure(ErrorCode.DEADLINE_EXCEEDED, "deadline exceeded")))));

    s.put("Credit@1--zero", new Credit(0, 0));
    s.put("Credit@1--extremes", new Credit(Long.MIN_VALUE, Integer.MAX_VALUE));
    s.put("Open@1--format-1", new Open(42, 1, ref(resolver)));
    s.put("Opened@1--format-1", new Opened(42, 1, ref(resolver)));
    return s;
  }

  /** A tensor of every dtype (a 1x2 of each numeric one), a scalar, an empty one and strings. */
  static Map<String, Tensor> everyDType() {
    Map<String, Tensor> m = new TreeMap<>();
    for (DType t : List.of(DType.FLOAT16, DType.BFLOAT16, DType.FLOAT32, DType.FLOAT64, DType.INT8, DType.INT16,
        DType.INT32, DType.INT64, DType.UINT8, DType.UINT16, DType.UINT32, DType.UINT64, DType.BOOL)) {
      byte[] data = new byte[2 * t.byteSize()];
      for (int i = 0; i < data.length; i++) {
        data[i] = (byte) (i * 37 + t.wire());
      }
      if (t == DType.BOOL) {
        data = new byte[] {1, 0};
      }
      m.put(t.name().toLowerCase(), Tensor.of(t, new long[] {1, 2}, data));
    }
    m.put("scalar", Tensor.ofInts(new long[0], 42));
    m.put("empty", Tensor.ofFloats(new long[] {0, 5}));
    m.put("empty-strings", Tensor.ofStrings(new long[] {2, 0}, List.of()));
    m.put("string-scalar", Tensor.ofStrings(new long[0], List.of(bytes("only"))));
    m.put("strings", Tensor.ofStrings(new long[] {3}, List.of(bytes("a"), new byte[] {0, (byte) 0xff}, bytes(""))));
    m.put("\u00fc-\u20ac", Tensor.ofDoubles(new long[] {1, 1, 1}, -0.0));
    return m;
  }

  /** The outputs of a batch of four rows: floats [4, 2], strings [4], int64 [4, 0]. */
  static Outputs batch() {
    return Outputs.of(Map.of(
        "scores", Tensor.ofFloats(new long[] {4, 2}, 0, 1, 10, 11, 20, 21, 30, 31),
        "labels", Tensor.ofStrings(new long[] {4}, List.of(bytes("zero"), bytes(""), bytes("two"),
            bytes("\u00fe\u00f6\u00fc\u00f0"))),
        "none", Tensor.ofLongs(new long[] {4, 0})));
  }

  /** Features of every kind, including empty lists. */
  static Map<String, Feature> everyFeature() {
    Map<String, Feature> m = new LinkedHashMap<>();
    m.put("floats", new Feature.FloatList(new float[] {1.5f, -2f, Float.NaN, Float.NEGATIVE_INFINITY}));
    m.put("int64s", new Feature.Int64List(new long[] {7, Long.MIN_VALUE, Long.MAX_VALUE}));
    m.put("bytes", new Feature.BytesList(List.of(bytes("n"), bytes("\u00fc"), new byte[0])));
    m.put("no-floats", new Feature.FloatList(new float[0]));
    m.put("no-int64s", new Feature.Int64List(new long[0]));
    m.put("no-bytes", new Feature.BytesList(List.of()));
    return m;
  }

  /**
   * {@code frame} as a reader decodes it at {@code nowNanos}: each call's deadline is
   * {@code nowNanos} plus its remaining budget (none when negative), in nanoseconds.
   */
  static Object rebased(Object frame, long nowNanos) {
    if (!(frame instanceof RequestFrame f)) {
      return frame;
    }
    List<Request> requests = new ArrayList<>();
    for (Request r : f.requests()) {
      long budgetMicros = Math.max(0, Math.min(r.remainingMicros(), Long.MAX_VALUE / 2000));
      requests.add(new Request(r.id(), r.replica(), r.remainingMicros(),
          withDeadline(r.call(), nowNanos + budgetMicros * 1000)));
    }
    return new RequestFrame(f.channelId(), f.repliesAcked(), requests);
  }

  static InferCall withDeadline(InferCall c, long deadlineNanos) {
    if (c instanceof InferCall.Predict p) {
      return new InferCall.Predict(p.model(), p.version(), p.signatureName(), p.inputs(), deadlineNanos,
          p.requestId(), p.traceParent());
    }
    InferCall.Examples e = (InferCall.Examples) c;
    return new InferCall.Examples(e.model(), e.version(), e.signatureName(), e.method(), e.examples(), e.context(),
        deadlineNanos, e.requestId(), e.traceParent());
  }

  static <V> Map<String, V> linked(String key, V value) {
    Map<String, V> m = new LinkedHashMap<>();
    m.put(key, value);
    return m;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static <T> ActorRef<T> ref(ActorRefResolver resolver) {
    return (ActorRef<T>) resolver.resolveActorRef(REF);
  }
}

package dev.shardserve.serialization;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorRefResolver;
import dev.shardserve.desired.BatchingSpec;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.ModelSpec;
import dev.shardserve.desired.VersionPolicy;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelCatalog.NodeModels;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.Infer;
import dev.shardserve.protocol.ModelProtocol.InferExamples;
import dev.shardserve.protocol.ModelProtocol.InferResult;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The values of the golden samples under {@code src/test/resources/golden/<release>/}: one file
 * per entry, named {@code <manifest>--<case>.bin}. {@link GoldenWriter} wrote the files of each
 * release from this table (for {@code 1970aee}, compiled against that release's jar: see the
 * README beside the samples); {@link GoldenBytesTest} reads every file with today's code and
 * compares the decoded value with the entry.
 *
 * <p>These values are a record of what was written: never change an entry that has files, only
 * add entries (a new type, a new case) together with their new files. The entries up to issue 12
 * use only constructors that release {@code 1970aee} has (its jar compiled this class to write its
 * folder); later entries use later code, and a folder is written only by its own release. Entries
 * whose manifest names a format ({@code ModelSpec@2}) have files only in the folders of releases
 * that write that format.
 */
final class GoldenSamples {
  /** Every actor ref in the samples: a remote ref of another system, the same in every release. */
  static final String REPLY_TO = "akka://golden@127.0.0.1:25598/user/golden-reply#42";

  private GoldenSamples() {}

  static Map<String, Object> all(ActorRefResolver resolver) {
    ActorRef<Object> ref = resolver.resolveActorRef(REPLY_TO);
    Map<String, Object> s = new LinkedHashMap<>();
    Tensor floats = Tensor.ofFloats(new long[] {2, 3}, 1, 2, 3, 4.5f, -5, Float.MAX_VALUE);
    Tensor strings = Tensor.ofStrings(new long[] {3},
        List.of(bytes("a"), new byte[] {0, (byte) 0xff}, bytes("")));

    s.put("Infer--latest-float-and-string", new Infer("half_plus_two", VersionSelector.latest(),
        "serving_default", Map.of("x", floats, "s", strings), 1_700_000_000_000L, ref(ref)));
    s.put("Infer--specific-every-dtype", new Infer("m", new VersionSelector.Specific(123), "sig",
        everyDType(), 1L, ref(ref)));
    s.put("Infer--label-no-inputs", new Infer("m.v2_x-y", new VersionSelector.Label("stable"), "",
        Map.of(), Long.MAX_VALUE, ref(ref)));
    s.put("InferExamples--classify", new InferExamples("m", new VersionSelector.Label("canary"), "classify_x_to_y",
        ExampleMethod.CLASSIFY,
        List.of(Map.of(
            "x", new Feature.FloatList(new float[] {1.5f, -2f}),
            "id", new Feature.Int64List(new long[] {7, Long.MIN_VALUE}),
            "name", new Feature.BytesList(List.of(bytes("n"), bytes("ü")))), Map.of()),
        Map.of("c", new Feature.FloatList(new float[] {2f})), 5L, ref(ref)));
    s.put("InferExamples--regress", new InferExamples("m", VersionSelector.latest(), "regress_x_to_y",
        ExampleMethod.REGRESS, List.of(Map.of("x", new Feature.FloatList(new float[0]))), Map.of(), 6L, ref(ref)));
    s.put("GetStatus--latest", new GetStatus("m", VersionSelector.latest(), ref(ref)));
    s.put("GetStatus--specific", new GetStatus("m", new VersionSelector.Specific(0), ref(ref)));
    s.put("GetMetadata--label", new GetMetadata("m", new VersionSelector.Label("stable"), ref(ref)));
    s.put("InferResult--two-outputs", new InferResult(123, Map.of("y", floats, "names", strings)));
    s.put("InferResult--no-outputs", new InferResult(0, Map.of()));
    for (ErrorCode code : List.of(ErrorCode.INTERNAL, ErrorCode.MODEL_NOT_FOUND, ErrorCode.VERSION_NOT_FOUND,
        ErrorCode.LABEL_NOT_FOUND, ErrorCode.SIGNATURE_NOT_FOUND, ErrorCode.INVALID_INPUT, ErrorCode.OVERLOADED,
        ErrorCode.MODEL_NOT_READY, ErrorCode.DEADLINE_EXCEEDED, ErrorCode.UNAVAILABLE,
        ErrorCode.MODEL_LOAD_FAILED)) {
      s.put("Failure--" + code.name().toLowerCase().replace('_', '-'),
          new Failure(code, "failure " + code.name() + " 'x'"));
    }
    s.put("ModelStatus--every-state", new ModelStatus(List.of(
        new VersionStatus(6, VersionState.UNKNOWN, null, ""),
        new VersionStatus(5, VersionState.START, null, ""),
        new VersionStatus(4, VersionState.LOADING, null, ""),
        new VersionStatus(3, VersionState.AVAILABLE, null, ""),
        new VersionStatus(2, VersionState.UNLOADING, null, ""),
        new VersionStatus(1, VersionState.END, ErrorCode.MODEL_LOAD_FAILED, "corrupt saved_model.pb")),
        new TreeSet<>(Set.of(1L, 2L, 3L, 4L, 5L, 6L, 1_000_000_000_000L))));
    s.put("ModelStatus--empty", new ModelStatus(List.of()));
    TensorInfo x = new TensorInfo("x:0", "DT_FLOAT", new long[] {-1, 3}, false);
    TensorInfo y = new TensorInfo("y:0", "DT_STRING", new long[0], true);
    TensorInfo init = new TensorInfo("init", "DT_INVALID", new long[] {}, false);
    s.put("ModelMetadata--two-signatures", new ModelMetadata(7, Map.of(
        "serving_default", new SignatureInfo("tensorflow/serving/predict", Map.of("x", x), Map.of("y", y)),
        "__saved_model_init_op", new SignatureInfo("", Map.of(), Map.of("init", init)))));
    s.put("NodeModels--capacity-and-replicas", new NodeModels(Set.of("a", "b", "half_plus_two"), 4, 2, 16_384,
        Set.of("a#0", "b#1")));
    s.put("NodeModels--models-only", new NodeModels(Set.of()));
    ModelSpec custom = new ModelSpec("/srv/models/b", new VersionPolicy.Specific(new TreeSet<>(Set.of(3L, 4L))),
        new TreeMap<>(Map.of("stable", 3L, "canary", 4L)), 3, false, true,
        new BatchingSpec(true, 32, 2_000, 500, List.of(8, 16, 32), 2, false), 12_345);
    ModelSpec stateful = new ModelSpec("relative/c", new VersionPolicy.Latest(2), new TreeMap<>(), 1, true, false);
    s.put("DesiredState--three-models", new DesiredState(false, new TreeMap<>(Map.of(
        "a", ModelSpec.DEFAULT,
        "b", custom,
        "c", stateful,
        "d", ModelSpec.DEFAULT.withPolicy(VersionPolicy.All.INSTANCE).withBatching(
            new BatchingSpec(false, 1, 0, 1, List.of(), 0, true))))));
    s.put("DesiredState--initial", new DesiredState(true, new TreeMap<>()));
    s.put("ModelSpec--default", ModelSpec.DEFAULT);
    s.put("ModelSpec--custom", custom);
    // issue 18: format 2 of ModelSpec and DesiredState, a model's device
    s.put("ModelSpec@2--gpu", custom.withDevice(dev.shardserve.desired.Device.GPU));
    s.put("ModelSpec@2--cpu", ModelSpec.DEFAULT.withDevice(dev.shardserve.desired.Device.CPU));
    s.put("DesiredState@2--devices", new DesiredState(false, new TreeMap<>(Map.of(
        "any", ModelSpec.DEFAULT,
        "cpu", stateful.withDevice(dev.shardserve.desired.Device.CPU),
        "gpu", custom.withDevice(dev.shardserve.desired.Device.GPU)))));
    return s;
  }

  /** A tensor of every dtype, including a scalar and an empty one. */
  private static Map<String, Tensor> everyDType() {
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
    m.put("string-scalar", Tensor.ofStrings(new long[0], List.of(bytes("only"))));
    return m;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @SuppressWarnings("unchecked")
  private static <T> ActorRef<T> ref(ActorRef<Object> ref) {
    return (ActorRef<T>) (ActorRef<?>) ref;
  }
}

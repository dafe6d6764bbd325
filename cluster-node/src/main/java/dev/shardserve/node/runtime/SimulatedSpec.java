package dev.shardserve.node.runtime;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a version folder's {@code simulated.json} declares: a model served by a simulated
 * accelerator ({@link SimulatedBackend}), for capacity planning and tests without hardware.
 * <pre>
 * {"inputs":  {"x": {"dtype": "DT_FLOAT", "shape": [-1, 16]}},
 *  "outputs": {"y": {"dtype": "DT_FLOAT", "shape": [-1, 16], "from": "x"}},
 *  "batch_latency_us": 2000, "row_latency_us": 5, "max_batch_size": 64, "concurrency": 1}
 * </pre>
 * Every output is a copy of the input it names, so its dtype and shape must equal that input's.
 * A batch takes {@code batch_latency_us + rows × row_latency_us}; a device runs
 * {@code concurrency} batches at once. Every field is checked at load, with a message naming it.
 *
 * @param inputs input name → its dtype and shape (-1: any size)
 * @param outputs output name → the input it copies
 */
public record SimulatedSpec(Map<String, TensorSpec> inputs, Map<String, String> outputs, long batchLatencyMicros,
    long rowLatencyMicros, int maxBatchSize, int concurrency) {

  /** The file that makes a version folder a simulated model (when it holds no {@code saved_model.pb}). */
  public static final String FILE = "simulated.json";
  /** A batch's latency may not exceed a minute. */
  static final long MAX_LATENCY_MICROS = 60_000_000L;
  static final int DEFAULT_MAX_BATCH_SIZE = 64;
  private static final Set<String> KEYS = Set.of("inputs", "outputs", "batch_latency_us", "row_latency_us",
      "max_batch_size", "concurrency");

  /** One input: its dtype ({@code DT_FLOAT}) and shape. */
  public record TensorSpec(DType dtype, long[] shape) {
    @Override
    public boolean equals(Object o) {
      return o instanceof TensorSpec t && t.dtype == dtype && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
      return dtype.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
      return dtype.tfName() + Arrays.toString(shape);
    }
  }

  public SimulatedSpec {
    if (inputs.isEmpty()) {
      throw new IllegalArgumentException("'inputs' must name at least one input");
    }
    if (outputs.isEmpty()) {
      throw new IllegalArgumentException("'outputs' must name at least one output");
    }
    for (Map.Entry<String, String> o : outputs.entrySet()) {
      if (!inputs.containsKey(o.getValue())) {
        throw new IllegalArgumentException("output '" + o.getKey() + "' copies input '" + o.getValue()
            + "', which is not in 'inputs' " + inputs.keySet());
      }
    }
    checkRange("batch_latency_us", batchLatencyMicros, 0, MAX_LATENCY_MICROS);
    checkRange("row_latency_us", rowLatencyMicros, 0, MAX_LATENCY_MICROS);
    checkRange("max_batch_size", maxBatchSize, 1, 1_000_000);
    checkRange("concurrency", concurrency, 1, 1024);
    inputs = Collections.unmodifiableMap(new TreeMap<>(inputs));
    outputs = Collections.unmodifiableMap(new TreeMap<>(outputs));
  }

  private static void checkRange(String key, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException("'" + key + "' must be between " + min + " and " + max + ", was " + value);
    }
  }

  /** How long the device takes for a batch of {@code rows} rows, in nanoseconds. */
  public long batchNanos(int rows) {
    return (batchLatencyMicros + Math.max(0, rows) * rowLatencyMicros) * 1000L;
  }

  /** The model's one signature, {@code serving_default}, with a predict method. */
  public SignatureInfo signature() {
    Map<String, TensorInfo> in = new LinkedHashMap<>();
    for (Map.Entry<String, TensorSpec> e : inputs.entrySet()) {
      in.put(e.getKey(), new TensorInfo(e.getKey() + ":0", e.getValue().dtype().tfName(), e.getValue().shape(),
          false));
    }
    Map<String, TensorInfo> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : outputs.entrySet()) {
      TensorSpec from = inputs.get(e.getValue());
      out.put(e.getKey(), new TensorInfo(e.getKey() + ":0", from.dtype().tfName(), from.shape(), false));
    }
    return new SignatureInfo(PREDICT_METHOD, in, out);
  }

  static final String PREDICT_METHOD = "tensorflow/serving/predict";

  /** Reads {@code file}; throws {@link InferenceException} (MODEL_LOAD_FAILED) naming the file and the reason. */
  public static SimulatedSpec read(Path file) {
    try {
      Map<String, Object> root = ConfigFactory.parseString(Files.readString(file, StandardCharsets.UTF_8),
          ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON)).root().unwrapped();
      return parse(root);
    } catch (IOException | ConfigException | IllegalArgumentException e) {
      throw new InferenceException(ErrorCode.MODEL_LOAD_FAILED, file + ": " + e.getMessage(), e);
    }
  }

  /** The spec of a parsed {@code simulated.json}; throws IllegalArgumentException naming the bad field. */
  static SimulatedSpec parse(Map<String, Object> root) {
    for (String key : root.keySet()) {
      if (!KEYS.contains(key)) {
        throw new IllegalArgumentException("unknown field '" + key + "' (known: " + new TreeMap<>(
            Map.of("a", KEYS)).get("a") + ")");
      }
    }
    Map<String, TensorSpec> inputs = new TreeMap<>();
    for (Map.Entry<String, Object> e : object(root, "inputs").entrySet()) {
      String at = "input '" + e.getKey() + "'";
      Map<String, Object> t = asObject(e.getValue(), at);
      inputs.put(checkedName(e.getKey(), at), new TensorSpec(dtype(t, at), shape(t, at)));
    }
    Map<String, String> outputs = new TreeMap<>();
    Map<String, Object> outs = object(root, "outputs");
    for (Map.Entry<String, Object> e : outs.entrySet()) {
      String at = "output '" + e.getKey() + "'";
      Map<String, Object> t = asObject(e.getValue(), at);
      if (!(t.get("from") instanceof String from)) {
        throw new IllegalArgumentException(at + ": 'from' must name an input, was " + t.get("from"));
      }
      TensorSpec source = inputs.get(from);
      if (source == null) {
        throw new IllegalArgumentException(at + " copies input '" + from + "', which is not in 'inputs' "
            + inputs.keySet());
      }
      TensorSpec declared = new TensorSpec(dtype(t, at), shape(t, at));
      if (!declared.equals(source)) {
        throw new IllegalArgumentException(at + " is declared " + declared + " but copies input '" + from
            + "', which is " + source + ": an output's dtype and shape must equal its input's");
      }
      outputs.put(checkedName(e.getKey(), at), from);
    }
    if (!root.containsKey("batch_latency_us")) {
      throw new IllegalArgumentException("missing 'batch_latency_us' (microseconds a batch takes)");
    }
    return new SimulatedSpec(inputs, outputs, integer(root, "batch_latency_us", 0),
        integer(root, "row_latency_us", 0), narrow(root, "max_batch_size", DEFAULT_MAX_BATCH_SIZE, 1, 1_000_000),
        narrow(root, "concurrency", 1, 1, 1024));
  }

  /** An int setting, range-checked before it is narrowed (4294967297 must not become 1). */
  private static int narrow(Map<String, Object> root, String key, long otherwise, long min, long max) {
    long value = integer(root, key, otherwise);
    checkRange(key, value, min, max);
    return (int) value;
  }

  private static String checkedName(String name, String at) {
    if (name.isEmpty()) {
      throw new IllegalArgumentException(at + ": a name must be non-empty");
    }
    return name;
  }

  private static Map<String, Object> object(Map<String, Object> root, String key) {
    Object v = root.get(key);
    if (v == null) {
      throw new IllegalArgumentException("missing '" + key + "'");
    }
    return asObject(v, "'" + key + "'");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asObject(Object v, String at) {
    if (!(v instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(at + " must be an object, was " + v);
    }
    return (Map<String, Object>) m;
  }

  private static DType dtype(Map<String, Object> t, String at) {
    Object name = t.get("dtype");
    DType d = name instanceof String s ? DType.fromTfName(s) : null;
    if (d == null) {
      throw new IllegalArgumentException(at + ": 'dtype' must be a TensorFlow dtype such as DT_FLOAT, was " + name);
    }
    return d;
  }

  private static long[] shape(Map<String, Object> t, String at) {
    if (!(t.get("shape") instanceof List<?> dims)) {
      throw new IllegalArgumentException(at + ": 'shape' must be a list of dimensions such as [-1, 16], was "
          + t.get("shape"));
    }
    long[] shape = new long[dims.size()];
    for (int i = 0; i < shape.length; i++) {
      Object d = dims.get(i);
      if (!(d instanceof Integer || d instanceof Long) || ((Number) d).longValue() < -1) {
        throw new IllegalArgumentException(at + ": dimension " + i + " must be an integer >= -1, was " + d);
      }
      shape[i] = ((Number) d).longValue();
    }
    return shape;
  }

  private static long integer(Map<String, Object> root, String key, long defaultValue) {
    Object v = root.get(key);
    if (v == null) {
      return defaultValue;
    }
    if (!(v instanceof Integer || v instanceof Long)) {
      throw new IllegalArgumentException("'" + key + "' must be an integer, was " + v);
    }
    return ((Number) v).longValue();
  }
}

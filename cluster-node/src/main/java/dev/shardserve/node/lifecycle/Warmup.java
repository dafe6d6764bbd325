package dev.shardserve.node.lifecycle;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.shardserve.node.runtime.LoadedModel;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms a freshly loaded version up before it takes traffic (TensorFlow allocates and
 * initialises lazily: the first runs of a version are slow, tensorflow/serving#385), on the load
 * thread, never on the request path:
 * <ol>
 *   <li>synthetic runs: every signature, {@code syntheticRuns} times, on inputs built from the
 *       signature (every unknown dimension 1, zeros, empty strings). A model may reject such
 *       inputs; that failure is logged, not fatal. Skipped for stateful models, whose state a
 *       run would change;</li>
 *   <li>the operator's requests in {@code <version>/assets.extra/warmup.json} (README):
 *       {@code {"requests": [{"signature_name": "...", "inputs": {"x": [[1.0, 2.0]]}, "repeat": 1}]}},
 *       inputs in TF Serving's columnar JSON. These must succeed: a failing one fails the load,
 *       as Triton serves a model only after its warm-up passes.</li>
 * </ol>
 */
public final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);
  public static final String FILE = "assets.extra/warmup.json";
  /** TF Serving's bound on warm-up records. */
  public static final int MAX_REQUESTS = 1000;

  /** One warm-up request: a signature and its inputs, run {@code repeat} times. */
  public record Request(String signature, Map<String, Tensor> inputs, int repeat) {}

  private Warmup() {}

  /** Runs the warm-up; throws IllegalArgumentException naming the request that failed. */
  public static void run(LoadedModel model, Path versionDir, int syntheticRuns, boolean stateful) {
    run(model, versionDir, syntheticRuns, stateful, null);
  }

  /**
   * As {@link #run(LoadedModel, Path, int, boolean)}, reporting to {@code progress} (may be null)
   * the phase {@code warming_up} with the number of runs planned, and each run.
   */
  public static void run(LoadedModel model, Path versionDir, int syntheticRuns, boolean stateful,
      LoadProgress progress) {
    long start = System.nanoTime();
    Map<String, Map<String, Tensor>> synthetic = new java.util.LinkedHashMap<>();
    if (!stateful) {
      for (Map.Entry<String, SignatureInfo> e : model.signatures().entrySet()) {
        if (e.getKey().startsWith("__")) {
          continue; // __saved_model_init_op and friends are not callable signatures
        }
        Map<String, Tensor> inputs = synthetic(e.getValue());
        if (inputs != null) {
          synthetic.put(e.getKey(), inputs);
        }
      }
    }
    List<Request> requests = readFile(versionDir.resolve(FILE));
    int planned = synthetic.size() * syntheticRuns;
    for (Request r : requests) {
      planned += r.repeat();
    }
    if (progress != null) {
      progress.phase("warming_up", planned);
    }
    int runs = 0;
    for (Map.Entry<String, Map<String, Tensor>> e : synthetic.entrySet()) {
      for (int i = 0; i < syntheticRuns; i++) {
        try {
          model.run(e.getKey(), e.getValue());
          runs++;
          if (progress != null) {
            progress.step();
          }
        } catch (RuntimeException bad) {
          log.debug("synthetic warm-up of {} signature {} skipped: {}", versionDir, e.getKey(), bad.getMessage());
          if (progress != null) {
            progress.skip(syntheticRuns - i);
          }
          break;
        }
      }
    }
    for (int i = 0; i < requests.size(); i++) {
      Request r = requests.get(i);
      for (int k = 0; k < r.repeat(); k++) {
        try {
          model.run(r.signature(), r.inputs());
          runs++;
          if (progress != null) {
            progress.step();
          }
        } catch (RuntimeException bad) {
          throw new IllegalArgumentException(FILE + " request " + i + " (signature '" + r.signature()
              + "') failed: " + bad.getMessage(), bad);
        }
      }
    }
    log.info("warmed up {} with {} runs in {} ms", versionDir, runs, (System.nanoTime() - start) / 1_000_000);
  }

  /** Inputs for {@code sig} with every unknown dimension 1, or null when a dtype cannot be built. */
  static Map<String, Tensor> synthetic(SignatureInfo sig) {
    Map<String, Tensor> out = new HashMap<>();
    for (Map.Entry<String, TensorInfo> e : sig.inputs().entrySet()) {
      DType t = DType.fromTfName(e.getValue().dtype());
      if (t == null) {
        return null;
      }
      long[] shape = e.getValue().unknownRank() ? new long[] {1} : e.getValue().shape().clone();
      for (int i = 0; i < shape.length; i++) {
        shape[i] = shape[i] < 0 ? 1 : shape[i];
      }
      int n = (int) Tensor.elementCount(shape);
      if (t.isString()) {
        List<byte[]> empty = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          empty.add(new byte[0]);
        }
        out.put(e.getKey(), Tensor.ofStrings(shape, empty));
      } else {
        out.put(e.getKey(), Tensor.of(t, shape, new byte[n * t.byteSize()]));
      }
    }
    return out;
  }

  /** The requests of a warm-up file; none when it does not exist. */
  public static List<Request> readFile(Path file) {
    if (!Files.isRegularFile(file)) {
      return List.of();
    }
    Map<String, Object> root;
    try {
      root = ConfigFactory.parseString(Files.readString(file, StandardCharsets.UTF_8),
          ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON)).root().unwrapped();
    } catch (IOException | ConfigException e) {
      throw new IllegalArgumentException("cannot read " + FILE + ": " + e.getMessage(), e);
    }
    if (!(root.get("requests") instanceof List<?> list)) {
      throw new IllegalArgumentException(FILE + ": expected {\"requests\": [...]}");
    }
    if (list.size() > MAX_REQUESTS) {
      throw new IllegalArgumentException(FILE + ": " + list.size() + " requests, at most " + MAX_REQUESTS);
    }
    List<Request> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String at = FILE + " request " + i;
      if (!(list.get(i) instanceof Map<?, ?> req)) {
        throw new IllegalArgumentException(at + ": expected an object");
      }
      Object sig = req.containsKey("signature_name") ? req.get("signature_name") : ModelProtocol.DEFAULT_SIGNATURE;
      if (!(sig instanceof String signature)) {
        throw new IllegalArgumentException(at + ": signature_name must be a string, was " + sig);
      }
      Object repeatValue = req.containsKey("repeat") ? req.get("repeat") : 1;
      if (!(repeatValue instanceof Integer repeat) || repeat < 1 || repeat > MAX_REQUESTS) {
        throw new IllegalArgumentException(at + ": repeat must be an integer 1.." + MAX_REQUESTS + ", was "
            + repeatValue);
      }
      Object inputs = req.get("inputs");
      Map<String, Tensor> tensors = new HashMap<>();
      if (inputs instanceof Map<?, ?> named) {
        for (Map.Entry<?, ?> e : named.entrySet()) {
          tensors.put(String.valueOf(e.getKey()), tensor(e.getValue(), at + " input '" + e.getKey() + "'"));
        }
      } else if (inputs != null) {
        tensors.put(LoadedModel.SOLE_INPUT, tensor(inputs, at + " inputs"));
      } else {
        throw new IllegalArgumentException(at + ": missing 'inputs'");
      }
      out.add(new Request(signature, tensors, repeat));
    }
    return out;
  }

  /** A nested JSON list as a tensor: FLOAT64 or INT64 (converted to the signature's dtype on run), BOOL, STRING. */
  static Tensor tensor(Object value, String at) {
    List<Long> shape = new ArrayList<>();
    Object v = value;
    while (v instanceof List<?> l) {
      shape.add((long) l.size());
      v = l.isEmpty() ? null : l.get(0);
    }
    List<Object> flat = new ArrayList<>();
    flatten(value, 0, shape, flat, at);
    long[] dims = shape.stream().mapToLong(Long::longValue).toArray();
    if (flat.isEmpty()) {
      return Tensor.of(DType.FLOAT32, dims, new byte[0]);
    }
    Object first = flat.get(0);
    if (first instanceof String) {
      List<byte[]> s = new ArrayList<>();
      for (Object o : flat) {
        s.add(requireType(o, String.class, at).getBytes(StandardCharsets.UTF_8));
      }
      return Tensor.ofStrings(dims, s);
    }
    if (first instanceof Boolean) {
      boolean[] b = new boolean[flat.size()];
      for (int i = 0; i < b.length; i++) {
        b[i] = requireType(flat.get(i), Boolean.class, at);
      }
      return Tensor.ofBools(dims, b);
    }
    boolean integral = flat.stream().allMatch(o -> o instanceof Integer || o instanceof Long);
    ByteBuffer buf = ByteBuffer.allocate(flat.size() * 8).order(Tensor.ORDER);
    for (Object o : flat) {
      Number n = requireType(o, Number.class, at);
      if (integral) {
        buf.putLong(n.longValue());
      } else {
        buf.putDouble(n.doubleValue());
      }
    }
    return Tensor.of(integral ? DType.INT64 : DType.FLOAT64, dims, buf.array());
  }

  private static void flatten(Object v, int depth, List<Long> shape, List<Object> out, String at) {
    if (depth < shape.size()) {
      if (!(v instanceof List<?> l) || l.size() != shape.get(depth)) {
        throw new IllegalArgumentException(at + ": ragged or mixed nesting at depth " + depth);
      }
      for (Object o : l) {
        flatten(o, depth + 1, shape, out, at);
      }
    } else {
      if (v instanceof List<?> || v instanceof Map<?, ?> || v == null) {
        throw new IllegalArgumentException(at + ": ragged nesting or a non-scalar value " + v);
      }
      out.add(v);
    }
  }

  private static <T> T requireType(Object o, Class<T> type, String at) {
    if (!type.isInstance(o)) {
      throw new IllegalArgumentException(at + ": mixed value types (" + o + ")");
    }
    return type.cast(o);
  }
}

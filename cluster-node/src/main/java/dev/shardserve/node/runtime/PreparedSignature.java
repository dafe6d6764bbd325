package dev.shardserve.node.runtime;

import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;

/**
 * One signature of a loaded version, resolved once at load so that a request costs no lookups:
 * its inputs and outputs in alias order, the graph outputs to feed and fetch, each input's dtype
 * and the shape its placeholder enforces, and whether requests can be batched along a first
 * dimension. {@link #bind} checks and converts one request's inputs (each request alone, so a bad
 * one fails alone). Immutable; shared by every runtime thread.
 */
public final class PreparedSignature {
  /** Key under which a request names the signature's only input ({@code "instances": [1, 2]}). */
  public static final String SOLE_INPUT = "";

  private final String key;
  private final SignatureInfo info;
  private final String[] inputs;
  private final TensorInfo[] inputInfos;
  /** Graph outputs to feed, by input; null when the signature names a tensor the graph lacks. */
  private final Output<?>[] feeds;
  /** Each input's dtype; null when this server cannot feed it (reported when a request names it). */
  private final DType[] dtypes;
  /** What the placeholder enforces; null when unknown. */
  private final Shape[] shapes;
  private final String[] outputs;
  private final Output<?>[] fetches;
  private final boolean batchable;
  private final Map<String, DType> inputTypes;

  /** A signature of a TensorFlow graph: feeds, fetches and placeholder shapes come from {@code graph}. */
  PreparedSignature(String key, SignatureInfo info, Graph graph) {
    this(key, info, graph, false);
  }

  /**
   * A signature without a graph (a simulated model): the shapes it declares are enforced as a
   * placeholder's would be; there is nothing to feed or fetch.
   */
  static PreparedSignature declared(String key, SignatureInfo info) {
    return new PreparedSignature(key, info, null, true);
  }

  private PreparedSignature(String key, SignatureInfo info, Graph graph, boolean declaredShapes) {
    this.key = key;
    this.info = info;
    TreeMap<String, TensorInfo> in = new TreeMap<>(info.inputs());
    TreeMap<String, TensorInfo> out = new TreeMap<>(info.outputs());
    this.inputs = in.keySet().toArray(new String[0]);
    this.inputInfos = in.values().toArray(new TensorInfo[0]);
    this.outputs = out.keySet().toArray(new String[0]);
    this.feeds = new Output<?>[inputs.length];
    this.dtypes = new DType[inputs.length];
    this.shapes = new Shape[inputs.length];
    Map<String, DType> types = new LinkedHashMap<>();
    for (int i = 0; i < inputs.length; i++) {
      TensorInfo t = inputInfos[i];
      feeds[i] = graph == null ? null : resolve(graph, t.name());
      dtypes[i] = DType.fromTfName(t.dtype());
      if (dtypes[i] != null) {
        types.put(inputs[i], dtypes[i]);
      }
      if (declaredShapes) {
        shapes[i] = t.unknownRank() ? null : Shape.of(t.shape());
      } else if (feeds[i] != null && feeds[i].op().type().equals("Placeholder")) {
        Shape s = feeds[i].shape();
        shapes[i] = s.isUnknown() ? null : s;
      }
    }
    this.inputTypes = Collections.unmodifiableMap(types);
    this.fetches = new Output<?>[outputs.length];
    for (int i = 0; i < outputs.length; i++) {
      fetches[i] = graph == null ? null : resolve(graph, out.get(outputs[i]).name());
    }
    this.batchable = hasBatchDimension();
  }

  private static Output<?> resolve(Graph graph, String tensorName) {
    int colon = tensorName.lastIndexOf(':');
    String opName = colon < 0 ? tensorName : tensorName.substring(0, colon);
    int index;
    try {
      index = colon < 0 ? 0 : Integer.parseInt(tensorName.substring(colon + 1));
    } catch (NumberFormatException e) {
      return null;
    }
    GraphOperation op = graph.operation(opName);
    return op == null || index >= op.numOutputs() ? null : op.output(index);
  }

  /**
   * True when requests can be concatenated along a first dimension: every input and output has a
   * known rank of at least 1 and an unknown first dimension, and no placeholder fixes it.
   */
  private boolean hasBatchDimension() {
    if (inputs.length == 0 || outputs.length == 0) {
      return false;
    }
    for (Map<String, TensorInfo> infos : List.of(info.inputs(), info.outputs())) {
      for (TensorInfo t : infos.values()) {
        if (t.unknownRank() || t.shape().length == 0 || t.shape()[0] != -1) {
          return false;
        }
      }
    }
    for (Shape s : shapes) {
      if (s != null && (s.numDimensions() == 0 || s.size(0) != -1)) {
        return false;
      }
    }
    return true;
  }

  public String key() {
    return key;
  }

  public SignatureInfo info() {
    return info;
  }

  public String methodName() {
    return info.methodName();
  }

  public boolean batchable() {
    return batchable;
  }

  /** Input dtypes by alias (inputs whose dtype this server cannot feed are left out). */
  public Map<String, DType> inputTypes() {
    return inputTypes;
  }

  int inputCount() {
    return inputs.length;
  }

  String input(int i) {
    return inputs[i];
  }

  Output<?> feed(int i) {
    if (feeds[i] == null) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "signature '" + key + "' input '" + inputs[i]
          + "' names tensor '" + inputInfos[i].name() + "', which is not in the graph");
    }
    return feeds[i];
  }

  /** Input aliases in ascending order. */
  String[] inputNames() {
    return inputs;
  }

  DType dtype(int i) {
    return dtypes[i];
  }

  int outputCount() {
    return outputs.length;
  }

  /** Output aliases in ascending order: the order of {@link LoadedModel#run}'s results. */
  public String[] outputNames() {
    return outputs;
  }

  Output<?> fetch(int i) {
    if (fetches[i] == null) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "signature '" + key + "' output '" + outputs[i]
          + "' names tensor '" + info.outputs().get(outputs[i]).name() + "', which is not in the graph");
    }
    return fetches[i];
  }

  /**
   * Checks and converts one request's inputs (keyed by alias, or {@link #SOLE_INPUT}): names,
   * dtype (JSON numbers arrive as INT64/FLOAT64 unless decoded in the signature's dtype), and
   * shape against the graph's placeholders, with messages that name the input and both shapes.
   * Returns them keyed by alias. Throws {@link InferenceException} ({@code INVALID_INPUT}).
   */
  public Map<String, Tensor> bind(Map<String, Tensor> given) {
    if (given.size() == 1 && given.containsKey(SOLE_INPUT)) {
      if (inputs.length != 1) {
        throw new InferenceException(ErrorCode.INVALID_INPUT, "signature '" + key + "' has inputs "
            + Arrays.toString(inputs) + ": name each input (an object per instance, or \"inputs\" as an object)");
      }
      return Map.of(inputs[0], checked(0, given.get(SOLE_INPUT)));
    }
    for (String name : given.keySet()) {
      if (Arrays.binarySearch(inputs, name) < 0) {
        throw new InferenceException(ErrorCode.INVALID_INPUT, "input '" + name + "' is not in signature '" + key
            + "', which takes " + Arrays.toString(inputs));
      }
    }
    if (inputs.length == 1) {
      Tensor t = given.get(inputs[0]);
      if (t == null) {
        throw missing(0);
      }
      return Map.of(inputs[0], checked(0, t));
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (int i = 0; i < inputs.length; i++) {
      Tensor t = given.get(inputs[i]);
      if (t == null) {
        throw missing(i);
      }
      out.put(inputs[i], checked(i, t));
    }
    return out;
  }

  private InferenceException missing(int i) {
    return new InferenceException(ErrorCode.INVALID_INPUT, "missing input '" + inputs[i] + "' of signature '" + key
        + "', which takes " + Arrays.toString(inputs));
  }

  private Tensor checked(int i, Tensor given) {
    DType expected = dtypes[i];
    if (expected == null) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "input '" + inputs[i] + "' has dtype "
          + inputInfos[i].dtype() + ", which this server does not serve");
    }
    Tensor t;
    try {
      t = InputCoercion.coerce(inputs[i], given, expected);
    } catch (IllegalArgumentException e) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, e.getMessage());
    }
    Shape expectedShape = shapes[i];
    if (expectedShape != null && !compatible(expectedShape, t.shape())) {
      throw new InferenceException(ErrorCode.INVALID_INPUT, "input '" + inputs[i] + "' expects shape "
          + Arrays.toString(expectedShape.asArray()) + " but got " + Arrays.toString(t.shape()));
    }
    return t;
  }

  private static boolean compatible(Shape expected, long[] given) {
    if (expected.numDimensions() != given.length) {
      return false;
    }
    for (int i = 0; i < given.length; i++) {
      long d = expected.get(i);
      if (d >= 0 && d != given[i]) {
        return false;
      }
    }
    return true;
  }
}

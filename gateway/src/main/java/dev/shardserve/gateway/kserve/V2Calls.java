package dev.shardserve.gateway.kserve;

import dev.shardserve.dataplane.InferCall;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a decoded v2 inference request into the data plane's {@link InferCall}, the same call
 * the TF Serving routes submit, so v1 and v2 requests for one model, version and signature share
 * batches. Shared by the REST routes and the gRPC service: the version string, the parameters
 * this server reads ({@code signature_name}, and the schedule-policy extension's
 * {@code timeout} and {@code priority}), and the datatype checks.
 */
public final class V2Calls {
  /** Request parameter naming the signature to run (default {@code serving_default}). */
  public static final String SIGNATURE_NAME = "signature_name";

  private V2Calls() {}

  /**
   * The version a request names: empty or null is the newest available one, a number that
   * version, anything else a version label (TF Serving's {@code /labels/}).
   */
  public static VersionSelector version(String version) {
    if (version == null || version.isEmpty()) {
      return VersionSelector.latest();
    }
    char c = version.charAt(0);
    if (c >= '0' && c <= '9') {
      try {
        return new VersionSelector.Specific(Long.parseLong(version));
      } catch (IllegalArgumentException e) {
        throw V2Exception.invalid("model version '" + version + "' is not a version number (0 to "
            + Long.MAX_VALUE + ") nor a label");
      }
    }
    try {
      return new VersionSelector.Label(version);
    } catch (IllegalArgumentException e) {
      throw V2Exception.invalid("model version '" + version + "' is not a version number nor a label: "
          + e.getMessage());
    }
  }

  /** The signature a request names in {@code parameters.signature_name}, else {@code serving_default}. */
  public static String signature(Map<String, Object> parameters) {
    Object s = parameters.get(SIGNATURE_NAME);
    if (s == null) {
      return ModelProtocol.DEFAULT_SIGNATURE;
    }
    if (!(s instanceof String name) || name.isEmpty()) {
      throw V2Exception.invalid("parameter '" + SIGNATURE_NAME + "' must be a non-empty string, was " + s);
    }
    return name;
  }

  /**
   * The schedule-policy extension's {@code timeout} parameter in microseconds, or 0 when absent
   * (0 also means "the default", as Triton reads it). Also refuses what this server does not
   * do: a {@code priority} other than 0 (one queue per replica, no priority levels) and
   * Triton's sequence batching ({@code sequence_id}).
   */
  public static long timeoutMicros(Map<String, Object> parameters) {
    Object priority = parameters.get("priority");
    if (priority != null && !(priority instanceof Long p && p == 0)) {
      throw V2Exception.invalid("parameter 'priority' is " + priority + ": this server has no priority levels "
          + "(one queue per model replica); send 0 or leave it out");
    }
    Object sequence = parameters.get("sequence_id");
    if (sequence != null && !(sequence instanceof Long s && s == 0) && !"".equals(sequence)) {
      throw V2Exception.invalid("parameter 'sequence_id' is " + sequence + ": sequence batching is not "
          + "supported by this server");
    }
    Object t = parameters.get("timeout");
    if (t == null) {
      return 0;
    }
    if (!(t instanceof Long micros) || micros < 0) {
      throw V2Exception.invalid("parameter 'timeout' must be a whole number of microseconds >= 0, was " + t);
    }
    return micros;
  }

  /**
   * The call for {@code inputs}: each input's datatype is checked against what the runtime can
   * feed and, when {@code expected} is known (the signature's dtypes by input name), against the
   * signature; names must be unique. Inputs the signature lacks, or misses, are reported by the
   * replica with the signature's input names.
   */
  public static InferCall.Predict predict(String model, VersionSelector version, String signature,
      List<V2Input> inputs, Map<String, DType> expected, long deadlineNanos) {
    Map<String, Tensor> tensors = new HashMap<>(inputs.size() * 2);
    for (V2Input in : inputs) {
      V2Datatypes.check(in.name(), in.tensor().dtype(), expected == null ? null : expected.get(in.name()));
      if (tensors.put(in.name(), in.tensor()) != null) {
        throw V2Exception.invalid("input '" + in.name() + "' is given twice");
      }
    }
    return new InferCall.Predict(model, version, signature, tensors, deadlineNanos);
  }
}

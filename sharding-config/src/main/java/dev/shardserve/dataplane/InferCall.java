package dev.shardserve.dataplane;

import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelName;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One inference request on the data plane, as a replica's {@link ReplicaHandle} takes it: what to
 * run and until when. It never leaves its JVM, so its deadline is a value of this JVM's
 * monotonic clock ({@link dev.shardserve.concurrent.Ticker#SYSTEM}); a deadline that arrives over
 * the wire is rebased on arrival. {@code requestId} and {@code traceParent} (null when absent) say
 * who it is in logs: the gateway's request id and the W3C {@code traceparent} of its span, carried
 * to the node over the channel.
 */
public sealed interface InferCall permits InferCall.Predict, InferCall.Examples {

  String model();

  VersionSelector version();

  String signatureName();

  long deadlineNanos();

  /** The request id the gateway gave it (X-Request-Id), or null. */
  String requestId();

  /** The W3C traceparent of the gateway's span, for the node's logs, or null. */
  String traceParent();

  /** Runs a signature on named input tensors (TF Serving predict, KServe infer). */
  record Predict(String model, VersionSelector version, String signatureName, Map<String, Tensor> inputs,
      long deadlineNanos, String requestId, String traceParent) implements InferCall {
    public Predict {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(signatureName, "signatureName");
      Objects.requireNonNull(inputs, "inputs");
    }

    public Predict(String model, VersionSelector version, String signatureName, Map<String, Tensor> inputs,
        long deadlineNanos) {
      this(model, version, signatureName, inputs, deadlineNanos, null, null);
    }
  }

  /** Classify or regress {@code tf.Example}s given as typed features (context merged into each). */
  record Examples(String model, VersionSelector version, String signatureName, ExampleMethod method,
      List<Map<String, Feature>> examples, Map<String, Feature> context, long deadlineNanos, String requestId,
      String traceParent) implements InferCall {
    public Examples {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(signatureName, "signatureName");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(examples, "examples");
      Objects.requireNonNull(context, "context");
    }

    public Examples(String model, VersionSelector version, String signatureName, ExampleMethod method,
        List<Map<String, Feature>> examples, Map<String, Feature> context, long deadlineNanos) {
      this(model, version, signatureName, method, examples, context, deadlineNanos, null, null);
    }
  }
}

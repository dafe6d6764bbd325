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
 * the wire is rebased on arrival.
 */
public sealed interface InferCall permits InferCall.Predict, InferCall.Examples {

  String model();

  VersionSelector version();

  String signatureName();

  long deadlineNanos();

  /** Runs a signature on named input tensors (TF Serving predict, KServe infer). */
  record Predict(String model, VersionSelector version, String signatureName, Map<String, Tensor> inputs,
      long deadlineNanos) implements InferCall {
    public Predict {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(signatureName, "signatureName");
      Objects.requireNonNull(inputs, "inputs");
    }
  }

  /** Classify or regress {@code tf.Example}s given as typed features (context merged into each). */
  record Examples(String model, VersionSelector version, String signatureName, ExampleMethod method,
      List<Map<String, Feature>> examples, Map<String, Feature> context, long deadlineNanos) implements InferCall {
    public Examples {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(signatureName, "signatureName");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(examples, "examples");
      Objects.requireNonNull(context, "context");
    }
  }
}

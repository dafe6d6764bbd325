package dev.shardserve.protocol;

import akka.actor.typed.ActorRef;
import akka.cluster.sharding.typed.javadsl.EntityTypeKey;
import dev.shardserve.serialization.WireMessage;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The protocol of a model replica entity ({@code model#replica}): inference commands, status and
 * metadata queries, and their replies. Replies are values, errors included ({@link Failure});
 * exceptions never travel. Deadlines travel as epoch milliseconds and are rebased to the local
 * monotonic clock on arrival.
 */
public interface ModelProtocol {

  EntityTypeKey<Command> ENTITY_TYPE_KEY = EntityTypeKey.create(Command.class, "Model");

  /** The signature TF Serving uses when a request names none. */
  String DEFAULT_SIGNATURE = "serving_default";

  sealed interface Command extends WireMessage
      permits Infer, InferExamples, GetStatus, GetMetadata, Command.Internal {
    /** The node's private messages (adapted replies, timers, pipeToSelf results); never leave the JVM. */
    non-sealed interface Internal extends Command {}
  }

  /** Runs a signature on named input tensors (TF Serving predict, KServe infer). */
  record Infer(
      String model,
      VersionSelector version,
      String signatureName,
      Map<String, Tensor> inputs,
      long deadlineEpochMillis,
      ActorRef<InferReply> replyTo)
      implements Command {
    public Infer {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(signatureName, "signatureName");
      inputs = Map.copyOf(inputs);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  enum ExampleMethod {
    CLASSIFY("tensorflow/serving/classify"),
    REGRESS("tensorflow/serving/regress");

    private final String signatureMethod;

    ExampleMethod(String signatureMethod) {
      this.signatureMethod = signatureMethod;
    }

    /** The {@code method_name} a signature must declare to serve this API. */
    public String signatureMethod() {
      return signatureMethod;
    }
  }

  /**
   * Classify or regress {@code tf.Example}s given as typed feature lists; the node serializes
   * them (context features merged into every example) for the signature's string input.
   */
  record InferExamples(
      String model,
      VersionSelector version,
      String signatureName,
      ExampleMethod method,
      List<Map<String, Feature>> examples,
      Map<String, Feature> context,
      long deadlineEpochMillis,
      ActorRef<InferReply> replyTo)
      implements Command {
    public InferExamples {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(signatureName, "signatureName");
      Objects.requireNonNull(method, "method");
      examples = examples.stream().map(Map::copyOf).toList();
      context = Map.copyOf(context);
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Status of the model's versions; {@link VersionSelector.Latest} means all versions. */
  record GetStatus(String model, VersionSelector version, ActorRef<StatusReply> replyTo) implements Command {
    public GetStatus {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  /** Signature definitions of one version. */
  record GetMetadata(String model, VersionSelector version, ActorRef<MetadataReply> replyTo) implements Command {
    public GetMetadata {
      ModelName.require(model);
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(replyTo, "replyTo");
    }
  }

  // ---- replies ----

  sealed interface InferReply extends WireMessage permits InferResult, Failure {}

  sealed interface StatusReply extends WireMessage permits ModelStatus, Failure {}

  sealed interface MetadataReply extends WireMessage permits ModelMetadata, Failure {}

  /**
   * Outputs of one request, and the version that computed them. The outputs are views into the
   * buffers of the batch the request ran in ({@link Outputs}); on the wire they are written as
   * whole tensors of the request's own rows.
   */
  record InferResult(long version, Outputs outputs) implements InferReply {
    public InferResult {
      Objects.requireNonNull(outputs, "outputs");
    }

    public InferResult(long version, Map<String, Tensor> outputs) {
      this(version, Outputs.of(outputs));
    }
  }

  /** An error answer; {@code code.retriable()} says whether another replica may succeed. */
  record Failure(ErrorCode code, String message) implements InferReply, StatusReply, MetadataReply {
    public Failure {
      Objects.requireNonNull(code, "code");
      message = message == null || message.isEmpty() ? code.defaultMessage() : message;
    }
  }

  /** TF Serving's version states ({@code get_model_status.proto}). */
  enum VersionState {
    UNKNOWN,
    START,
    LOADING,
    AVAILABLE,
    UNLOADING,
    END
  }

  /** One version's state, with the error that put it there ({@code errorCode} null when OK). */
  record VersionStatus(long version, VersionState state, ErrorCode errorCode, String errorMessage) {
    public VersionStatus {
      Objects.requireNonNull(state, "state");
      errorMessage = errorMessage == null ? "" : errorMessage;
    }
  }

  /**
   * The versions a replica holds, newest first, and every version folder it sees on disk (so that
   * the admin API can refuse a rollback to a version that does not exist).
   */
  record ModelStatus(List<VersionStatus> versions, java.util.SortedSet<Long> onDisk) implements StatusReply {
    public ModelStatus {
      versions = List.copyOf(versions);
      onDisk = java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(onDisk));
    }

    public ModelStatus(List<VersionStatus> versions) {
      this(versions, new java.util.TreeSet<>());
    }
  }

  /**
   * One input or output of a signature: the graph tensor name, TensorFlow's dtype name (kept as
   * a name so that {@code DT_INVALID} of an init op survives), and the shape (-1 = unknown size).
   */
  record TensorInfo(String name, String dtype, long[] shape, boolean unknownRank) {
    public TensorInfo {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(dtype, "dtype");
      Objects.requireNonNull(shape, "shape");
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof TensorInfo t && name.equals(t.name) && dtype.equals(t.dtype)
          && Arrays.equals(shape, t.shape) && unknownRank == t.unknownRank;
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, dtype, Arrays.hashCode(shape), unknownRank);
    }

    @Override
    public String toString() {
      return name + ":" + dtype + (unknownRank ? "[?]" : Arrays.toString(shape));
    }
  }

  record SignatureInfo(String methodName, Map<String, TensorInfo> inputs, Map<String, TensorInfo> outputs) {
    public SignatureInfo {
      Objects.requireNonNull(methodName, "methodName");
      inputs = Map.copyOf(inputs);
      outputs = Map.copyOf(outputs);
    }
  }

  record ModelMetadata(long version, Map<String, SignatureInfo> signatures) implements MetadataReply {
    public ModelMetadata {
      signatures = Map.copyOf(signatures);
    }
  }
}

package dev.shardserve.gateway.grpc;

import dev.shardserve.dataplane.InferCall;
import dev.shardserve.gateway.proto.kserve.GRPCInferenceServiceGrpc;
import dev.shardserve.gateway.proto.kserve.ModelInferRequest;
import dev.shardserve.gateway.proto.kserve.ModelInferRequest.InferInputTensor;
import dev.shardserve.gateway.proto.kserve.ModelInferRequest.InferRequestedOutputTensor;
import dev.shardserve.gateway.proto.kserve.ModelInferResponse;
import dev.shardserve.gateway.proto.kserve.ModelMetadataRequest;
import dev.shardserve.gateway.proto.kserve.ModelMetadataResponse;
import dev.shardserve.gateway.proto.kserve.ModelMetadataResponse.TensorMetadata;
import dev.shardserve.gateway.proto.kserve.ModelReadyRequest;
import dev.shardserve.gateway.proto.kserve.ModelReadyResponse;
import dev.shardserve.gateway.proto.kserve.ServerLiveRequest;
import dev.shardserve.gateway.proto.kserve.ServerLiveResponse;
import dev.shardserve.gateway.proto.kserve.ServerMetadataRequest;
import dev.shardserve.gateway.proto.kserve.ServerMetadataResponse;
import dev.shardserve.gateway.proto.kserve.ServerReadyRequest;
import dev.shardserve.gateway.proto.kserve.ServerReadyResponse;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.MetadataReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.ModelProtocol.VersionState;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import io.grpc.stub.StreamObserver;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * KServe's Open Inference Protocol over gRPC ({@code inference.GRPCInferenceService}): liveness,
 * readiness (server: a worker has joined; model: routable, and the version named is AVAILABLE),
 * server and model metadata (the {@code serving_default} signature, KServe datatype names) and
 * ModelInfer on the data plane. Inputs come raw ({@code raw_input_contents}) or typed; outputs
 * answer in the same form (raw when the inputs were raw, as Triton answers), each named output or
 * all of them, and the response echoes the request's {@code id}.
 */
final class KserveInferenceService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  static final String PLATFORM = "tensorflow_savedmodel";

  private final GrpcInference inference;
  private final String serverVersion;

  KserveInferenceService(GrpcInference inference, String serverVersion) {
    this.inference = inference;
    this.serverVersion = serverVersion;
  }

  private ModelRouter router() {
    return inference.router();
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> observer) {
    observer.onNext(ServerLiveResponse.newBuilder().setLive(true).build());
    observer.onCompleted();
  }

  @Override
  public void serverReady(ServerReadyRequest request, StreamObserver<ServerReadyResponse> observer) {
    observer.onNext(ServerReadyResponse.newBuilder().setReady(router().snapshot().workersJoined()).build());
    observer.onCompleted();
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request, StreamObserver<ServerMetadataResponse> observer) {
    observer.onNext(ServerMetadataResponse.newBuilder().setName("shardserve").setVersion(serverVersion).build());
    observer.onCompleted();
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> observer) {
    GrpcInference.handle(observer, () -> {
      String model = request.getName();
      GrpcInference.requireModelName(model);
      VersionSelector version = version(request.getVersion());
      if (router().snapshot().route(model) == null) {
        return CompletableFuture.completedFuture(ModelReadyResponse.newBuilder().setReady(false).build());
      }
      return status(model, version).thenApply(reply -> ModelReadyResponse.newBuilder()
          .setReady(reply instanceof ModelStatus s && s.versions().stream()
              .anyMatch(v -> v.state() == VersionState.AVAILABLE))
          .build());
    });
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request, StreamObserver<ModelMetadataResponse> observer) {
    GrpcInference.handle(observer, () -> metadata(request));
  }

  private CompletableFuture<ModelMetadataResponse> metadata(ModelMetadataRequest request) {
    String model = request.getName();
    GrpcInference.requireModelName(model);
    VersionSelector version = version(request.getVersion());
    Failure unroutable = router().unroutable(router().snapshot(), model,
        "Servable not found for request: " + version.describe(model));
    if (unroutable != null) {
      throw GrpcErrors.of(unroutable.code(), unroutable.message());
    }
    CompletableFuture<MetadataReply> meta = router().<MetadataReply>ask(model,
        replyTo -> new GetMetadata(model, version, replyTo), inference.gateway().controlTimeout(), f -> f)
        .toCompletableFuture();
    CompletableFuture<StatusReply> status = status(model, VersionSelector.latest());
    return meta.thenCombine(status, (m, s) -> {
      if (m instanceof Failure f) {
        throw GrpcErrors.of(f.code(), f.message());
      }
      ModelMetadata md = (ModelMetadata) m;
      SignatureInfo sig = md.signatures().get(ModelProtocol.DEFAULT_SIGNATURE);
      if (sig == null) {
        throw GrpcErrors.invalid("model " + model + " has no signature '" + ModelProtocol.DEFAULT_SIGNATURE
            + "', which the Open Inference Protocol serves; it has " + new TreeMap<>(md.signatures()).keySet());
      }
      ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder().setName(model).setPlatform(PLATFORM);
      if (s instanceof ModelStatus st) {
        for (VersionStatus v : st.versions()) {
          if (v.state() == VersionState.AVAILABLE) {
            b.addVersions(Long.toString(v.version()));
          }
        }
      } else {
        b.addVersions(Long.toString(md.version()));
      }
      new TreeMap<>(sig.inputs()).forEach((alias, info) -> b.addInputs(tensorMetadata(alias, info)));
      new TreeMap<>(sig.outputs()).forEach((alias, info) -> b.addOutputs(tensorMetadata(alias, info)));
      return b.build();
    });
  }

  private static TensorMetadata tensorMetadata(String alias, TensorInfo info) {
    DType d = DType.fromTfName(info.dtype());
    TensorMetadata.Builder t = TensorMetadata.newBuilder().setName(alias)
        .setDatatype(d == null ? info.dtype() : d.kserveName());
    if (info.unknownRank()) {
      t.addShape(-1);
    } else {
      for (long dim : info.shape()) {
        t.addShape(dim);
      }
    }
    return t.build();
  }

  private CompletableFuture<StatusReply> status(String model, VersionSelector version) {
    return router().<StatusReply>ask(model, replyTo -> new GetStatus(model, version, replyTo),
        inference.gateway().controlTimeout(), f -> f).toCompletableFuture();
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> observer) {
    GrpcInference.handle(observer, () -> infer(request));
  }

  private CompletableFuture<ModelInferResponse> infer(ModelInferRequest request) {
    String model = request.getModelName();
    VersionSelector version = version(request.getModelVersion());
    boolean raw = request.getRawInputContentsCount() > 0;
    Set<String> requested = new LinkedHashSet<>();
    for (InferRequestedOutputTensor o : request.getOutputsList()) {
      requested.add(o.getName());
    }
    return inference.run(model, dev.shardserve.metrics.Api.INFER, deadline -> {
      if (request.getInputsCount() == 0) {
        throw GrpcErrors.invalid("ModelInferRequest has no inputs");
      }
      if (raw && request.getRawInputContentsCount() != request.getInputsCount()) {
        throw GrpcErrors.invalid("raw_input_contents has " + request.getRawInputContentsCount() + " entries for "
            + request.getInputsCount() + " inputs: give one per input, in the order of inputs");
      }
      Map<String, Tensor> inputs = new LinkedHashMap<>();
      for (int i = 0; i < request.getInputsCount(); i++) {
        InferInputTensor t = request.getInputs(i);
        if (raw && t.hasContents()) {
          throw GrpcErrors.invalid("input '" + t.getName() + "' has contents although raw_input_contents is used: "
              + "give every input one way");
        }
        Tensor tensor = raw ? KserveTensorCodec.decodeRaw(t, request.getRawInputContents(i))
            : KserveTensorCodec.decodeTyped(t);
        if (inputs.put(t.getName(), tensor) != null) {
          throw GrpcErrors.invalid("input '" + t.getName() + "' is given twice");
        }
      }
      return new InferCall.Predict(model, version, ModelProtocol.DEFAULT_SIGNATURE, inputs, deadline);
    }, result -> {
      Outputs outputs = result.outputs();
      for (String name : requested) {
        if (outputs.indexOf(name) < 0) {
          throw GrpcErrors.invalid("requested output '" + name + "' is not an output of " + model + "; its outputs are "
              + outputs.names());
        }
      }
      ModelInferResponse.Builder b = ModelInferResponse.newBuilder()
          .setModelName(model)
          .setModelVersion(Long.toString(result.version()))
          .setId(request.getId());
      for (int i = 0; i < outputs.size(); i++) {
        if (requested.isEmpty() || requested.contains(outputs.name(i))) {
          b.addOutputs(KserveTensorCodec.header(outputs, i, raw));
          if (raw) {
            b.addRawOutputContents(KserveTensorCodec.raw(outputs, i));
          }
        }
      }
      return b.build();
    });
  }

  /** "" is the newest version; otherwise a version number. */
  static VersionSelector version(String version) {
    if (version.isEmpty()) {
      return VersionSelector.latest();
    }
    try {
      return GrpcInference.selector(Long.parseLong(version), null);
    } catch (NumberFormatException e) {
      throw GrpcErrors.invalid("model version '" + version + "' is not a non-negative 64-bit integer");
    }
  }
}

package dev.shardserve.gateway.grpc;

import com.google.protobuf.TextFormat;
import dev.shardserve.desired.DesiredState;
import dev.shardserve.desired.DesiredStateStore;
import dev.shardserve.desired.ModelConfigFile;
import dev.shardserve.gateway.proto.tfserving.GetModelStatusRequest;
import dev.shardserve.gateway.proto.tfserving.GetModelStatusResponse;
import dev.shardserve.gateway.proto.tfserving.ModelServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.ModelSpec;
import dev.shardserve.gateway.proto.tfserving.ModelVersionStatus;
import dev.shardserve.gateway.proto.tfserving.ReloadConfigRequest;
import dev.shardserve.gateway.proto.tfserving.ReloadConfigResponse;
import dev.shardserve.gateway.proto.tfserving.StatusProto;
import dev.shardserve.gateway.routing.ModelRouter;
import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetStatus;
import dev.shardserve.protocol.ModelProtocol.ModelStatus;
import dev.shardserve.protocol.ModelProtocol.StatusReply;
import dev.shardserve.protocol.ModelProtocol.VersionStatus;
import dev.shardserve.protocol.VersionSelector;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * TF Serving's {@code tensorflow.serving.ModelService}: GetModelStatus (every version a replica
 * holds, or the one the spec names, with TF Serving's states and error codes), and
 * HandleReloadConfigRequest, which replaces the cluster's desired state with the request's
 * {@code model_config_list} (the models named are served, nothing else), as
 * {@code POST /admin/reload-config} does with the config file. It changes what the cluster serves:
 * with authentication on it needs the admin scope ({@link GrpcServer#ADMIN_METHODS}, checked by GrpcAccess).
 */
final class TfServingModelService extends ModelServiceGrpc.ModelServiceImplBase {
  private final ModelRouter router;
  private final DesiredStateStore store;
  private final Duration timeout;

  TfServingModelService(ModelRouter router, DesiredStateStore store, Duration timeout) {
    this.router = router;
    this.store = store;
    this.timeout = timeout;
  }

  @Override
  public void getModelStatus(GetModelStatusRequest request, StreamObserver<GetModelStatusResponse> observer) {
    GrpcInference.handle(observer, () -> status(request.getModelSpec()));
  }

  private CompletableFuture<GetModelStatusResponse> status(ModelSpec spec) {
    String model = spec.getName();
    GrpcInference.requireModelName(model);
    VersionSelector version = TfServingPredictionService.selector(spec);
    String notFound = "Could not find any versions of model " + model;
    Failure unroutable = router.unroutable(router.snapshot(), model, notFound);
    if (unroutable != null) {
      throw GrpcErrors.of(unroutable.code(), unroutable.message());
    }
    return router.<StatusReply>ask(model, replyTo -> new GetStatus(model, version, replyTo), timeout, f -> f)
        .toCompletableFuture()
        .thenApply(reply -> {
          if (reply instanceof ModelStatus s && !s.versions().isEmpty()) {
            return response(s);
          }
          Failure f = reply instanceof Failure failure ? failure : new Failure(ErrorCode.MODEL_NOT_FOUND, notFound);
          throw GrpcErrors.of(f.code(), f.message());
        });
  }

  static GetModelStatusResponse response(ModelStatus s) {
    GetModelStatusResponse.Builder b = GetModelStatusResponse.newBuilder();
    for (VersionStatus v : s.versions()) {
      b.addModelVersionStatus(ModelVersionStatus.newBuilder()
          .setVersion(v.version())
          .setState(ModelVersionStatus.State.valueOf(v.state().name()))
          .setStatus(StatusProto.newBuilder()
              .setErrorCode(v.errorCode() == null ? org.tensorflow.proto.error.Code.OK
                  : GrpcErrors.tensorflowCode(v.errorCode()))
              .setErrorMessage(v.errorMessage())));
    }
    return b.build();
  }

  @Override
  public void handleReloadConfigRequest(ReloadConfigRequest request, StreamObserver<ReloadConfigResponse> observer) {
    GrpcInference.handle(observer, () -> reload(request));
  }

  private CompletableFuture<ReloadConfigResponse> reload(ReloadConfigRequest request) {
    if (!request.getConfig().hasModelConfigList()) {
      throw GrpcErrors.invalid("ReloadConfigRequest.config must hold a model_config_list"
          + (request.getConfig().hasCustomModelConfig() ? " (custom_model_config is not served)" : ""));
    }
    DesiredState wanted;
    try {
      wanted = ModelConfigFile.fromTfServingText(TextFormat.printer().printToString(request.getConfig()));
    } catch (IllegalArgumentException e) {
      throw GrpcErrors.invalid(e.getMessage());
    }
    return store.update(old -> wanted).toCompletableFuture().thenApply(written -> ReloadConfigResponse.newBuilder()
        .setStatus(StatusProto.newBuilder().setErrorCode(org.tensorflow.proto.error.Code.OK)
            .setErrorMessage(written.allConfirmed() ? "" : "written; not every node confirmed yet (gossip carries it)"))
        .build());
  }
}

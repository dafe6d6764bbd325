package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.gateway.proto.tfserving.ModelConfig;
import dev.shardserve.gateway.proto.tfserving.ModelConfigList;
import dev.shardserve.gateway.proto.tfserving.ModelServerConfig;
import dev.shardserve.gateway.proto.tfserving.ModelServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.ReloadConfigRequest;
import dev.shardserve.gateway.proto.tfserving.ReloadConfigResponse;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ModelService.HandleReloadConfigRequest: the request's model_config_list becomes the desired state. */
class GrpcReloadConfigTest {
  @TempDir static Path tmp;
  static InProcessServer server;
  static ManagedChannel channel;
  static Path repo;

  @BeforeAll
  static void start() {
    repo = tmp.resolve("repo");
    HalfPlusTwoModel.write(repo.resolve("a/1"));
    HalfPlusTwoModel.write(repo.resolve("b/1"));
    server = new InProcessServer(repo, Map.of());
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort).usePlaintext().build();
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
        GrpcApiTest.predict(channel, "a", GrpcApiTest.typed(1f)).containsOutputs("y")
            && GrpcApiTest.predict(channel, "b", GrpcApiTest.typed(1f)).containsOutputs("y"));
  }

  @AfterAll
  static void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  static ModelServiceGrpc.ModelServiceBlockingStub stub() {
    return ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @Test
  void reload_servesExactlyTheModelsTheConfigNames() {
    ReloadConfigResponse r = stub().handleReloadConfigRequest(ReloadConfigRequest.newBuilder()
        .setConfig(ModelServerConfig.newBuilder().setModelConfigList(ModelConfigList.newBuilder()
            .addConfig(ModelConfig.newBuilder().setName("b").setBasePath(repo.resolve("b").toString())
                .setModelPlatform("tensorflow"))))
        .build());
    assertEquals(org.tensorflow.proto.error.Code.OK, r.getStatus().getErrorCode());
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      try {
        GrpcApiTest.predict(channel, "a", GrpcApiTest.typed(1f));
        return false;
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.NOT_FOUND;
      }
    });
    assertEquals(List.of(2.5f), GrpcApiTest.predict(channel, "b", GrpcApiTest.typed(1f)).getOutputsOrThrow("y")
        .getFloatValList());
  }

  @Test
  void reload_aBadConfig_isInvalidArgumentNamingTheField() {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub().handleReloadConfigRequest(
        ReloadConfigRequest.newBuilder().setConfig(ModelServerConfig.newBuilder().setModelConfigList(
            ModelConfigList.newBuilder().addConfig(ModelConfig.newBuilder().setName("b").setBasePath("/x")
                .setModelPlatform("pytorch")))).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("pytorch"), e.getStatus().getDescription());
    e = assertThrows(StatusRuntimeException.class, () -> stub().handleReloadConfigRequest(
        ReloadConfigRequest.getDefaultInstance()));
    assertTrue(e.getStatus().getDescription().contains("model_config_list"), e.getStatus().getDescription());
  }
}

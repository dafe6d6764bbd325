package dev.shardserve.gateway.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.shardserve.gateway.admission.ByteBudget;
import dev.shardserve.gateway.proto.kserve.GRPCInferenceServiceGrpc;
import dev.shardserve.gateway.proto.kserve.ModelInferRequest;
import dev.shardserve.gateway.proto.kserve.ModelInferResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The byte budget on unary gRPC calls: charged while a call runs, refused beyond, released however it ends. */
class GrpcByteBudgetTest {
  final ByteBudget budget = new ByteBudget(new ByteBudget.Settings(10_000, 10_000));
  final CountDownLatch arrived = new CountDownLatch(1);
  final CompletableFuture<Void> release = new CompletableFuture<>();
  Server server;
  ManagedChannel channel;
  GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;

  @BeforeEach
  void start() throws Exception {
    GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase held = new GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase() {
      @Override
      public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
        arrived.countDown();
        release.thenRun(() -> {
          answer.onNext(ModelInferResponse.newBuilder().setModelName(request.getModelName()).build());
          answer.onCompleted();
        });
      }
    };
    String name = InProcessServerBuilder.generateName();
    server = InProcessServerBuilder.forName(name).directExecutor()
        .addService(ServerInterceptors.intercept(held, new GrpcByteBudget(budget))).build().start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    channel.shutdownNow();
    server.shutdownNow();
  }

  static ModelInferRequest request(String model, int bytes) {
    return ModelInferRequest.newBuilder().setModelName(model).addRawInputContents(ByteString.copyFrom(new byte[bytes]))
        .build();
  }

  @Test
  void aCallOverTheBudget_isUnavailableNamingIt_whileAnotherHoldsIt_andEverythingIsReleasedAfter() throws Exception {
    ModelInferRequest big = request("m", 8_000);
    CompletableFuture<ModelInferResponse> first = CompletableFuture.supplyAsync(() -> stub.modelInfer(big));
    assertTrue(arrived.await(10, TimeUnit.SECONDS), "the first call reached the service");
    assertEquals(big.getSerializedSize(), budget.inFlight(), "the first call holds its message's size");

    StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(request("n", 5_000)));
    assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
    assertTrue(refused.getStatus().getDescription().contains("max-bytes-in-flight"), refused.getStatus().toString());
    assertEquals(big.getSerializedSize(), budget.inFlight(), "a refused call holds nothing");

    release.complete(null);
    assertEquals("m", first.get(10, TimeUnit.SECONDS).getModelName());
    // the server hears that a call ended just after its client has the answer
    await().atMost(Duration.ofSeconds(10)).until(() -> budget.inFlight() == 0);
    assertEquals("n", stub.modelInfer(request("n", 5_000)).getModelName(), "the refused call fits now");
    await().atMost(Duration.ofSeconds(10)).until(() -> budget.inFlight() == 0);
  }

  @Test
  void aMessageAlone_isAdmittedWhateverItsSize() {
    release.complete(null);
    assertEquals("m", stub.modelInfer(request("m", 50_000)).getModelName());
    await().atMost(Duration.ofSeconds(10)).until(() -> budget.inFlight() == 0);
  }
}

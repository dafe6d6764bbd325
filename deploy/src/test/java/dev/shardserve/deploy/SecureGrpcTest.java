package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.shardserve.gateway.proto.kserve.GRPCInferenceServiceGrpc;
import dev.shardserve.gateway.proto.kserve.ModelReadyRequest;
import dev.shardserve.gateway.proto.kserve.ServerLiveRequest;
import dev.shardserve.gateway.proto.tfserving.GetModelStatusRequest;
import dev.shardserve.gateway.proto.tfserving.ModelServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.ModelSpec;
import dev.shardserve.gateway.proto.tfserving.PredictRequest;
import dev.shardserve.gateway.proto.tfserving.PredictResponse;
import dev.shardserve.gateway.proto.tfserving.PredictionServiceGrpc;
import dev.shardserve.gateway.security.ApiKeys;
import dev.shardserve.gateway.security.DevCertificates;
import dev.shardserve.gateway.security.FailureReason;
import dev.shardserve.gateway.security.Security;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gRPC port with the security of the HTTP listeners: TLS with client certificates (mutual
 * TLS) from the same files, API keys and scopes in the {@code authorization} / {@code x-api-key}
 * metadata, keys restricted to models checked against the model each message names, health open.
 */
class SecureGrpcTest {
  @TempDir static Path tmp;
  static InProcessServer server;
  static Path certs;
  static final List<ManagedChannel> channels = new ArrayList<>();
  static ManagedChannel mutual;

  @BeforeAll
  static void start() throws Exception {
    Path repo = Files.createDirectories(tmp.resolve("repo"));
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    HalfPlusTwoModel.write(repo.resolve("other/1"));
    certs = Files.createDirectories(tmp.resolve("certs"));
    DevCertificates.Issued ca = DevCertificates.certificateAuthority("test CA", Duration.ofDays(1));
    DevCertificates.Issued serverCert = DevCertificates.issue(ca, "localhost", List.of("localhost", "127.0.0.1"),
        DevCertificates.Usage.SERVER, Duration.ofDays(1));
    DevCertificates.Issued client = DevCertificates.issue(ca, "client", List.of("client"),
        DevCertificates.Usage.CLIENT, Duration.ofDays(1));
    Files.writeString(certs.resolve("ca.crt"), ca.certificatePem());
    Files.writeString(certs.resolve("server.crt"), serverCert.certificatePem() + ca.certificatePem());
    Files.writeString(certs.resolve("server.key"), serverCert.keyPem());
    Files.writeString(certs.resolve("client.crt"), client.certificatePem());
    Files.writeString(certs.resolve("client.key"), client.keyPem());
    Path keys = Files.writeString(tmp.resolve("keys"), String.join("\n",
        "app:infer:" + ApiKeys.hashHex("k-infer"),
        "ops:admin:" + ApiKeys.hashHex("k-admin"),
        "hpt:infer:" + ApiKeys.hashHex("k-hpt") + ":half_plus_two", ""));
    server = new InProcessServer(repo, Map.of(
        "shardserve.security.api-keys-file", keys.toString(),
        "shardserve.security.tls.cert-file", certs.resolve("server.crt").toString(),
        "shardserve.security.tls.key-file", certs.resolve("server.key").toString(),
        "shardserve.security.tls.client-ca-file", certs.resolve("ca.crt").toString()));
    mutual = channel(true);
    await().atMost(Duration.ofSeconds(60)).ignoreExceptionsMatching(e -> e instanceof StatusRuntimeException s
            && s.getStatus().getCode() != Status.Code.UNAUTHENTICATED)
        .until(() -> predict(mutual, "k-infer", "half_plus_two").containsOutputs("y")
            && predict(mutual, "k-infer", "other").containsOutputs("y"));
  }

  @AfterAll
  static void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    if (server != null) {
      server.close();
    }
  }

  static ManagedChannel channel(boolean clientCertificate) throws Exception {
    SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(certs.resolve("ca.crt").toFile());
    if (clientCertificate) {
      ssl.keyManager(certs.resolve("client.crt").toFile(), certs.resolve("client.key").toFile());
    }
    ManagedChannel c = NettyChannelBuilder.forAddress("localhost", server.grpcPort).sslContext(ssl.build()).build();
    channels.add(c);
    return c;
  }

  static <S extends AbstractStub<S>> S withKey(S stub, String key) {
    S s = stub.withDeadlineAfter(30, TimeUnit.SECONDS);
    if (key == null) {
      return s;
    }
    Metadata m = new Metadata();
    m.put(Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER), key);
    return s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(m));
  }

  static PredictResponse predict(ManagedChannel c, String key, String model) {
    return withKey(PredictionServiceGrpc.newBlockingStub(c), key).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName(model)).putInputs("x", GrpcApiTest.typed(1f, 2f)).build());
  }

  static Status.Code refused(Runnable call) {
    return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
  }

  @Test
  void mutualTls_andAKeyWithTheScope_answer() {
    assertEquals(List.of(2.5f, 3f), predict(mutual, "k-infer", "half_plus_two").getOutputsOrThrow("y")
        .getFloatValList());
  }

  @Test
  void withoutAClientCertificate_orInPlaintext_nothingIsServed() throws Exception {
    ManagedChannel noCertificate = channel(false);
    assertEquals(Status.Code.UNAVAILABLE, refused(() -> predict(noCertificate, "k-infer", "half_plus_two")));
    ManagedChannel plain = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort).usePlaintext().build();
    channels.add(plain);
    assertEquals(Status.Code.UNAVAILABLE, refused(() -> predict(plain, "k-infer", "half_plus_two")));
  }

  @Test
  void noKey_isUnauthenticated_aKeyWithoutTheScope_isPermissionDenied_andCounted() {
    long before = Security.get(server.system).failures().count(FailureReason.MISSING);
    StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
        () -> predict(mutual, null, "half_plus_two"));
    assertEquals(Status.Code.UNAUTHENTICATED, none.getStatus().getCode());
    assertEquals(before + 1, Security.get(server.system).failures().count(FailureReason.MISSING));
    assertEquals(Status.Code.UNAUTHENTICATED, refused(() -> predict(mutual, "wrong", "half_plus_two")));
    StatusRuntimeException admin = assertThrows(StatusRuntimeException.class,
        () -> predict(mutual, "k-admin", "half_plus_two"));
    assertEquals(Status.Code.PERMISSION_DENIED, admin.getStatus().getCode());
    assertTrue(admin.getStatus().getDescription().contains("'ops'") && admin.getStatus().getDescription()
        .contains("infer"), admin.getStatus().getDescription());
  }

  @Test
  void aKeyRestrictedToAModel_reachesThatModelOnly_onEveryService() {
    assertTrue(predict(mutual, "k-hpt", "half_plus_two").containsOutputs("y"));
    StatusRuntimeException other = assertThrows(StatusRuntimeException.class,
        () -> predict(mutual, "k-hpt", "other"));
    assertEquals(Status.Code.PERMISSION_DENIED, other.getStatus().getCode());
    assertTrue(other.getStatus().getDescription().contains("'other'"), other.getStatus().getDescription());
    assertEquals(Status.Code.PERMISSION_DENIED, refused(() -> withKey(ModelServiceGrpc.newBlockingStub(mutual),
        "k-hpt").getModelStatus(GetModelStatusRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("other")).build())));
    var kserve = withKey(GRPCInferenceServiceGrpc.newBlockingStub(mutual), "k-hpt");
    assertTrue(kserve.modelReady(ModelReadyRequest.newBuilder().setName("half_plus_two").build()).getReady());
    assertEquals(Status.Code.PERMISSION_DENIED,
        refused(() -> kserve.modelReady(ModelReadyRequest.newBuilder().setName("other").build())));
    assertTrue(kserve.serverLive(ServerLiveRequest.getDefaultInstance()).getLive(), "server-level calls name no model");
  }

  @Test
  void health_isOpenWithoutAKey() {
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(mutual)
        .withDeadlineAfter(30, TimeUnit.SECONDS).check(HealthCheckRequest.getDefaultInstance()).getStatus());
  }
}

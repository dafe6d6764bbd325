package dev.shardserve.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.gateway.proto.tfserving.ClassificationRequest;
import dev.shardserve.gateway.proto.tfserving.ExampleList;
import dev.shardserve.gateway.proto.tfserving.GetModelMetadataRequest;
import dev.shardserve.gateway.proto.tfserving.GetModelStatusRequest;
import dev.shardserve.gateway.proto.tfserving.GetModelStatusResponse;
import dev.shardserve.gateway.proto.tfserving.InferenceTask;
import dev.shardserve.gateway.proto.tfserving.Input;
import dev.shardserve.gateway.proto.tfserving.ModelServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.ModelSpec;
import dev.shardserve.gateway.proto.tfserving.ModelVersionStatus;
import dev.shardserve.gateway.proto.tfserving.MultiInferenceRequest;
import dev.shardserve.gateway.proto.tfserving.MultiInferenceResponse;
import dev.shardserve.gateway.proto.tfserving.PredictionServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.RegressionRequest;
import dev.shardserve.gateway.proto.tfserving.SignatureDefMap;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.SignatureDef;

/**
 * TF Serving's own test SavedModels over gRPC, with the answers TF Serving gives (its documented
 * examples: predict [1, 2, 5] -> [2.5, 3, 4.5], regress {x: 80} -> 42, classify {x: 20} -> 12,
 * and saved_model_half_plus_three's regress -> [3.5, 4.0], over gRPC and REST alike). The
 * repository is {@code ../shared/testdata/tfserving}; skipped when absent.
 */
class TfServingGrpcCompatibilityTest {
  static InProcessServer server;
  static ManagedChannel channel;
  static Path root;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() {
    root = Path.of(System.getProperty("shardserve.testdata.dir", "../../shared/testdata"))
        .resolve("tfserving").toAbsolutePath().normalize();
    assumeTrue(Files.isDirectory(root), "TF Serving test data not found at " + root
        + ": gRPC compatibility tests skipped");
    server = new InProcessServer(root, Map.of());
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort).usePlaintext().build();
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

  static PredictionServiceGrpc.PredictionServiceBlockingStub stub() {
    return PredictionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  static Input examples(float... xs) {
    ExampleList.Builder list = ExampleList.newBuilder();
    for (float x : xs) {
      list.addExamples(GrpcApiTest.example("x", x));
    }
    return Input.newBuilder().setExampleList(list).build();
  }

  @Test
  void halfPlusTwoCpu_predict_typedAndTensorContent() {
    assertEquals(List.of(2.5f, 3f, 4.5f), GrpcApiTest.predict(channel, "saved_model_half_plus_two_cpu",
        GrpcApiTest.typed(1f, 2f, 5f)).getOutputsOrThrow("y").getFloatValList());
    assertEquals(List.of(2.5f, 3f, 4.5f), GrpcApiTest.floats(GrpcApiTest.predict(channel,
        "saved_model_half_plus_two_cpu", GrpcApiTest.content(1f, 2f, 5f)).getOutputsOrThrow("y")));
  }

  @Test
  void halfPlusTwoCpu_regressAndClassify() {
    assertEquals(42f, stub().regress(RegressionRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("saved_model_half_plus_two_cpu").setSignatureName("regress_x_to_y"))
        .setInput(examples(80f)).build()).getResult().getRegressions(0).getValue());
    assertEquals(12f, stub().classify(ClassificationRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("saved_model_half_plus_two_cpu")
            .setSignatureName("classify_x_to_y"))
        .setInput(examples(20f)).build()).getResult().getClassifications(0).getClasses(0).getScore());
  }

  @Test
  void halfPlusTwoCpu_multiInference_twoRegressSignatures() {
    MultiInferenceResponse r = stub().multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(InferenceTask.newBuilder().setMethodName("tensorflow/serving/regress").setModelSpec(
            ModelSpec.newBuilder().setName("saved_model_half_plus_two_cpu").setSignatureName("regress_x_to_y")))
        .addTasks(InferenceTask.newBuilder().setMethodName("tensorflow/serving/regress").setModelSpec(
            ModelSpec.newBuilder().setName("saved_model_half_plus_two_cpu").setSignatureName("regress_x_to_y2")))
        .setInput(examples(80f)).build());
    assertEquals(42f, r.getResults(0).getRegressionResult().getRegressions(0).getValue());
    assertEquals(43f, r.getResults(1).getRegressionResult().getRegressions(0).getValue());
  }

  /** TF Serving's REST documentation example: its regress signature declares DT_FLOAT for a string placeholder. */
  @Test
  void halfPlusThree_regress_overRestAndGrpc() throws Exception {
    HttpResponse<String> rest = server.post("/v1/models/saved_model_half_plus_three:regress",
        "{\"signature_name\": \"tensorflow/serving/regress\", \"examples\": [{\"x\": 1.0}, {\"x\": 2.0}]}");
    assertEquals(200, rest.statusCode(), rest.body());
    assertEquals("{\"results\":[3.5,4.0]}", rest.body());
    var grpc = stub().regress(RegressionRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("saved_model_half_plus_three")
            .setSignatureName("tensorflow/serving/regress"))
        .setInput(examples(1f, 2f)).build()).getResult();
    assertEquals(3.5f, grpc.getRegressions(0).getValue());
    assertEquals(4f, grpc.getRegressions(1).getValue());
  }

  @Test
  void twoVersions_metadataEqualsWhatRestSays() throws Exception {
    var r = stub().getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("saved_model_half_plus_two_2_versions"))
        .addMetadataField("signature_def").build());
    assertEquals(124, r.getModelSpec().getVersion().getValue());
    Map<String, SignatureDef> grpc = new TreeMap<>(r.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class)
        .getSignatureDefMap());
    JsonNode expected = JSON.readTree(root.resolve("expected/saved_model_half_plus_two_2_versions_metadata.json")
        .toFile()).get("metadata").get("signature_def").get("signature_def");
    assertEquals(GrpcApiTest.names(expected.fieldNames()), new java.util.TreeSet<>(grpc.keySet()));
    for (Map.Entry<String, SignatureDef> e : grpc.entrySet()) {
      JsonNode sig = expected.get(e.getKey());
      assertEquals(sig.get("method_name").asText(), e.getValue().getMethodName(), e.getKey());
      for (var in : e.getValue().getInputsMap().entrySet()) {
        assertEquals(sig.get("inputs").get(in.getKey()).get("name").asText(), in.getValue().getName());
        assertEquals(sig.get("inputs").get(in.getKey()).get("dtype").asText(), in.getValue().getDtype().name());
      }
      for (var out : e.getValue().getOutputsMap().entrySet()) {
        assertEquals(sig.get("outputs").get(out.getKey()).get("name").asText(), out.getValue().getName());
      }
    }
  }

  @Test
  void twoVersions_statusAvailable() {
    // The repository's models load in the background: the status is LOADING until then (as TF
    // Serving's), AVAILABLE after, for the latest version only.
    GetModelStatusResponse r = Awaitility.await().atMost(Duration.ofSeconds(60))
        .until(() -> ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
            .getModelStatus(GetModelStatusRequest.newBuilder()
                .setModelSpec(ModelSpec.newBuilder().setName("saved_model_half_plus_two_2_versions")).build()),
            s -> s.getModelVersionStatus(0).getState() != ModelVersionStatus.State.LOADING);
    assertEquals(1, r.getModelVersionStatusCount());
    assertEquals(124, r.getModelVersionStatus(0).getVersion());
    assertEquals(ModelVersionStatus.State.AVAILABLE, r.getModelVersionStatus(0).getState());
  }
}

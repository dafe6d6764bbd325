package dev.shardserve.deploy;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Int64Value;
import com.google.rpc.RetryInfo;
import dev.shardserve.gateway.proto.kserve.GRPCInferenceServiceGrpc;
import dev.shardserve.gateway.proto.kserve.InferTensorContents;
import dev.shardserve.gateway.proto.kserve.ModelInferRequest;
import dev.shardserve.gateway.proto.kserve.ModelInferResponse;
import dev.shardserve.gateway.proto.kserve.ModelMetadataRequest;
import dev.shardserve.gateway.proto.kserve.ModelMetadataResponse;
import dev.shardserve.gateway.proto.kserve.ModelReadyRequest;
import dev.shardserve.gateway.proto.kserve.ServerLiveRequest;
import dev.shardserve.gateway.proto.kserve.ServerMetadataRequest;
import dev.shardserve.gateway.proto.kserve.ServerReadyRequest;
import dev.shardserve.gateway.proto.tfserving.ClassificationRequest;
import dev.shardserve.gateway.proto.tfserving.ClassificationResponse;
import dev.shardserve.gateway.proto.tfserving.ExampleList;
import dev.shardserve.gateway.proto.tfserving.GetModelMetadataRequest;
import dev.shardserve.gateway.proto.tfserving.GetModelMetadataResponse;
import dev.shardserve.gateway.proto.tfserving.GetModelStatusRequest;
import dev.shardserve.gateway.proto.tfserving.GetModelStatusResponse;
import dev.shardserve.gateway.proto.tfserving.InferenceTask;
import dev.shardserve.gateway.proto.tfserving.Input;
import dev.shardserve.gateway.proto.tfserving.ModelServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.ModelSpec;
import dev.shardserve.gateway.proto.tfserving.ModelVersionStatus;
import dev.shardserve.gateway.proto.tfserving.MultiInferenceRequest;
import dev.shardserve.gateway.proto.tfserving.MultiInferenceResponse;
import dev.shardserve.gateway.proto.tfserving.PredictRequest;
import dev.shardserve.gateway.proto.tfserving.PredictResponse;
import dev.shardserve.gateway.proto.tfserving.PredictionServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.RegressionRequest;
import dev.shardserve.gateway.proto.tfserving.RegressionResponse;
import dev.shardserve.gateway.proto.tfserving.SignatureDefMap;
import dev.shardserve.node.examples.HalfPlusTwoModel;
import dev.shardserve.node.testing.FixtureModels;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/**
 * Every gRPC call on the example model half_plus_two (y = 0.5 x + 2) of a standalone server,
 * through an in-process channel (the services mounted on grpc-java's in-process server) and over
 * the real port (Netty): TF Serving's PredictionService and ModelService, KServe's
 * GRPCInferenceService, health and reflection; bad input, the size limit and a deadline that
 * expires in a batch queue.
 */
class GrpcApiTest {
  @org.junit.jupiter.api.io.TempDir static Path tmp;
  static InProcessServer server;
  static Server inProcess;
  static ManagedChannel local;
  static ManagedChannel network;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() throws Exception {
    Path repo = tmp.resolve("repo");
    HalfPlusTwoModel.write(repo.resolve("half_plus_two/1"));
    FixtureModels.writeFixedShape(repo.resolve("slow/1"));
    Path config = tmp.resolve("models.conf");
    Files.writeString(config, """
        discover-repository = true
        models {
          # one request waits 2 s for a batch to fill
          slow { batching { max-queue-delay = 2s } }
        }
        """);
    server = new InProcessServer(repo, Map.of("shardserve.model-config", config.toString()));
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder b = InProcessServerBuilder.forName(name).directExecutor();
    server.grpcServices().definitions().forEach(b::addService);
    inProcess = b.build().start();
    local = InProcessChannelBuilder.forName(name).directExecutor().build();
    network = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> predict(network, "half_plus_two", typed(1f)).getOutputsMap().containsKey("y")
            && server.post("/v1/models/slow:predict", "{\"instances\": [[1, 2, 3]]}").statusCode() == 200);
  }

  @AfterAll
  static void stop() {
    if (local != null) {
      local.shutdownNow();
      network.shutdownNow();
      inProcess.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  static Stream<ManagedChannel> channels() {
    return Stream.of(local, network);
  }

  static PredictionServiceGrpc.PredictionServiceBlockingStub prediction(ManagedChannel c) {
    return PredictionServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  static TensorProto typed(float... values) {
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT)
        .setTensorShape(shape(values.length))
        .addAllFloatVal(boxed(values)).build();
  }

  static TensorProto content(float... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(values.length))
        .setTensorContent(ByteString.copyFrom(b.array())).build();
  }

  static TensorShapeProto shape(long... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (long d : dims) {
      s.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return s.build();
  }

  static List<Float> boxed(float[] values) {
    List<Float> out = new ArrayList<>();
    for (float v : values) {
      out.add(v);
    }
    return out;
  }

  static PredictResponse predict(ManagedChannel c, String model, TensorProto x) {
    return prediction(c).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName(model)).putInputs("x", x).build());
  }

  static List<Float> floats(TensorProto t) {
    if (!t.getTensorContent().isEmpty()) {
      ByteBuffer b = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      List<Float> out = new ArrayList<>();
      while (b.hasRemaining()) {
        out.add(b.getFloat());
      }
      return out;
    }
    return t.getFloatValList();
  }

  static Example example(String feature, float value) {
    return Example.newBuilder().setFeatures(Features.newBuilder().putFeature(feature,
        Feature.newBuilder().setFloatList(FloatList.newBuilder().addValue(value)).build())).build();
  }

  static StatusRuntimeException fails(Runnable call) {
    return assertThrows(StatusRuntimeException.class, call::run);
  }

  // ---- PredictionService ----

  @ParameterizedTest
  @MethodSource("channels")
  void predict_typedFields_answersTypedFieldsAndTheVersion(ManagedChannel c) {
    PredictResponse r = predict(c, "half_plus_two", typed(1f, 2f, 5f));
    TensorProto y = r.getOutputsOrThrow("y");
    assertEquals(List.of(2.5f, 3f, 4.5f), y.getFloatValList());
    assertTrue(y.getTensorContent().isEmpty(), "typed fields by default, as TF Serving answers");
    assertEquals(DataType.DT_FLOAT, y.getDtype());
    assertEquals(shape(3), y.getTensorShape());
    assertEquals("half_plus_two", r.getModelSpec().getName());
    assertEquals(1, r.getModelSpec().getVersion().getValue());
    assertEquals("serving_default", r.getModelSpec().getSignatureName());
  }

  @ParameterizedTest
  @MethodSource("channels")
  void predict_tensorContent_isDecodedAsTheSameValues(ManagedChannel c) {
    assertEquals(List.of(2.5f, 3f, 4.5f), floats(predict(c, "half_plus_two", content(1f, 2f, 5f)).getOutputsOrThrow("y")));
  }

  @Test
  void predict_oneTypedValue_fillsTheShape() {
    TensorProto x = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(3)).addFloatVal(4f)
        .build();
    assertEquals(List.of(4f, 4f, 4f), predict(network, "half_plus_two", x).getOutputsOrThrow("y").getFloatValList());
  }

  @Test
  void predict_versionAndOutputFilter_areHonoured() {
    PredictResponse r = prediction(network).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setVersion(Int64Value.of(1)))
        .putInputs("x", typed(2f)).addOutputFilter("y").build());
    assertEquals(List.of(3f), r.getOutputsOrThrow("y").getFloatValList());
    StatusRuntimeException e = fails(() -> prediction(network).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).putInputs("x", typed(2f))
        .addOutputFilter("nope").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("'nope'"), e.getStatus().getDescription());
  }

  @ParameterizedTest
  @MethodSource("channels")
  void regressAndClassify_onTheExampleModel(ManagedChannel c) {
    RegressionResponse reg = prediction(c).regress(RegressionRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("regress_x_to_y"))
        .setInput(Input.newBuilder().setExampleList(ExampleList.newBuilder().addExamples(example("x", 80f))))
        .build());
    assertEquals(42f, reg.getResult().getRegressions(0).getValue());
    assertEquals(1, reg.getModelSpec().getVersion().getValue());
    ClassificationResponse cls = prediction(c).classify(ClassificationRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("classify_x_to_y"))
        .setInput(Input.newBuilder().setExampleList(ExampleList.newBuilder().addExamples(example("x", 20f))))
        .build());
    assertEquals(12f, cls.getResult().getClassifications(0).getClasses(0).getScore());
  }

  @Test
  void multiInference_runsEachSignatureOverTheSameInput() {
    MultiInferenceResponse r = prediction(network).multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(InferenceTask.newBuilder().setMethodName("tensorflow/serving/regress")
            .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("regress_x_to_y")))
        .addTasks(InferenceTask.newBuilder().setMethodName("tensorflow/serving/classify")
            .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("classify_x_to_y")))
        .setInput(Input.newBuilder().setExampleList(ExampleList.newBuilder()
            .addExamples(example("x", 80f)).addExamples(example("x", 20f))))
        .build());
    assertEquals(2, r.getResultsCount());
    assertEquals(42f, r.getResults(0).getRegressionResult().getRegressions(0).getValue());
    assertEquals(12f, r.getResults(1).getClassificationResult().getClassifications(1).getClasses(0).getScore());
    assertEquals("classify_x_to_y", r.getResults(1).getModelSpec().getSignatureName());
    StatusRuntimeException e = fails(() -> prediction(network).multiInference(MultiInferenceRequest.newBuilder()
        .addTasks(InferenceTask.newBuilder().setMethodName("tensorflow/serving/regress")
            .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("regress_x_to_y")))
        .addTasks(InferenceTask.newBuilder().setMethodName("tensorflow/serving/regress")
            .setModelSpec(ModelSpec.newBuilder().setName("slow").setSignatureName("regress_x_to_y")))
        .build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("same model name"), e.getStatus().getDescription());
  }

  @ParameterizedTest
  @MethodSource("channels")
  void getModelMetadata_isTheSignatureDefMapTheRestMetadataShows(ManagedChannel c) throws Exception {
    GetModelMetadataResponse r = prediction(c).getModelMetadata(GetModelMetadataRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).addMetadataField("signature_def").build());
    assertEquals(1, r.getModelSpec().getVersion().getValue());
    SignatureDefMap map = r.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class);
    JsonNode rest = JSON.readTree(server.get("/v1/models/half_plus_two/metadata").body())
        .get("metadata").get("signature_def").get("signature_def");
    assertEquals(names(rest.fieldNames()), new TreeSet<>(map.getSignatureDefMap().keySet()));
    for (String sig : map.getSignatureDefMap().keySet()) {
      org.tensorflow.proto.SignatureDef def = map.getSignatureDefOrThrow(sig);
      JsonNode restSig = rest.get(sig);
      assertEquals(restSig.get("method_name").asText(), def.getMethodName(), sig);
      for (var in : def.getInputsMap().entrySet()) {
        JsonNode restIn = restSig.get("inputs").get(in.getKey());
        assertEquals(restIn.get("name").asText(), in.getValue().getName(), sig);
        assertEquals(restIn.get("dtype").asText(), in.getValue().getDtype().name(), sig);
        assertEquals(restIn.get("tensor_shape").get("dim").size(), in.getValue().getTensorShape().getDimCount(), sig);
      }
      assertEquals(names(restSig.get("outputs").fieldNames()),
          new TreeSet<>(def.getOutputsMap().keySet()), sig);
    }
  }

  static TreeSet<String> names(java.util.Iterator<String> it) {
    TreeSet<String> out = new TreeSet<>();
    it.forEachRemaining(out::add);
    return out;
  }

  // ---- ModelService ----

  @ParameterizedTest
  @MethodSource("channels")
  void getModelStatus_isAvailable(ManagedChannel c) {
    GetModelStatusResponse r = ModelServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS)
        .getModelStatus(GetModelStatusRequest.newBuilder()
            .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).build());
    assertEquals(1, r.getModelVersionStatusCount());
    assertEquals(1, r.getModelVersionStatus(0).getVersion());
    assertEquals(ModelVersionStatus.State.AVAILABLE, r.getModelVersionStatus(0).getState());
    assertEquals(org.tensorflow.proto.error.Code.OK, r.getModelVersionStatus(0).getStatus().getErrorCode());
  }

  // ---- KServe GRPCInferenceService ----

  static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub kserve(ManagedChannel c) {
    return GRPCInferenceServiceGrpc.newBlockingStub(c).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @ParameterizedTest
  @MethodSource("channels")
  void kserve_healthAndMetadata(ManagedChannel c) {
    assertTrue(kserve(c).serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    assertTrue(kserve(c).serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    assertEquals("shardserve", kserve(c).serverMetadata(ServerMetadataRequest.getDefaultInstance()).getName());
    assertTrue(kserve(c).modelReady(ModelReadyRequest.newBuilder().setName("half_plus_two").build()).getReady());
    assertTrue(kserve(c).modelReady(ModelReadyRequest.newBuilder().setName("half_plus_two").setVersion("1").build())
        .getReady());
    assertFalse(kserve(c).modelReady(ModelReadyRequest.newBuilder().setName("half_plus_two").setVersion("7").build())
        .getReady());
    assertFalse(kserve(c).modelReady(ModelReadyRequest.newBuilder().setName("nothing_here").build()).getReady());
    ModelMetadataResponse md = kserve(c).modelMetadata(ModelMetadataRequest.newBuilder().setName("half_plus_two")
        .build());
    assertEquals(List.of("1"), md.getVersionsList());
    assertEquals("x", md.getInputs(0).getName());
    assertEquals("FP32", md.getInputs(0).getDatatype());
    assertEquals(List.of(-1L), md.getInputs(0).getShapeList());
    assertEquals("y", md.getOutputs(0).getName());
  }

  @ParameterizedTest
  @MethodSource("channels")
  void kserve_modelInfer_rawInRawOut_echoesTheId(ManagedChannel c) {
    ByteBuffer raw = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    raw.putFloat(1f).putFloat(2f).putFloat(5f);
    ModelInferResponse r = kserve(c).modelInfer(ModelInferRequest.newBuilder().setModelName("half_plus_two")
        .setId("req-7")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(3))
        .addRawInputContents(ByteString.copyFrom(raw.array())).build());
    assertEquals("req-7", r.getId());
    assertEquals("1", r.getModelVersion());
    assertEquals("y", r.getOutputs(0).getName());
    assertEquals("FP32", r.getOutputs(0).getDatatype());
    assertEquals(List.of(3L), r.getOutputs(0).getShapeList());
    ByteBuffer out = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertArrayEquals(new float[] {2.5f, 3f, 4.5f}, new float[] {out.getFloat(), out.getFloat(), out.getFloat()});
  }

  @Test
  void kserve_modelInfer_typedInTypedOut() {
    ModelInferResponse r = kserve(network).modelInfer(ModelInferRequest.newBuilder().setModelName("half_plus_two")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(2)
            .setContents(InferTensorContents.newBuilder().addFp32Contents(1f).addFp32Contents(2f))).build());
    assertEquals(List.of(2.5f, 3f), r.getOutputs(0).getContents().getFp32ContentsList());
    assertEquals(0, r.getRawOutputContentsCount());
  }

  // ---- health and reflection ----

  @ParameterizedTest
  @MethodSource("channels")
  void health_servesTheServerAndEachModel(ManagedChannel c) {
    server.grpcServices().refreshHealth();
    HealthGrpc.HealthBlockingStub h = HealthGrpc.newBlockingStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, h.check(HealthCheckRequest.getDefaultInstance()).getStatus());
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        h.check(HealthCheckRequest.newBuilder().setService("half_plus_two").build()).getStatus());
    assertEquals(HealthCheckResponse.ServingStatus.SERVING,
        h.check(HealthCheckRequest.newBuilder().setService("tensorflow.serving.PredictionService").build()).getStatus());
    StatusRuntimeException e = fails(() -> h.check(HealthCheckRequest.newBuilder().setService("nothing_here").build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
  }

  @Test
  void reflection_listsTheServices() throws Exception {
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(network)
        .withDeadlineAfter(10, TimeUnit.SECONDS).serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
            answer.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
    requests.onCompleted();
    List<String> names = answer.get(10, TimeUnit.SECONDS).getListServicesResponse().getServiceList().stream()
        .map(s -> s.getName()).toList();
    assertTrue(names.containsAll(List.of("tensorflow.serving.PredictionService", "tensorflow.serving.ModelService",
        "inference.GRPCInferenceService", "grpc.health.v1.Health")), names.toString());
  }

  // ---- bad input: each a status naming the bad value, and the server keeps serving ----

  @ParameterizedTest
  @MethodSource("channels")
  void badInput_wrongDtype_isInvalidArgumentNamingIt(ManagedChannel c) {
    TensorProto s = TensorProto.newBuilder().setDtype(DataType.DT_STRING).setTensorShape(shape(1))
        .addStringVal(ByteString.copyFromUtf8("one")).build();
    StatusRuntimeException e = fails(() -> predict(c, "half_plus_two", s));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("'x'"), e.getStatus().getDescription());
    assertEquals(List.of(2.5f), predict(c, "half_plus_two", typed(1f)).getOutputsOrThrow("y").getFloatValList());
  }

  @Test
  void badInput_shapeMismatch_isInvalidArgumentNamingCounts() {
    TensorProto x = TensorProto.newBuilder().setDtype(DataType.DT_FLOAT).setTensorShape(shape(3))
        .addFloatVal(1f).addFloatVal(2f).build();
    StatusRuntimeException e = fails(() -> predict(network, "half_plus_two", x));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("[3] holds 3 elements, but float_val has 2"),
        e.getStatus().getDescription());
    TensorProto bytes = content(1f, 2f).toBuilder().setTensorShape(shape(3)).build();
    e = fails(() -> predict(network, "half_plus_two", bytes));
    assertTrue(e.getStatus().getDescription().contains("tensor_content has 8 bytes"), e.getStatus().getDescription());
    TensorProto matrix = content(1f, 2f).toBuilder().setTensorShape(shape(1, 2)).build();
    e = fails(() -> predict(network, "slow", matrix));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
  }

  @Test
  void badInput_unknownModelVersionSignature() {
    StatusRuntimeException e = fails(() -> predict(network, "nothing_here", typed(1f)));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("nothing_here"), e.getStatus().getDescription());
    e = fails(() -> prediction(network).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setVersion(Int64Value.of(42)))
        .putInputs("x", typed(1f)).build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("42"), e.getStatus().getDescription());
    e = fails(() -> prediction(network).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("nope"))
        .putInputs("x", typed(1f)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("nope"), e.getStatus().getDescription());
  }

  @Test
  void badInput_emptyRequests() {
    StatusRuntimeException e = fails(() -> prediction(network).predict(PredictRequest.getDefaultInstance()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("model_spec.name"), e.getStatus().getDescription());
    e = fails(() -> prediction(network).regress(RegressionRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two").setSignatureName("regress_x_to_y")).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains("Input is empty"), e.getStatus().getDescription());
    e = fails(() -> kserve(network).modelInfer(ModelInferRequest.newBuilder().setModelName("half_plus_two").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    e = fails(() -> kserve(network).modelInfer(ModelInferRequest.newBuilder().setModelName("half_plus_two")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP99").addShape(1))
        .build()));
    assertTrue(e.getStatus().getDescription().contains("'FP99'"), e.getStatus().getDescription());
  }

  @Test
  void aRequestOf10MiB_underTheLimit_succeeds() {
    int n = (10 << 20) / 4;
    float[] values = new float[n];
    java.util.Arrays.fill(values, 2f);
    PredictResponse r = prediction(network).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).putInputs("x", content(values)).build());
    assertEquals(n, r.getOutputsOrThrow("y").getFloatValCount());
    assertEquals(3f, r.getOutputsOrThrow("y").getFloatVal(n - 1));
  }

  @Test
  void aRequestOverTheLimit_isResourceExhausted_andTheServerKeepsServing() {
    int n = (33 << 20) / 4; // the limit is 32 MiB
    StatusRuntimeException e = fails(() -> prediction(network).predict(PredictRequest.newBuilder()
        .setModelSpec(ModelSpec.newBuilder().setName("half_plus_two")).putInputs("x", content(new float[n])).build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
    assertTrue(e.getStatus().getDescription().contains(Integer.toString(32 << 20)), e.getStatus().getDescription());
    assertEquals(List.of(2.5f), predict(network, "half_plus_two", typed(1f)).getOutputsOrThrow("y").getFloatValList());
  }

  @Test
  void aDeadlineThatExpiresInTheQueue_isDeadlineExceeded_beforeTheBatchWouldRun() {
    TensorProto row = content(1f, 2f, 3f).toBuilder().setTensorShape(shape(1, 3)).build();
    long started = System.nanoTime();
    StatusRuntimeException e = fails(() -> PredictionServiceGrpc.newBlockingStub(network)
        .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
        .predict(PredictRequest.newBuilder().setModelSpec(ModelSpec.newBuilder().setName("slow"))
            .putInputs("x", row).build()));
    long tookMillis = (System.nanoTime() - started) / 1_000_000;
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertTrue(tookMillis < 1500, "answered after " + tookMillis + " ms, the batch waits 2 s");
    assertEquals(List.of(2.5f), predict(network, "half_plus_two", typed(1f)).getOutputsOrThrow("y").getFloatValList());
  }

  @Test
  void overload_isUnavailableWithRetryInfo() throws Exception {
    StatusRuntimeException e = dev.shardserve.gateway.grpc.GrpcErrors.of(
        dev.shardserve.protocol.ErrorCode.OVERLOADED, "m is at its concurrency limit");
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
    com.google.rpc.Status details = StatusProto.fromThrowable(e);
    assertEquals(1, details.getDetails(0).unpack(RetryInfo.class).getRetryDelay().getSeconds(), details.toString());
  }

  @Test
  void restMetadataOfTheSameModel_stillAnswers() throws Exception {
    HttpResponse<String> r = server.get("/v1/models/half_plus_two");
    assertEquals(200, r.statusCode(), r.body());
  }
}

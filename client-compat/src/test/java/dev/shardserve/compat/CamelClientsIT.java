package dev.shardserve.compat;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import inference.GrpcPredictV2.ModelInferRequest;
import inference.GrpcPredictV2.ModelInferResponse;
import inference.GrpcPredictV2.ModelMetadataResponse;
import inference.GrpcPredictV2.ModelReadyResponse;
import inference.GrpcPredictV2.ServerLiveResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.camel.CamelContext;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.impl.DefaultCamelContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.example.Example;
import org.tensorflow.example.Feature;
import org.tensorflow.example.Features;
import org.tensorflow.example.FloatList;
import org.tensorflow.framework.DataType;
import org.tensorflow.framework.TensorProto;
import org.tensorflow.framework.TensorShapeProto;
import tensorflow.serving.Classification.ClassificationRequest;
import tensorflow.serving.Classification.ClassificationResponse;
import tensorflow.serving.GetModelMetadata.GetModelMetadataResponse;
import tensorflow.serving.GetModelMetadata.SignatureDefMap;
import tensorflow.serving.GetModelStatus.GetModelStatusResponse;
import tensorflow.serving.GetModelStatus.ModelVersionStatus;
import tensorflow.serving.InputOuterClass.ExampleList;
import tensorflow.serving.InputOuterClass.Input;
import tensorflow.serving.Predict.PredictRequest;
import tensorflow.serving.Predict.PredictResponse;
import tensorflow.serving.RegressionOuterClass.RegressionRequest;
import tensorflow.serving.RegressionOuterClass.RegressionResponse;

/**
 * Apache Camel's TF Serving and KServe components (their own generated classes, their own grpc
 * channel) against the product jar's gRPC port: every API each component has, on the example
 * model half_plus_two (y = 0.5 x + 2).
 */
class CamelClientsIT {
  @TempDir static Path tmp;
  static ShardServeProcess server;
  static CamelContext camel;
  static ProducerTemplate template;
  static String tfs;
  static String kserve;

  @BeforeAll
  static void start() throws Exception {
    Path repo = tmp.resolve("models");
    java.nio.file.Files.createDirectories(repo);
    ShardServeProcess.writeExampleModel(repo);
    server = ShardServeProcess.standalone(repo, tmp);
    camel = new DefaultCamelContext();
    camel.start();
    template = camel.createProducerTemplate();
    String target = "target=localhost:" + server.grpcPort + "&modelName=half_plus_two";
    tfs = "tensorflow-serving:%s?" + target;
    kserve = "kserve:%s?" + target;
    await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
        .until(() -> template.requestBody(String.format(kserve, "model/ready"), null, ModelReadyResponse.class)
            .getReady());
  }

  @AfterAll
  static void stop() throws Exception {
    if (camel != null) {
      camel.stop();
    }
    if (server != null) {
      server.close();
    }
  }

  static TensorShapeProto shape(long n) {
    return TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dim.newBuilder().setSize(n)).build();
  }

  static Input examples(float x) {
    return Input.newBuilder().setExampleList(ExampleList.newBuilder().addExamples(Example.newBuilder()
        .setFeatures(Features.newBuilder().putFeature("x", Feature.newBuilder()
            .setFloatList(FloatList.newBuilder().addValue(x)).build())))).build();
  }

  @Test
  void tensorflowServing_predict() {
    PredictRequest request = PredictRequest.newBuilder().putInputs("x", TensorProto.newBuilder()
        .setDtype(DataType.DT_FLOAT).setTensorShape(shape(3)).addFloatVal(1f).addFloatVal(2f).addFloatVal(5f)
        .build()).build();
    PredictResponse r = template.requestBody(String.format(tfs, "predict"), request, PredictResponse.class);
    assertEquals(List.of(2.5f, 3f, 4.5f), r.getOutputsOrThrow("y").getFloatValList());
    assertEquals(1, r.getModelSpec().getVersion().getValue());
  }

  @Test
  void tensorflowServing_regressAndClassify() {
    RegressionResponse reg = template.requestBody(String.format(tfs, "regress") + "&signatureName=regress_x_to_y",
        RegressionRequest.newBuilder().setInput(examples(80f)).build(), RegressionResponse.class);
    assertEquals(42f, reg.getResult().getRegressions(0).getValue());
    ClassificationResponse cls = template.requestBody(String.format(tfs, "classify")
        + "&signatureName=classify_x_to_y", ClassificationRequest.newBuilder().setInput(examples(20f)).build(),
        ClassificationResponse.class);
    assertEquals(12f, cls.getResult().getClassifications(0).getClasses(0).getScore());
  }

  @Test
  void tensorflowServing_statusAndMetadata() throws Exception {
    GetModelStatusResponse status = template.requestBody(String.format(tfs, "model-status"), null,
        GetModelStatusResponse.class);
    assertEquals(ModelVersionStatus.State.AVAILABLE, status.getModelVersionStatus(0).getState());
    GetModelMetadataResponse md = template.requestBody(String.format(tfs, "model-metadata"), null,
        GetModelMetadataResponse.class);
    SignatureDefMap map = md.getMetadataOrThrow("signature_def").unpack(SignatureDefMap.class);
    assertTrue(map.getSignatureDefMap().containsKey("serving_default"), map.getSignatureDefMap().keySet().toString());
    assertEquals("x", map.getSignatureDefOrThrow("serving_default").getInputsOrThrow("x").getName().split(":")[0]);
  }

  @Test
  void kserve_inferRaw() {
    ByteBuffer raw = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f);
    ModelInferRequest request = ModelInferRequest.newBuilder().setId("camel-1")
        .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("x").setDatatype("FP32").addShape(2))
        .addRawInputContents(ByteString.copyFrom(raw.array())).build();
    ModelInferResponse r = template.requestBody(String.format(kserve, "infer"), request, ModelInferResponse.class);
    assertEquals("camel-1", r.getId());
    ByteBuffer out = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(2.5f, out.getFloat());
    assertEquals(3f, out.getFloat());
  }

  @Test
  void kserve_liveReadyMetadata() {
    assertTrue(template.requestBody(String.format(kserve, "server/live"), null, ServerLiveResponse.class).getLive());
    ModelMetadataResponse md = template.requestBody(String.format(kserve, "model/metadata"), null,
        ModelMetadataResponse.class);
    assertEquals("half_plus_two", md.getName());
    assertEquals("FP32", md.getInputs(0).getDatatype());
  }
}

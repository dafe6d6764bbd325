package dev.shardserve.gateway.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;
import dev.shardserve.dataplane.InferCall;
import dev.shardserve.gateway.proto.tfserving.Class;
import dev.shardserve.gateway.proto.tfserving.ClassificationRequest;
import dev.shardserve.gateway.proto.tfserving.ClassificationResponse;
import dev.shardserve.gateway.proto.tfserving.ClassificationResult;
import dev.shardserve.gateway.proto.tfserving.Classifications;
import dev.shardserve.gateway.proto.tfserving.GetModelMetadataRequest;
import dev.shardserve.gateway.proto.tfserving.GetModelMetadataResponse;
import dev.shardserve.gateway.proto.tfserving.InferenceResult;
import dev.shardserve.gateway.proto.tfserving.InferenceTask;
import dev.shardserve.gateway.proto.tfserving.Input;
import dev.shardserve.gateway.proto.tfserving.ModelSpec;
import dev.shardserve.gateway.proto.tfserving.MultiInferenceRequest;
import dev.shardserve.gateway.proto.tfserving.MultiInferenceResponse;
import dev.shardserve.gateway.proto.tfserving.PredictRequest;
import dev.shardserve.gateway.proto.tfserving.PredictResponse;
import dev.shardserve.gateway.proto.tfserving.PredictionServiceGrpc;
import dev.shardserve.gateway.proto.tfserving.Regression;
import dev.shardserve.gateway.proto.tfserving.RegressionRequest;
import dev.shardserve.gateway.proto.tfserving.RegressionResponse;
import dev.shardserve.gateway.proto.tfserving.RegressionResult;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Feature;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.ExampleMethod;
import dev.shardserve.protocol.ModelProtocol.Failure;
import dev.shardserve.protocol.ModelProtocol.GetMetadata;
import dev.shardserve.protocol.ModelProtocol.MetadataReply;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import dev.shardserve.protocol.VersionSelector;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorShapeProto;

/**
 * TF Serving's {@code tensorflow.serving.PredictionService} on the data plane: Predict (tensors
 * in either encoding, outputs in typed fields or, by setting, {@code tensor_content}), Classify
 * and Regress (the {@code tf.Example}s go to the node as feature lists, which serializes them for
 * the signature's input), MultiInference (several classify/regress signatures of one model over
 * one input) and GetModelMetadata ({@code signature_def} as an {@code Any} packing
 * {@code SignatureDefMap}). Answers carry the model spec with the version that answered.
 */
final class TfServingPredictionService extends PredictionServiceGrpc.PredictionServiceImplBase {
  static final String SIGNATURE_DEF = "signature_def";

  private final GrpcInference inference;
  private final boolean tensorContentOutputs;

  TfServingPredictionService(GrpcInference inference, boolean tensorContentOutputs) {
    this.inference = inference;
    this.tensorContentOutputs = tensorContentOutputs;
  }

  // ---- Predict ----

  @Override
  public void predict(PredictRequest request, StreamObserver<PredictResponse> observer) {
    GrpcInference.handle(observer, () -> predict(request));
  }

  private CompletableFuture<PredictResponse> predict(PredictRequest request) {
    ModelSpec spec = request.getModelSpec();
    String model = spec.getName();
    VersionSelector version = selector(spec);
    String signature = signature(spec);
    Set<String> filter = request.getOutputFilterCount() == 0 ? null : new HashSet<>(request.getOutputFilterList());
    return inference.run(model, dev.shardserve.metrics.Api.PREDICT, deadline -> {
      Map<String, Tensor> inputs = new HashMap<>();
      for (Map.Entry<String, org.tensorflow.proto.TensorProto> e : request.getInputsMap().entrySet()) {
        inputs.put(e.getKey(), TensorProtoCodec.decode(e.getKey(), e.getValue()));
      }
      return new InferCall.Predict(model, version, signature, inputs, deadline);
    }, result -> {
      Outputs outputs = result.outputs();
      PredictResponse.Builder b = PredictResponse.newBuilder().setModelSpec(answered(model, signature,
          result.version()));
      if (filter != null) {
        for (String name : filter) {
          if (outputs.indexOf(name) < 0) {
            throw GrpcErrors.invalid("output_filter names '" + name + "', which signature '" + signature
                + "' does not have; its outputs are " + outputs.names());
          }
        }
      }
      for (int i = 0; i < outputs.size(); i++) {
        if (filter == null || filter.contains(outputs.name(i))) {
          b.putOutputs(outputs.name(i), TensorProtoCodec.encode(outputs, i, tensorContentOutputs));
        }
      }
      return b.build();
    });
  }

  // ---- Classify, Regress, MultiInference ----

  @Override
  public void classify(ClassificationRequest request, StreamObserver<ClassificationResponse> observer) {
    GrpcInference.handle(observer, () -> {
      ModelSpec spec = request.getModelSpec();
      String signature = signature(spec);
      return examples(spec.getName(), selector(spec), signature, ExampleMethod.CLASSIFY, request.getInput())
          .thenApply(r -> ClassificationResponse.newBuilder()
              .setModelSpec(answered(spec.getName(), signature, r.version))
              .setResult(r.classification).build());
    });
  }

  @Override
  public void regress(RegressionRequest request, StreamObserver<RegressionResponse> observer) {
    GrpcInference.handle(observer, () -> {
      ModelSpec spec = request.getModelSpec();
      String signature = signature(spec);
      return examples(spec.getName(), selector(spec), signature, ExampleMethod.REGRESS, request.getInput())
          .thenApply(r -> RegressionResponse.newBuilder()
              .setModelSpec(answered(spec.getName(), signature, r.version))
              .setResult(r.regression).build());
    });
  }

  @Override
  public void multiInference(MultiInferenceRequest request, StreamObserver<MultiInferenceResponse> observer) {
    GrpcInference.handle(observer, () -> multiInference(request));
  }

  /** TF Serving's rules: at least one task, one model for all, each signature once, classify or regress. */
  private CompletableFuture<MultiInferenceResponse> multiInference(MultiInferenceRequest request) {
    if (request.getTasksCount() == 0) {
      throw GrpcErrors.invalid("MultiInferenceRequest has no tasks");
    }
    String model = request.getTasks(0).getModelSpec().getName();
    Set<String> signatures = new HashSet<>();
    List<CompletableFuture<InferenceResult>> results = new ArrayList<>();
    for (InferenceTask task : request.getTasksList()) {
      ModelSpec spec = task.getModelSpec();
      if (!spec.getName().equals(model)) {
        throw GrpcErrors.invalid("All ModelSpecs in a MultiInferenceRequest must access the same model name: '"
            + model + "' and '" + spec.getName() + "'");
      }
      String signature = signature(spec);
      if (!signatures.add(signature)) {
        throw GrpcErrors.invalid("Duplicate evaluation of signature: " + signature);
      }
      ExampleMethod method;
      if (task.getMethodName().equals(ExampleMethod.CLASSIFY.signatureMethod())) {
        method = ExampleMethod.CLASSIFY;
      } else if (task.getMethodName().equals(ExampleMethod.REGRESS.signatureMethod())) {
        method = ExampleMethod.REGRESS;
      } else {
        throw GrpcErrors.invalid("Unsupported signature method_name: '" + task.getMethodName() + "' (expected "
            + ExampleMethod.CLASSIFY.signatureMethod() + " or " + ExampleMethod.REGRESS.signatureMethod() + ")");
      }
      results.add(examples(model, selector(spec), signature, method, request.getInput()).thenApply(r -> {
        InferenceResult.Builder b = InferenceResult.newBuilder().setModelSpec(answered(model, signature, r.version));
        return method == ExampleMethod.CLASSIFY ? b.setClassificationResult(r.classification).build()
            : b.setRegressionResult(r.regression).build();
      }));
    }
    return CompletableFuture.allOf(results.toArray(new CompletableFuture<?>[0])).thenApply(done -> {
      MultiInferenceResponse.Builder b = MultiInferenceResponse.newBuilder();
      results.forEach(r -> b.addResults(r.join()));
      return b.build();
    });
  }

  /** A classify or regress answer: the version, and the result of its method. */
  private record ExamplesResult(long version, ClassificationResult classification, RegressionResult regression) {}

  private CompletableFuture<ExamplesResult> examples(String model, VersionSelector version, String signature,
      ExampleMethod method, Input input) {
    return inference.run(model, method == ExampleMethod.CLASSIFY ? dev.shardserve.metrics.Api.CLASSIFY
        : dev.shardserve.metrics.Api.REGRESS, deadline -> {
      List<Map<String, Feature>> examples = new ArrayList<>();
      Map<String, Feature> context = Map.of();
      if (input.hasExampleList()) {
        for (Example e : input.getExampleList().getExamplesList()) {
          examples.add(features(e));
        }
      } else if (input.hasExampleListWithContext()) {
        for (Example e : input.getExampleListWithContext().getExamplesList()) {
          examples.add(features(e));
        }
        context = features(input.getExampleListWithContext().getContext());
      }
      if (examples.isEmpty()) {
        throw GrpcErrors.invalid("Input is empty: give examples in input.example_list or "
            + "input.example_list_with_context");
      }
      return new InferCall.Examples(model, version, signature, method, examples, context, deadline);
    }, result -> method == ExampleMethod.CLASSIFY
        ? new ExamplesResult(result.version(), classification(result.outputs(), count(input)), null)
        : new ExamplesResult(result.version(), null, regression(result.outputs(), count(input))));
  }

  private static int count(Input input) {
    return input.hasExampleList() ? input.getExampleList().getExamplesCount()
        : input.getExampleListWithContext().getExamplesCount();
  }

  /** A {@code tf.Example}'s features as the data plane carries them (the node serializes them again). */
  static Map<String, Feature> features(Example e) {
    Map<String, Feature> out = new LinkedHashMap<>();
    for (Map.Entry<String, org.tensorflow.proto.Feature> f : e.getFeatures().getFeatureMap().entrySet()) {
      org.tensorflow.proto.Feature v = f.getValue();
      switch (v.getKindCase()) {
        case FLOAT_LIST -> {
          float[] values = new float[v.getFloatList().getValueCount()];
          for (int i = 0; i < values.length; i++) {
            values[i] = v.getFloatList().getValue(i);
          }
          out.put(f.getKey(), new Feature.FloatList(values));
        }
        case INT64_LIST -> {
          long[] values = new long[v.getInt64List().getValueCount()];
          for (int i = 0; i < values.length; i++) {
            values[i] = v.getInt64List().getValue(i);
          }
          out.put(f.getKey(), new Feature.Int64List(values));
        }
        case BYTES_LIST -> {
          List<byte[]> values = new ArrayList<>();
          v.getBytesList().getValueList().forEach(b -> values.add(b.toByteArray()));
          out.put(f.getKey(), new Feature.BytesList(values));
        }
        default -> { } // a feature with no list set carries nothing
      }
    }
    return out;
  }

  /** Per example, its classes: labels from output "classes", scores from "scores" (either may be absent). */
  static ClassificationResult classification(Outputs outputs, int examples) {
    Tensor classes = outputs.get("classes");
    Tensor scores = outputs.get("scores");
    if (classes == null && scores == null) {
      throw GrpcErrors.invalid("a classify signature needs output \"classes\" or \"scores\", has " + outputs.names());
    }
    if (scores != null && scores.dtype() != DType.FLOAT32 && scores.dtype() != DType.FLOAT64) {
      throw GrpcErrors.invalid("classify output \"scores\" must be float, is " + scores.dtype().tfName());
    }
    if (classes != null && !classes.dtype().isString()) {
      throw GrpcErrors.invalid("classify output \"classes\" must be DT_STRING, is " + classes.dtype().tfName());
    }
    Tensor shaped = scores != null ? scores : classes;
    int perExample = shaped.numElements() / Math.max(1, examples);
    if (shaped.numElements() != perExample * examples
        || (classes != null && scores != null && classes.numElements() != scores.numElements())) {
      throw GrpcErrors.invalid("classify outputs have " + shaped.numElements() + " values for " + examples
          + " examples");
    }
    ClassificationResult.Builder b = ClassificationResult.newBuilder();
    for (int e = 0; e < examples; e++) {
      Classifications.Builder c = Classifications.newBuilder();
      for (int k = 0; k < perExample; k++) {
        int i = e * perExample + k;
        Class.Builder cls = Class.newBuilder();
        if (classes != null) {
          cls.setLabel(new String(classes.strings().get(i), StandardCharsets.UTF_8));
        }
        if (scores != null) {
          cls.setScore(scores.dtype() == DType.FLOAT32 ? scores.buffer().getFloat(i * 4)
              : (float) scores.buffer().getDouble(i * 8));
        }
        c.addClasses(cls);
      }
      b.addClassifications(c);
    }
    return b.build();
  }

  /** One value per example, from the signature's one output "outputs". */
  static RegressionResult regression(Outputs outputs, int examples) {
    Tensor t = outputs.get("outputs");
    if (t == null || outputs.size() != 1) {
      throw GrpcErrors.invalid("a regress signature needs exactly one output \"outputs\", has " + outputs.names());
    }
    if (t.numElements() != examples) {
      throw GrpcErrors.invalid("regress output has " + t.numElements() + " values for " + examples + " examples");
    }
    RegressionResult.Builder b = RegressionResult.newBuilder();
    for (int i = 0; i < examples; i++) {
      float v = switch (t.dtype()) {
        case FLOAT32 -> t.buffer().getFloat(i * 4);
        case FLOAT64 -> (float) t.buffer().getDouble(i * 8);
        default -> throw GrpcErrors.invalid("regress output must be float, is " + t.dtype().tfName());
      };
      b.addRegressions(Regression.newBuilder().setValue(v));
    }
    return b.build();
  }

  // ---- GetModelMetadata ----

  @Override
  public void getModelMetadata(GetModelMetadataRequest request, StreamObserver<GetModelMetadataResponse> observer) {
    GrpcInference.handle(observer, () -> metadata(request));
  }

  private CompletableFuture<GetModelMetadataResponse> metadata(GetModelMetadataRequest request) {
    ModelSpec spec = request.getModelSpec();
    String model = spec.getName();
    GrpcInference.requireModelName(model);
    VersionSelector version = selector(spec);
    if (request.getMetadataFieldCount() == 0) {
      throw GrpcErrors.invalid("GetModelMetadataRequest must specify at least one metadata_field");
    }
    for (String field : request.getMetadataFieldList()) {
      if (!field.equals(SIGNATURE_DEF)) {
        throw GrpcErrors.invalid("Metadata field " + field + " is not supported (only " + SIGNATURE_DEF + ")");
      }
    }
    Failure unroutable = inference.router().unroutable(inference.router().snapshot(), model,
        "Servable not found for request: " + version.describe(model));
    if (unroutable != null) {
      throw GrpcErrors.of(unroutable.code(), unroutable.message());
    }
    return inference.router().<MetadataReply>ask(model, replyTo -> new GetMetadata(model, version, replyTo),
            inference.gateway().controlTimeout(), f -> f)
        .toCompletableFuture()
        .thenApply(reply -> {
          if (reply instanceof Failure f) {
            throw GrpcErrors.of(f.code(), f.message());
          }
          ModelMetadata md = (ModelMetadata) reply;
          return GetModelMetadataResponse.newBuilder()
              .setModelSpec(ModelSpec.newBuilder().setName(model).setVersion(Int64Value.of(md.version())))
              .putMetadata(SIGNATURE_DEF, Any.pack(signatureDefMap(md)))
              .build();
        });
  }

  /** TF Serving's {@code SignatureDefMap} from the signatures a replica reports. */
  static dev.shardserve.gateway.proto.tfserving.SignatureDefMap signatureDefMap(ModelMetadata md) {
    dev.shardserve.gateway.proto.tfserving.SignatureDefMap.Builder map =
        dev.shardserve.gateway.proto.tfserving.SignatureDefMap.newBuilder();
    for (Map.Entry<String, SignatureInfo> s : new TreeMap<>(md.signatures()).entrySet()) {
      SignatureDef.Builder def = SignatureDef.newBuilder().setMethodName(s.getValue().methodName());
      s.getValue().inputs().forEach((alias, info) -> def.putInputs(alias, tensorInfo(info)));
      s.getValue().outputs().forEach((alias, info) -> def.putOutputs(alias, tensorInfo(info)));
      map.putSignatureDef(s.getKey(), def.build());
    }
    return map.build();
  }

  private static org.tensorflow.proto.TensorInfo tensorInfo(TensorInfo info) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder().setUnknownRank(info.unknownRank());
    for (long d : info.shape()) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    DataType dtype;
    try {
      dtype = DataType.valueOf(info.dtype());
    } catch (IllegalArgumentException e) {
      dtype = DataType.DT_INVALID;
    }
    return org.tensorflow.proto.TensorInfo.newBuilder().setName(info.name()).setDtype(dtype).setTensorShape(shape)
        .build();
  }

  // ---- model spec ----

  static VersionSelector selector(ModelSpec spec) {
    return GrpcInference.selector(spec.hasVersion() ? spec.getVersion().getValue() : null,
        spec.getVersionChoiceCase() == ModelSpec.VersionChoiceCase.VERSION_LABEL ? spec.getVersionLabel() : null);
  }

  static String signature(ModelSpec spec) {
    return spec.getSignatureName().isEmpty() ? ModelProtocol.DEFAULT_SIGNATURE : spec.getSignatureName();
  }

  /** The model spec of an answer: the name, the version that answered, the signature. */
  static ModelSpec answered(String model, String signature, long version) {
    ModelSpec.Builder b = ModelSpec.newBuilder().setName(model).setSignatureName(signature);
    if (version >= 0) {
      b.setVersion(Int64Value.of(version));
    }
    return b.build();
  }
}

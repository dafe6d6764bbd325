package dev.shardserve.gateway.kserve;

import dev.shardserve.protocol.ErrorCode;
import dev.shardserve.protocol.ModelProtocol;
import dev.shardserve.protocol.ModelProtocol.ModelMetadata;
import dev.shardserve.protocol.ModelProtocol.SignatureInfo;
import dev.shardserve.protocol.ModelProtocol.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A model's v2 metadata ({@code $metadata_model_response}): name, the versions a request may
 * name, platform {@code tensorflow_savedmodel}, and one signature's inputs and outputs with v2
 * datatypes and shapes (-1 for an unknown dimension; an input of unknown rank shows as
 * {@code [-1]}). Built from the replica's {@link ModelMetadata}; shared by REST and gRPC.
 */
public record V2ModelMetadata(String name, List<String> versions, String platform, String signature,
    List<Tensor> inputs, List<Tensor> outputs) {

  public static final String PLATFORM = "tensorflow_savedmodel";

  /** One input or output: its alias, v2 datatype and shape. */
  public record Tensor(String name, String datatype, long[] shape) {}

  /**
   * The metadata of {@code signature} (null: {@code serving_default}, or the model's only
   * signature when it has no {@code serving_default}); a 400 listing the signatures when it has
   * no such one.
   */
  public static V2ModelMetadata of(String model, ModelMetadata md, String signature, List<String> versions) {
    String chosen = choose(md.signatures(), signature);
    SignatureInfo info = md.signatures().get(chosen);
    return new V2ModelMetadata(model, versions, PLATFORM, chosen, tensors(info.inputs()), tensors(info.outputs()));
  }

  private static String choose(Map<String, SignatureInfo> signatures, String requested) {
    if (requested != null) {
      if (!signatures.containsKey(requested)) {
        throw new V2Exception(ErrorCode.SIGNATURE_NOT_FOUND, "signature '" + requested + "' not found; the model has "
            + new TreeSet<>(signatures.keySet()));
      }
      return requested;
    }
    if (signatures.containsKey(ModelProtocol.DEFAULT_SIGNATURE)) {
      return ModelProtocol.DEFAULT_SIGNATURE;
    }
    List<String> callable = new ArrayList<>();
    for (String s : new TreeSet<>(signatures.keySet())) {
      if (!s.startsWith("__")) {
        callable.add(s);
      }
    }
    if (callable.size() == 1) {
      return callable.get(0);
    }
    throw new V2Exception(ErrorCode.SIGNATURE_NOT_FOUND, "the model has no signature '"
        + ModelProtocol.DEFAULT_SIGNATURE + "'; name one with ?" + V2Calls.SIGNATURE_NAME + "= (it has " + callable
        + ")");
  }

  private static List<Tensor> tensors(Map<String, TensorInfo> infos) {
    List<Tensor> out = new ArrayList<>();
    for (Map.Entry<String, TensorInfo> e : new TreeMap<>(infos).entrySet()) {
      TensorInfo t = e.getValue();
      out.add(new Tensor(e.getKey(), V2Datatypes.nameOfTf(t.dtype()), t.unknownRank() ? new long[] {-1} : t.shape()));
    }
    return out;
  }
}

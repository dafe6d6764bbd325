package dev.shardserve.gateway.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Outputs;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.util.Map;

/**
 * The predict body codec the gateway runs, callable on its own: decoding a TF Serving predict
 * body into tensors and writing {@code {"predictions": ...}}. Public for the benchmarks in
 * {@code perf/} (JMH, and the report's share of JSON work), which must measure this exact code.
 */
public final class PredictJson {
  private PredictJson() {}

  /** The inputs of a predict body (row or columnar format); a bad body throws {@link IllegalArgumentException}. */
  public static Map<String, Tensor> decode(byte[] body) throws IOException {
    try (JsonParser p = RequestJson.FACTORY.createParser(body)) {
      return PredictRequest.parse(p).inputs();
    } catch (BadRequest e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * The inputs of a predict body decoded straight into {@code types} (alias to dtype) by the fast
   * path, or null when the body is not of its simple numeric form (the gateway then runs
   * {@link #decode}).
   */
  public static Map<String, Tensor> decodeFast(byte[] body, Map<String, DType> types) {
    PredictRequest r = FastPredictDecoder.decode(body, signature -> types);
    return r == null ? null : r.inputs();
  }

  /** The row-format answer for these outputs. */
  public static byte[] encodePredictions(Map<String, Tensor> outputs) {
    return ResponseWriter.predictions(Outputs.of(outputs));
  }
}

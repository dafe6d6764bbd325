package dev.shardserve.perf.jmh;

import com.dslplatform.json.DslJson;
import com.dslplatform.json.JsonReader;
import com.dslplatform.json.NumberConverter;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.gateway.tfserving.PredictJson;
import dev.shardserve.protocol.DType;
import dev.shardserve.protocol.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decoding one 784-float predict row printed with 4 decimals (as the suite's bodies are), into a
 * FLOAT32 tensor, five ways: the gateway's fast path (its own scan, straight into the dtype), its
 * full decoder (Jackson streaming into INT64/FLOAT64, then the node's conversion), Jackson's
 * streaming parser with its fast double parser written straight into floats (the best a library
 * tokenizer does here), DSL-JSON 2.0.2's number reader the same way, and a Jackson tree parse
 * (what a hand-written server does). The README quotes the result: it is why the fast path is
 * our own code.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecoderBench {
  private static final ObjectMapper TREE = new ObjectMapper();
  private static final JsonFactory JACKSON = JsonFactory.builder()
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER).build();
  private static final DslJson<Object> DSL = new DslJson<>();
  private static final Map<String, DType> FLOAT32 = Map.of("x", DType.FLOAT32);

  byte[] body;

  /** The suite's body of one row: {@code {"instances": [[0.1234, ...]]}}, 784 floats with 4 decimals. */
  public static byte[] row784(long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder("{\"instances\": [[");
    for (int i = 0; i < 784; i++) {
      sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.4f", r.nextFloat()));
    }
    return sb.append("]]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  @Setup
  public void setup() {
    body = row784(7);
  }

  @Benchmark
  public Map<String, Tensor> fastPath() {
    return PredictJson.decodeFast(body, FLOAT32);
  }

  @Benchmark
  public Map<String, Tensor> fullDecoder() throws IOException {
    return PredictJson.decode(body);
  }

  @Benchmark
  public float[] jacksonStreamingFloats() throws IOException {
    float[] out = new float[784];
    int n = 0;
    try (JsonParser p = JACKSON.createParser(body)) {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
          out[n++] = (float) p.getDoubleValue();
        }
      }
    }
    return out;
  }

  @Benchmark
  public float[] dslJsonFloats() throws IOException {
    float[] out = new float[784];
    JsonReader<Object> r = DSL.newReader(body);
    r.getNextToken(); // {
    r.getNextToken(); // "instances"
    r.fillName();
    r.getNextToken(); // [
    r.getNextToken(); // [
    int n = 0;
    r.getNextToken();
    out[n++] = (float) NumberConverter.deserializeDouble(r);
    while (r.getNextToken() == ',') {
      r.getNextToken();
      out[n++] = (float) NumberConverter.deserializeDouble(r);
    }
    return out;
  }

  @Benchmark
  public float[] jacksonTree() throws IOException {
    JsonNode row = TREE.readTree(body).get("instances").get(0);
    float[] x = new float[row.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) row.get(i).asDouble();
    }
    return x;
  }
}

package dev.shardserve.perf.jmh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shardserve.gateway.tfserving.PredictJson;
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
 * The gateway's predict codec on one 784-float instance (an MNIST-sized row): decoding straight
 * into a primitive tensor, against a generic Jackson tree parse of the same body (what a
 * hand-written server does); and writing 784 floats back as {@code {"predictions": ...}}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class JsonCodecBench {
  private static final ObjectMapper JACKSON = new ObjectMapper();

  byte[] body;
  Map<String, Tensor> outputs;

  @Setup
  public void setup() {
    Random r = new Random(7);
    float[] values = new float[784];
    StringBuilder sb = new StringBuilder("{\"instances\": [[");
    for (int i = 0; i < values.length; i++) {
      values[i] = r.nextFloat();
      sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", values[i]));
    }
    body = sb.append("]]}").toString().getBytes(StandardCharsets.UTF_8);
    outputs = Map.of("y", Tensor.ofFloats(new long[] {1, 784}, values));
  }

  @Benchmark
  public Map<String, Tensor> decodeShardserve() throws IOException {
    return PredictJson.decode(body);
  }

  @Benchmark
  public float[] decodeJacksonTree() throws IOException {
    JsonNode row = JACKSON.readTree(body).get("instances").get(0);
    float[] x = new float[row.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) row.get(i).asDouble();
    }
    return x;
  }

  @Benchmark
  public byte[] encodeShardserve() {
    return PredictJson.encodePredictions(outputs);
  }
}

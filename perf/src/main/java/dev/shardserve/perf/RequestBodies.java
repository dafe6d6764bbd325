package dev.shardserve.perf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A predict body for any model a TF Serving-compatible server serves, built from its metadata
 * ({@code GET /v1/models/{m}/metadata}): {@code rows} instances of fixed pseudo-random numbers
 * shaped as the signature's inputs (unknown dimensions other than the batch become 1).
 */
final class RequestBodies {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RequestBodies() {}

  static byte[] fromMetadata(URI base, String model, String signature, int rows) throws IOException,
      InterruptedException {
    URI uri = base.resolve("/v1/models/" + model + "/metadata");
    HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
        .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("GET " + uri + " answered " + r.statusCode() + ": " + r.body());
    }
    return fromMetadata(JSON.readTree(r.body()), signature, rows);
  }

  /** The body for {@code metadata} (TF Serving's GetModelMetadata JSON). */
  static byte[] fromMetadata(JsonNode metadata, String signature, int rows) throws IOException {
    JsonNode sig = metadata.path("metadata").path("signature_def").path("signature_def").path(signature);
    if (sig.isMissingNode()) {
      throw new IOException("the model has no signature '" + signature + "': pass --body FILE");
    }
    JsonNode inputs = sig.path("inputs");
    Random random = new Random(7);
    StringBuilder sb = new StringBuilder("{\"signature_name\": ").append(JSON.writeValueAsString(signature))
        .append(", \"instances\": [");
    for (int row = 0; row < rows; row++) {
      sb.append(row > 0 ? "," : "");
      if (inputs.size() == 1) {
        Map.Entry<String, JsonNode> only = inputs.fields().next();
        value(sb, only.getKey(), only.getValue(), random);
        continue;
      }
      sb.append('{');
      boolean first = true;
      for (Iterator<Map.Entry<String, JsonNode>> it = inputs.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        sb.append(first ? "" : ",").append(JSON.writeValueAsString(e.getKey())).append(':');
        value(sb, e.getKey(), e.getValue(), random);
        first = false;
      }
      sb.append('}');
    }
    return sb.append("]}").toString().getBytes(StandardCharsets.UTF_8);
  }

  /** One instance of one input: its dimensions after the batch dimension, filled with numbers. */
  private static void value(StringBuilder sb, String name, JsonNode info, Random random) throws IOException {
    String dtype = info.path("dtype").asText();
    boolean integer = dtype.matches("DT_U?INT(8|16|32|64)");
    if (!integer && !dtype.equals("DT_FLOAT") && !dtype.equals("DT_DOUBLE") && !dtype.equals("DT_HALF")) {
      throw new IOException("input '" + name + "' is " + dtype + ": only numeric inputs can be generated; "
          + "pass --body FILE");
    }
    JsonNode dims = info.path("tensor_shape").path("dim");
    int[] shape = new int[Math.max(0, dims.size() - 1)];
    for (int i = 1; i < dims.size(); i++) {
      long d = dims.get(i).path("size").asLong(-1);
      shape[i - 1] = d > 0 ? (int) d : 1;
    }
    nested(sb, shape, 0, integer, random);
  }

  private static void nested(StringBuilder sb, int[] shape, int dim, boolean integer, Random random) {
    if (dim == shape.length) {
      sb.append(integer ? Integer.toString(random.nextInt(10)) : String.format(Locale.ROOT, "%.3f",
          random.nextFloat()));
      return;
    }
    sb.append('[');
    for (int i = 0; i < shape[dim]; i++) {
      sb.append(i > 0 ? "," : "");
      nested(sb, shape, dim + 1, integer, random);
    }
    sb.append(']');
  }
}

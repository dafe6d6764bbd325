package dev.shardserve.perf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;

/**
 * What the clients send: a model, an API ({@link #V1}, {@link #V2_JSON}, {@link #V2_BINARY}) and
 * a body of {@code rows} rows. Every API carries the same numbers: {@code rows} rows of
 * {@code width} fixed pseudo-random floats printed with 4 decimals (width 0: scalars); the binary
 * body holds those printed values as float32.
 *
 * @param headers extra request header lines, each ending in CRLF
 */
record Workload(String model, String api, int rows, byte[] body, String headers) {
  static final String V1 = "v1";
  static final String V2_JSON = "v2 JSON";
  static final String V2_BINARY = "v2 binary";

  /** TF Serving's row format: {@code {"instances": [...]}}. */
  static Workload rows(String model, int rows, int width, long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder("{\"instances\": [");
    for (int row = 0; row < rows; row++) {
      sb.append(row > 0 ? "," : "");
      if (width == 0) {
        sb.append(String.format(Locale.ROOT, "%.3f", r.nextFloat() * 10));
        continue;
      }
      sb.append('[');
      for (int i = 0; i < width; i++) {
        sb.append(i > 0 ? "," : "").append(value(r));
      }
      sb.append(']');
    }
    return new Workload(model, V1, rows, sb.append("]}").toString().getBytes(StandardCharsets.UTF_8),
        "Content-Type: application/json\r\n");
  }

  private static String value(Random r) {
    return String.format(Locale.ROOT, "%.4f", r.nextFloat());
  }

  /**
   * An Open Inference Protocol request in JSON as Triton's Python client writes it with
   * {@code binary_data=False} (compact JSON, flat data) and asks for output {@code output} in
   * JSON; the same numbers as {@link #rows}. Triton's client sends no Content-Type.
   */
  static Workload v2Json(String model, String input, String output, int rows, int width, long seed) {
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder("{\"inputs\":[{\"name\":\"").append(input).append("\",\"shape\":[")
        .append(rows).append(',').append(width).append("],\"datatype\":\"FP32\",\"data\":[");
    for (int i = 0; i < rows * width; i++) {
      sb.append(i > 0 ? "," : "").append(value(r));
    }
    sb.append("]}],\"outputs\":[{\"name\":\"").append(output).append("\",\"parameters\":{\"binary_data\":false}}]}");
    return new Workload(model, V2_JSON, rows, sb.toString().getBytes(StandardCharsets.UTF_8), "");
  }

  /**
   * An Open Inference Protocol request with binary tensor data, byte for byte as Triton's Python
   * client builds it with {@code binary_data=True} and no requested outputs: the compact JSON with
   * {@code binary_data_size} and {@code binary_data_output}, then the little-endian floats, the
   * Inference-Header-Content-Length header and no Content-Type. The same numbers as {@link #rows}.
   */
  static Workload v2Binary(String model, String input, int rows, int width, long seed) {
    Random r = new Random(seed);
    ByteBuffer data = ByteBuffer.allocate(rows * width * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < rows * width; i++) {
      data.putFloat(Float.parseFloat(value(r)));
    }
    byte[] json = ("{\"inputs\":[{\"name\":\"" + input + "\",\"shape\":[" + rows + "," + width + "],\"datatype\":"
        + "\"FP32\",\"parameters\":{\"binary_data_size\":" + data.capacity() + "}}],\"parameters\":"
        + "{\"binary_data_output\":true}}").getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(json);
    body.writeBytes(data.array());
    return new Workload(model, V2_BINARY, rows, body.toByteArray(), "Inference-Header-Content-Length: "
        + json.length + "\r\n");
  }

  RawHttp.Request request() {
    String path = api.equals(V1) ? "/v1/models/" + model + ":predict" : "/v2/models/" + model + "/infer";
    return new RawHttp.Request("POST", path, body, headers);
  }

  String label() {
    return model + (api.equals(V1) ? "" : ", " + api) + (rows == 1 ? "" : " (" + rows + " rows per request)");
  }
}

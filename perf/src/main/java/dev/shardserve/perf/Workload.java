package dev.shardserve.perf;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Random;

/** What the clients send: a model and a predict body of {@code rows} rows. */
record Workload(String model, int rows, byte[] body) {
  /**
   * {@code {"instances": [...]}}: {@code rows} rows of {@code width} fixed pseudo-random floats
   * printed with 4 decimals (width 0: scalars).
   */
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
        sb.append(i > 0 ? "," : "").append(String.format(Locale.ROOT, "%.4f", r.nextFloat()));
      }
      sb.append(']');
    }
    return new Workload(model, rows, sb.append("]}").toString().getBytes(StandardCharsets.UTF_8));
  }

  RawHttp.Request request() {
    return RawHttp.Request.predict(model, body);
  }

  String label() {
    return model + (rows == 1 ? "" : " (" + rows + " rows per request)");
  }
}

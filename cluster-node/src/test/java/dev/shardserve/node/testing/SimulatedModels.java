package dev.shardserve.node.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes simulated models ({@code simulated.json} version folders) for tests. */
public final class SimulatedModels {
  private SimulatedModels() {}

  /** Input {@code x} of shape [-1, width] (DT_FLOAT), output {@code y} a copy of it. */
  public static Path write(Path versionDir, int width, long batchLatencyMicros, long rowLatencyMicros,
      int maxBatchSize, int concurrency) {
    return writeJson(versionDir, "{\"inputs\": {\"x\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1, " + width + "]}},\n"
        + " \"outputs\": {\"y\": {\"dtype\": \"DT_FLOAT\", \"shape\": [-1, " + width + "], \"from\": \"x\"}},\n"
        + " \"batch_latency_us\": " + batchLatencyMicros + ", \"row_latency_us\": " + rowLatencyMicros
        + ", \"max_batch_size\": " + maxBatchSize + ", \"concurrency\": " + concurrency + "}\n");
  }

  public static Path writeJson(Path versionDir, String json) {
    try {
      Files.createDirectories(versionDir);
      Files.writeString(versionDir.resolve("simulated.json"), json);
      return versionDir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

package dev.shardserve.node;

import com.typesafe.config.Config;
import dev.shardserve.node.runtime.SessionSettings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A worker node's settings, read once from {@code shardserve.node} and validated with messages
 * that name the key and the value.
 */
public record NodeSettings(
    Path modelRepository,
    SessionSettings session,
    int maxPendingWhileLoading,
    long maxPendingBytesWhileLoading,
    long maxExamplesBytes,
    Duration loadRetryMin,
    Duration loadRetryMax,
    Duration pollInterval,
    int syntheticWarmupRuns,
    int cpuSlots,
    int gpus,
    long gpuMemoryMiB) {

  public NodeSettings {
    if (maxPendingWhileLoading < 1) {
      throw new IllegalArgumentException("shardserve.node.max-pending-while-loading must be >= 1, was "
          + maxPendingWhileLoading);
    }
    if (maxPendingBytesWhileLoading < 1) {
      throw new IllegalArgumentException("shardserve.node.max-pending-bytes-while-loading must be >= 1, was "
          + maxPendingBytesWhileLoading);
    }
    if (maxExamplesBytes < 1024) {
      throw new IllegalArgumentException("shardserve.node.max-examples-bytes must be >= 1 KiB, was "
          + maxExamplesBytes);
    }
    if (loadRetryMin.isNegative() || loadRetryMin.isZero() || loadRetryMax.compareTo(loadRetryMin) < 0) {
      throw new IllegalArgumentException("shardserve.node.load-retry: need 0 < min <= max, was min=" + loadRetryMin
          + " max=" + loadRetryMax);
    }
    if (pollInterval.isNegative() || pollInterval.isZero()) {
      throw new IllegalArgumentException("shardserve.node.repository-poll-interval must be > 0, was "
          + pollInterval);
    }
    if (cpuSlots < 1 || gpus < 0 || gpuMemoryMiB < 0) {
      throw new IllegalArgumentException("shardserve.node.capacity: need cpu-slots >= 1 (0 = runtime threads), "
          + "gpus >= 0, gpu-memory >= 0; was " + cpuSlots + ", " + gpus + ", " + gpuMemoryMiB + " MiB");
    }
    if (syntheticWarmupRuns < 0) {
      throw new IllegalArgumentException("shardserve.node.warmup.synthetic-runs must be >= 0, was "
          + syntheticWarmupRuns);
    }
  }

  /** The same settings with {@code s} as the session settings (the node adds its simulated accelerators). */
  public NodeSettings withSession(SessionSettings s) {
    return new NodeSettings(modelRepository, s, maxPendingWhileLoading, maxPendingBytesWhileLoading, maxExamplesBytes,
        loadRetryMin, loadRetryMax, pollInterval, syntheticWarmupRuns, cpuSlots, gpus, gpuMemoryMiB);
  }

  public static NodeSettings fromConfig(Config root) {
    Config c = root.getConfig("shardserve.node");
    return new NodeSettings(
        Path.of(c.getString("model-repository")),
        SessionSettings.fromConfig(c.getConfig("tensorflow")).withGpus(c.getInt("capacity.gpus")),
        c.getInt("max-pending-while-loading"),
        c.getBytes("max-pending-bytes-while-loading"),
        c.getBytes("max-examples-bytes"),
        c.getDuration("load-retry.min-backoff"),
        c.getDuration("load-retry.max-backoff"),
        c.getDuration("repository-poll-interval"),
        c.getInt("warmup.synthetic-runs"),
        cpuSlots(c),
        c.getInt("capacity.gpus"),
        c.getBytes("capacity.gpu-memory") / (1024 * 1024));
  }

  private static int cpuSlots(Config c) {
    int slots = c.getInt("capacity.cpu-slots");
    if (slots > 0) {
      return slots;
    }
    int threads = c.getInt("runtime-threads");
    return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
  }
}

package dev.shardserve.metrics;

import com.typesafe.config.Config;

/**
 * {@code shardserve.metrics}: the metrics listener's interface and port, and what the registry
 * records. Built once per process; each value is checked with a message naming its key.
 *
 * @param host interface of the metrics listener ({@code host})
 * @param port its port: 0 picks a free one, -1 turns the listener off ({@code port})
 * @param nativeHistograms histograms are native as well as classic ({@code native-histograms})
 * @param maxModels distinct model names with their own series; beyond, requests count under
 *     {@code model=""} ({@code max-models})
 * @param endedVersionsKept versions in state END whose state series are kept per model
 *     ({@code ended-versions-kept})
 */
public record MetricsSettings(String host, int port, boolean nativeHistograms, int maxModels,
    int endedVersionsKept) {
  public static final MetricsSettings DEFAULT = new MetricsSettings("0.0.0.0", 8503, false, 1000, 5);

  public MetricsSettings {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("shardserve.metrics.host must not be empty, was '" + host + "'");
    }
    if (port < -1 || port > 65535) {
      throw new IllegalArgumentException("shardserve.metrics.port must be -1 (off) or 0-65535, was " + port);
    }
    if (maxModels < 1) {
      throw new IllegalArgumentException("shardserve.metrics.max-models must be >= 1, was " + maxModels);
    }
    if (endedVersionsKept < 0) {
      throw new IllegalArgumentException(
          "shardserve.metrics.ended-versions-kept must be >= 0, was " + endedVersionsKept);
    }
  }

  /** Reads the {@code shardserve.metrics} section. */
  public static MetricsSettings fromConfig(Config metrics) {
    return new MetricsSettings(metrics.getString("host"), metrics.getInt("port"),
        metrics.getBoolean("native-histograms"), metrics.getInt("max-models"), metrics.getInt("ended-versions-kept"));
  }

  /** True when the process serves GET /metrics. */
  public boolean listenerEnabled() {
    return port >= 0;
  }

  public MetricsSettings withPort(int newPort) {
    return new MetricsSettings(host, newPort, nativeHistograms, maxModels, endedVersionsKept);
  }
}

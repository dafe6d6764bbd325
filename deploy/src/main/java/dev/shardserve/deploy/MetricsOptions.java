package dev.shardserve.deploy;

import java.util.Map;
import picocli.CommandLine.Option;

/** The metrics listener (GET /metrics for Prometheus), on every process. */
final class MetricsOptions {
  @Option(names = "--metrics-port", defaultValue = "${env:SHARDSERVE_METRICS_PORT:-8503}",
      description = "Metrics listener port: GET /metrics (env SHARDSERVE_METRICS_PORT; default ${DEFAULT-VALUE}; "
          + "0 picks a free one, -1 turns it off).")
  int metricsPort;

  @Option(names = "--metrics-host", defaultValue = "${env:SHARDSERVE_METRICS_HOST:-0.0.0.0}",
      description = "Interface the metrics listener binds (env SHARDSERVE_METRICS_HOST; default ${DEFAULT-VALUE}).")
  String metricsHost;

  /** Throws IllegalArgumentException naming the bad option. */
  Map<String, Object> config() {
    if (metricsPort < -1 || metricsPort > 65535) {
      throw new IllegalArgumentException("--metrics-port must be -1 (off) or 0-65535, was " + metricsPort);
    }
    if (metricsHost == null || metricsHost.isBlank()) {
      throw new IllegalArgumentException("--metrics-host must not be empty");
    }
    return Map.of("shardserve.metrics.port", metricsPort, "shardserve.metrics.host", metricsHost);
  }
}

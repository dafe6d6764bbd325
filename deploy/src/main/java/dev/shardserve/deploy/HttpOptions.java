package dev.shardserve.deploy;

import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the processes that serve the inference HTTP API. */
final class HttpOptions {
  @Option(names = "--port", defaultValue = "${env:SHARDSERVE_PORT:-8501}",
      description = "Inference HTTP port (env SHARDSERVE_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "${env:SHARDSERVE_HOST:-0.0.0.0}",
      description = "Interface the inference listener binds (env SHARDSERVE_HOST; default ${DEFAULT-VALUE}).")
  String host;

  Map<String, Object> config() {
    return Map.of("shardserve.gateway.host", host, "shardserve.gateway.port", port);
  }
}

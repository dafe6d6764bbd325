package dev.shardserve.deploy;

import dev.shardserve.desired.ModelConfigFile;
import dev.shardserve.desired.RepositoryRoots;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options of the processes that serve the inference HTTP API and the cluster-wide admin API. */
final class HttpOptions {
  @Option(names = "--port", defaultValue = "${env:SHARDSERVE_PORT:-8501}",
      description = "Inference HTTP port (env SHARDSERVE_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--host", defaultValue = "${env:SHARDSERVE_HOST:-0.0.0.0}",
      description = "Interface the inference listener binds (env SHARDSERVE_HOST; default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--admin-port", defaultValue = "${env:SHARDSERVE_ADMIN_PORT:-8502}",
      description = "Admin API port (env SHARDSERVE_ADMIN_PORT; default ${DEFAULT-VALUE}; 0 picks a free one).")
  int adminPort;

  @Option(names = "--admin-host", defaultValue = "${env:SHARDSERVE_ADMIN_HOST:-127.0.0.1}",
      description = "Interface the admin listener binds (env SHARDSERVE_ADMIN_HOST; default ${DEFAULT-VALUE}: "
          + "loopback only, the admin API changes what the cluster serves).")
  String adminHost;

  @Option(names = "--model-config", paramLabel = "FILE", defaultValue = "${env:SHARDSERVE_MODEL_CONFIG}",
      description = "Model config file: HOCON/JSON (README) or TF Serving's model_config_list text. Seeds the "
          + "desired state at first start; POST /admin/reload-config applies it again (env SHARDSERVE_MODEL_CONFIG). "
          + "Without it, TF Serving's MODEL_NAME / MODEL_BASE_PATH are honoured when set.")
  Path modelConfig;

  /**
   * Reads the config file once, so that a bad one (or a base_path outside {@code roots}) stops the
   * start with its error; throws IllegalArgumentException.
   */
  void validate(RepositoryRoots roots) {
    if (modelConfig != null) {
      try {
        roots.confine(ModelConfigFile.read(modelConfig));
      } catch (IllegalArgumentException e) {
        throw e.getMessage().startsWith("model config file") ? e
            : new IllegalArgumentException("model config file " + modelConfig + ": " + e.getMessage(), e);
      }
    }
    if (adminPort < 0 || adminPort > 65535) {
      throw new IllegalArgumentException("--admin-port must be 0-65535, was " + adminPort);
    }
  }

  Map<String, Object> config() {
    Map<String, Object> c = new HashMap<>();
    c.put("shardserve.gateway.host", host);
    c.put("shardserve.gateway.port", port);
    c.put("shardserve.gateway.admin-host", adminHost);
    c.put("shardserve.gateway.admin-port", adminPort);
    if (modelConfig != null) {
      c.put("shardserve.model-config", modelConfig.toAbsolutePath().toString());
    }
    return c;
  }
}
